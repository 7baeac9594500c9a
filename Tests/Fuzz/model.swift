// libFuzzer harness `model`: the EdgeBERT model-file reader (Sources/EdgeBERT/Format/ModelReader.swift).
// The input is written to one temporary file per process and opened with ModelFile(path:); a file
// that opens is checksummed (verify) and its vocabulary and special tokens drive a tokenizer.
// Before writing, the harness recomputes the two CRC32Cs the format stores (header+table+vocabulary
// at byte 152, whole file at byte 12) so that mutations reach the parser instead of stopping at the
// checksum test; an input whose byte 20 (the unused flags) is 0xEE is written as it is, so the
// mismatch paths stay reachable.
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) let modelPath: String = {
    let dir = getenv("EDGEBERT_FUZZ_TMP").map { String(cString: $0) } ?? "/tmp"
    return "\(dir)/fuzz-model-\(getpid()).ebm"
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

/// The input with both CRCs made right, where the header says enough to compute them.
func withChecksums(_ input: [UInt8]) -> [UInt8] {
    var b = input
    guard b.count >= ModelHeader.size, b[20] != 0xEE else { return b }
    var dataOffset: UInt64 = 0
    for i in 0..<8 { dataOffset |= UInt64(b[136 + i]) << (8 * UInt64(i)) }
    if dataOffset >= UInt64(ModelHeader.size) && dataOffset <= UInt64(b.count) {
        let meta = b.withUnsafeBytes { ModelHeader.metaCRC($0, dataOffset: Int(dataOffset)) }
        putU32(&b, ModelHeader.metaChecksumOffset, meta)
    }
    let all = b.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[ModelHeader.checkedFrom...])) }
    putU32(&b, ModelHeader.checksumOffset, all)
    return b
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = withChecksums(Array(UnsafeBufferPointer(start: data, count: size)))
    bytes.withUnsafeBytes { writeInput(modelPath, $0) }
    guard let m = try? ModelFile(path: modelPath) else { return 0 }
    try? m.verify()
    let t = WordPieceTokenizer(vocab: m.vocab, options: m.config.tokenizer, special: m.config.special)
    _ = t.encode("Hello, world! unaffable 你好 [MASK] x", maxTokens: 16)
    return 0
}
