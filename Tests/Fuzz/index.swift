// libFuzzer harness `index`: the search index reader (Sources/EdgeBERT/Search/SearchIndex.swift,
// IndexLayout.swift). The input is written to one temporary file per process and opened with
// SearchIndex(path:); an index that opens is verified and searched (k = 1 and k = count) with a
// fixed query, and every hit's text read. Before writing, the harness makes right the CRCs the
// format stores (both commit slots over the fixed header, each segment header it can walk to) so
// mutations reach the parser; an input whose byte 44 (unused) is 0xEE is written as it is, so the
// mismatch paths stay reachable.
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) let indexPath: String = {
    let dir = getenv("EDGEBERT_FUZZ_TMP").map { String(cString: $0) } ?? "/tmp"
    return "\(dir)/fuzz-index-\(getpid()).idx"
}()

func writeInput(_ path: String, _ bytes: UnsafeRawBufferPointer) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(fd >= 0, "cannot create \(path)")
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 { if errno == EINTR { continue }; fatalError("cannot write \(path)") }
        done += n
    }
    close(fd)
}

func putU32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
}

func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    return v
}

/// The input with its slot and segment-header CRCs made right.
func withChecksums(_ input: [UInt8]) -> [UInt8] {
    var b = input
    guard b.count >= IndexLayout.headerBytes, b[44] != 0xEE else { return b }
    let header = b.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<IndexLayout.staticBytes])) }
    for at in IndexLayout.slotOffsets {
        let crc = b.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[at..<(at + 40)]), continuing: header) }
        putU32(&b, at + 40, crc)
    }
    var offset = IndexLayout.headerBytes
    for _ in 0..<64 {
        guard offset <= b.count - IndexLayout.segmentHeaderBytes else { break }
        let crc = b.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + 36)])) }
        putU32(&b, offset + 36, crc)
        let size = u64(b, offset + 24)
        guard size >= 64, size <= UInt64(b.count - offset) else { break }
        offset += Int(size)
    }
    return b
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = withChecksums(Array(UnsafeBufferPointer(start: data, count: size)))
    bytes.withUnsafeBytes { writeInput(indexPath, $0) }
    guard let index = try? SearchIndex(path: indexPath) else { return 0 }
    try? index.verify()
    let query = (0..<index.identity.dims).map { Float(($0 * 7) % 5) - 2 }
    for k in [1, index.count, 0, index.count + 1] {
        if let hits = try? query.withUnsafeBufferPointer({ try index.search($0, count: 1, k: k) }) {
            for h in hits[0] { _ = h.text.utf8.count + h.line }
        }
    }
    return 0
}
