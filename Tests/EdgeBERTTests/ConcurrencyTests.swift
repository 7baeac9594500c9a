import Dispatch
import Foundation
import XCTest
@testable import EdgeBERT

/// Sharing and lifecycle: the shareable pool gives every caller the right vector, and threads
/// go away with their owners.
final class ConcurrencyTests: XCTestCase {
    /// Threads of this process (/proc/self/task).
    func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
    }

    func texts() -> [String] { Array(Fixtures.lines("corpus.txt").prefix(40)) }

    func testPoolGivesEveryConcurrentCallerItsOwnVector() throws {
        let m = Fixtures.tinyModels.int8
        let texts = (0..<200).map { "the man was here \($0) " + String(repeating: "he was ", count: $0 % 9) }
        let single = try Embedder(modelPath: m, options: { var o = Embedder.Options(); o.threads = 1; return o }())
        let expected = try texts.map { try single.embed($0) }
        let pool = try EmbedderPool(modelPath: m, capacity: 4)
        let results = Results<[Float]>(count: texts.count)
        DispatchQueue.concurrentPerform(iterations: texts.count) { i in
            results.set(i, try? pool.embed(texts[i]))
        }
        XCTAssertEqual(results.all(), expected.map { Optional($0) }, "every vector equals the lone Embedder's")
        XCTAssertLessThanOrEqual(pool.embeddersMade, 4)
        // Batches from several tasks at once, too.
        let batches = Results<[Float]>(count: 10)
        DispatchQueue.concurrentPerform(iterations: 10) { b in
            batches.set(b, try? pool.embed(Array(texts[(b * 20)..<(b * 20 + 20)])).flatMap { $0 })
        }
        var expectedBatches: [[Float]?] = []
        for b in 0..<10 {
            let flat: [Float] = expected[(b * 20)..<(b * 20 + 20)].flatMap { $0 }
            expectedBatches.append(flat)
        }
        XCTAssertEqual(batches.all(), expectedBatches)
    }

    func testThreadsAreJoinedWhenTheirOwnerGoes() throws {
        let before = threadCount()
        for _ in 0..<5 {
            var o = Embedder.Options()
            o.threads = 4
            let e = try Embedder(modelPath: Fixtures.tinyModels.int8, options: o)
            _ = try e.embed("the man was here")
            XCTAssertGreaterThanOrEqual(e.threads, 1)
        }
        XCTAssertEqual(threadCount(), before, "every worker joined after five Embedders")
        var o = Converter.Options()
        o.dtype = .i8
        try Converter.convert(hfDir: Fixtures.tinyModels.hf, outPath: TempDir.make("conv") + "/m.ebm", options: o)
        XCTAssertEqual(threadCount(), before, "a conversion leaves no thread behind")
        do {
            let pool = try EmbedderPool(modelPath: Fixtures.tinyModels.int8, options: { var x = Embedder.Options(); x.threads = 2; return x }())
            _ = try pool.embed("he was")
        }
        XCTAssertEqual(threadCount(), before, "a released pool leaves no thread behind")
    }

    /// Many more threads than cores: the pool keeps to the cores, and results do not change.
    func testThreadCountIsClampedToTheCores() throws {
        var o = Embedder.Options()
        o.threads = 256
        let e = try Embedder(modelPath: Fixtures.tinyModels.int8, options: o)
        XCTAssertEqual(e.threads, min(256, ProcessInfo.processInfo.activeProcessorCount))
        o.threads = 1
        XCTAssertEqual(try e.embed("the man was here"), try Embedder(modelPath: Fixtures.tinyModels.int8, options: o).embed("the man was here"))
    }
}

/// Results written by concurrent callers, one slot each.
final class Results<T: Sendable>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T?) { lock.lock(); slots[i] = v; lock.unlock() }
    func all() -> [T?] { lock.lock(); defer { lock.unlock() }; return slots }
}
