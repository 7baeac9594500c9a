// libFuzzer harness `safetensors`: SafetensorsFile (Sources/EdgeBERT/Import/Safetensors.swift).
// The input is written to one temporary file per process, opened, and every tensor read as floats.
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) let inputPath: String = {
    let dir = getenv("EDGEBERT_FUZZ_TMP").map { String(cString: $0) } ?? "/tmp"
    return "\(dir)/fuzz-safetensors-\(getpid()).safetensors"
}()

func writeInput(_ path: String, _ data: UnsafePointer<UInt8>, _ size: Int) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(fd >= 0, "cannot create \(path)")
    var done = 0
    while done < size {
        let n = write(fd, data + done, size - done)
        if n < 0 { if errno == EINTR { continue }; fatalError("cannot write \(path)") }
        done += n
    }
    close(fd)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    writeInput(inputPath, data, size)
    guard let f = try? SafetensorsFile(path: inputPath) else { return 0 }
    for name in f.tensors.keys.sorted() {
        if let (shape, values) = try? f.floats(name) {
            precondition(values.count == checkedProduct(shape), "tensor \(name): \(values.count) values for shape \(shape)")
        }
    }
    return 0
}
