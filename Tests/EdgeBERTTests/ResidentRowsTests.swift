#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import EdgeBERT

/// The word-table budget: windows are counted once, a release happens past the budget, and the
/// bytes read after a release are the file's.
final class ResidentRowsTests: XCTestCase {
    func testReleasesPastTheBudgetAndRereadsTheSameBytes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resident-\(getpid()).bin").path
        defer { unlink(path) }
        let size = 1 << 20, rowBytes = 1024
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let file = try MappedFile(path: path)
        let window = max(Int(sysconf(Int32(_SC_PAGESIZE))), 1 << 16)
        let rows = ResidentRows(file: file, offset: 0, length: size, rowBytes: rowBytes, budgetBytes: 2 * window)
        let perWindow = window / rowBytes
        rows.use(row: 0)
        rows.use(row: 1)                  // same window: not counted again
        XCTAssertEqual(rows.touched, 1)
        rows.use(row: perWindow)          // a second window: at the budget
        XCTAssertEqual(rows.touched, 2)
        rows.use(row: 3 * perWindow)      // a third: past it, everything released, this one counted
        XCTAssertEqual(rows.touched, 1)
        for row in [0, 1, perWindow, 3 * perWindow, 15 * perWindow - 1] {  // refaulted from the page cache
            let got = Array(file.bytes[(row * rowBytes)..<((row + 1) * rowBytes)])
            XCTAssertEqual(got, Array(bytes[(row * rowBytes)..<((row + 1) * rowBytes)]), "row \(row)")
        }
    }
}
