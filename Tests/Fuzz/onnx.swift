// libFuzzer harness `onnx`: the protobuf wire-format reader and the ONNX reader
// (Sources/EdgeBERT/Import/Protobuf.swift, Onnx.swift) and the BERT graph mapping (OnnxBert.swift).
// The input is written to one temporary .onnx file per process, opened as a model, mapped to BERT's
// parameters, and every parameter read as floats (transposed where the graph stores [in, out]).
// External data may name files beside it in the scratch folder; nothing outside is ever read.
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) let inputPath: String = {
    let dir = getenv("EDGEBERT_FUZZ_TMP").map { String(cString: $0) } ?? "/tmp"
    return "\(dir)/fuzz-onnx-\(getpid()).onnx"
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

/// Every field of every nested message, as deep as the reader allows: the raw wire format alone.
func walk(_ r: inout ProtoReader) {
    while let (_, value) = try? r.next() {  // nil at the end, or at the first error
        if case .bytes = value, var inner = try? r.nested(value, what: "fuzz") { walk(&inner) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if size > 0 {
        let bytes = UnsafeRawBufferPointer(start: data, count: size)
        if var r = try? ProtoReader(bytes, what: "fuzz") { walk(&r) }
    }
    writeInput(inputPath, data, size)
    guard let model = try? OnnxModel(path: inputPath) else { return 0 }
    for t in model.initializers.values {
        if t.dataType == OnnxModel.DataType.float.rawValue, let v = try? model.floats(t) {
            precondition(v.count == t.count, "tensor \(t.name): \(v.count) values for dims \(t.dims)")
        }
        _ = try? model.int64s(t)
    }
    guard let bert = try? OnnxBert(model: model) else { return 0 }
    for (name, shape) in bert.floatTensorShapes {
        if let (s, v) = try? bert.floats(name) {
            precondition(s == shape && v.count == checkedProduct(shape), "\(name): \(v.count) values for shape \(shape)")
        }
    }
    precondition(bert.layers >= 1 && bert.heads >= 1 && bert.hidden % bert.heads == 0, "an inconsistent config")
    return 0
}
