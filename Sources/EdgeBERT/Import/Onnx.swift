#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An ONNX model file (onnx.proto's ModelProto) read with `ProtoReader`: the graph's nodes,
/// initializers, inputs and outputs, and nothing else. The file is mapped, never copied; tensor
/// data stays a slice of it (raw_data) or of a mapped external-data file beside it.
///
/// What is checked on open, so that everything downstream can trust it: every node reads values
/// that a graph input, an initializer or an earlier-sorted node provides (a missing initializer is
/// an error naming it); no value has two producers; the nodes form no cycle; every initializer's
/// dims are non-negative, their product fits, and its data holds exactly that many elements;
/// external data lies inside the model's folder (no absolute path, no `..`, no symlink out) and
/// inside its file.
final class OnnxModel {
    /// TensorProto.DataType values EdgeBERT knows the width of.
    enum DataType: Int64 {
        case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, bool = 9
        case float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16

        /// Bytes per element.
        var width: Int {
            switch self {
            case .uint8, .int8, .bool: 1
            case .uint16, .int16, .float16, .bfloat16: 2
            case .float, .int32, .uint32: 4
            case .int64, .double, .uint64: 8
            }
        }
    }

    /// A TensorProto: an initializer, or a Constant node's value.
    struct Tensor {
        /// Its name (empty for most Constant values).
        var name: String
        /// Its shape (empty: a scalar).
        var dims: [Int]
        /// TensorProto.DataType as stored (see `DataType`).
        var dataType: Int64
        /// Little-endian elements: raw_data or external data, a slice of a mapped file.
        var raw: UnsafeRawBufferPointer?
        /// float_data, when the tensor keeps its values there.
        var floatData: [Float] = []
        /// int64_data, when the tensor keeps its values there.
        var int64Data: [Int64] = []
        /// Elements: the product of `dims` (checked to fit on read).
        var count: Int { checkedProduct(dims) }
    }

    /// An AttributeProto: the fields EdgeBERT reads.
    struct Attribute {
        var name = ""
        var f: Float?
        var i: Int64?
        var s: String?
        var t: Tensor?
        var floats: [Float] = []
        var ints: [Int64] = []
    }

    /// A NodeProto.
    struct Node {
        /// The node's name (may be empty).
        var name = ""
        /// The operator: MatMul, Add, LayerNormalization...
        var opType = ""
        /// The operator set's domain ("" and "ai.onnx" are the standard one).
        var domain = ""
        /// Value names read, in order ("" marks an omitted optional input).
        var inputs: [String] = []
        /// Value names written.
        var outputs: [String] = []
        /// Attributes by name.
        var attributes: [String: Attribute] = [:]
        /// How errors call it: `name` or, when unnamed, its first output.
        var label: String { name.isEmpty ? (outputs.first ?? "?") : name }
    }

    /// The path the model was read from.
    let path: String
    let file: MappedFile
    /// External data files, by the location their tensors name; kept mapped for the tensors' slices.
    private(set) var externalFiles: [String: MappedFile] = [:]
    /// ModelProto.ir_version, producer_name and producer_version.
    private(set) var irVersion: Int64 = 0
    private(set) var producer = ""
    /// The default domain's opset version (0 when the file names none).
    private(set) var opset: Int64 = 0
    /// The graph's nodes, topologically sorted (every node after the producers of its inputs).
    private(set) var nodes: [Node] = []
    /// Initializers by name.
    private(set) var initializers: [String: Tensor] = [:]
    /// The graph's inputs that are not initializers, in order.
    private(set) var inputs: [String] = []
    /// The graph's outputs, in order.
    private(set) var outputs: [String] = []

    /// The most nodes and initializers a graph may hold: far past any BERT export (BERT-large has
    /// about 2,500 nodes), low enough that a hostile count is refused before it costs memory.
    static let maxNodes = 1_000_000

    /// Reads and checks the model at `path`.
    init(path: String) throws(EdgeBERTError) {
        self.path = path
        file = try MappedFile(path: path)
        var model = try ProtoReader(file.bytes, what: path)
        var graph: ProtoReader? = nil
        while let (number, value) = try model.next() {
            switch number {
            case 1: irVersion = try ProtoReader.int64(value, what: path + ": ir_version")
            case 2: producer = try ProtoReader.string(value, what: path + ": producer_name")
            case 3: producer += " " + (try ProtoReader.string(value, what: path + ": producer_version"))
            case 7:
                guard graph == nil else { throw .data(path, "two graphs in one model: not an ONNX file") }
                graph = try model.nested(value, what: path + ": graph")
            case 8:
                var set = try model.nested(value, what: path + ": opset_import")
                var domain = "", version: Int64 = 0
                while let (n, v) = try set.next() {
                    if n == 1 { domain = try ProtoReader.string(v, what: set.what) }
                    if n == 2 { version = try ProtoReader.int64(v, what: set.what) }
                }
                if domain == "" || domain == "ai.onnx" { opset = version }
            default: continue
            }
        }
        guard var g = graph else { throw .data(path, "no graph: not an ONNX model file (or an empty one)") }
        try readGraph(&g)
        try checkAndSort()
    }

    private func readGraph(_ g: inout ProtoReader) throws(EdgeBERTError) {
        var declaredInputs: [String] = []
        while let (number, value) = try g.next() {
            switch number {
            case 1:
                guard nodes.count < Self.maxNodes else { throw .data(path, "more than \(Self.maxNodes) nodes: refused") }
                var r = try g.nested(value, what: "\(path): graph.node[\(nodes.count)]")
                nodes.append(try readNode(&r))
            case 5:
                guard initializers.count < Self.maxNodes else { throw .data(path, "more than \(Self.maxNodes) initializers: refused") }
                var r = try g.nested(value, what: "\(path): graph.initializer[\(initializers.count)]")
                let t = try readTensor(&r)
                guard !t.name.isEmpty else { throw .data(r.what, "an initializer without a name") }
                guard initializers[t.name] == nil else { throw .data(path, "initializer \(t.name) is defined twice") }
                initializers[t.name] = t
            case 11, 12:
                var r = try g.nested(value, what: "\(path): graph.\(number == 11 ? "input" : "output")")
                var name = ""
                while let (n, v) = try r.next() { if n == 1 { name = try ProtoReader.string(v, what: r.what) } }
                if number == 11 { declaredInputs.append(name) } else { outputs.append(name) }
            case 15: throw .data(path, "sparse initializers are not read: export the model with dense weights")
            default: continue
            }
        }
        inputs = declaredInputs.filter { initializers[$0] == nil }
    }

    private func readNode(_ r: inout ProtoReader) throws(EdgeBERTError) -> Node {
        var node = Node()
        while let (number, value) = try r.next() {
            switch number {
            case 1: node.inputs.append(try ProtoReader.string(value, what: r.what))
            case 2: node.outputs.append(try ProtoReader.string(value, what: r.what))
            case 3: node.name = try ProtoReader.string(value, what: r.what)
            case 4: node.opType = try ProtoReader.string(value, what: r.what)
            case 7: node.domain = try ProtoReader.string(value, what: r.what)
            case 5:
                var a = try r.nested(value, what: r.what + ".attribute")
                let attribute = try readAttribute(&a)
                node.attributes[attribute.name] = attribute
            default: continue
            }
        }
        return node
    }

    private func readAttribute(_ r: inout ProtoReader) throws(EdgeBERTError) -> Attribute {
        var a = Attribute()
        while let (number, value) = try r.next() {
            switch number {
            case 1: a.name = try ProtoReader.string(value, what: r.what)
            case 2: a.f = try ProtoReader.float(value, what: r.what)
            case 3: a.i = try ProtoReader.int64(value, what: r.what)
            case 4: a.s = try ProtoReader.string(value, what: r.what)
            case 5:
                var t = try r.nested(value, what: r.what + ".t")
                a.t = try readTensor(&t)
            case 7: try ProtoReader.appendFloats(value, to: &a.floats, what: r.what)
            case 8: try ProtoReader.appendInt64s(value, to: &a.ints, what: r.what)
            default: continue  // subgraphs, sparse tensors, strings: not read (their nodes are refused)
            }
        }
        return a
    }

    /// A TensorProto, its data resolved to bytes (raw_data, external) or values (float_data,
    /// int64_data) and its element count checked against the data.
    private func readTensor(_ r: inout ProtoReader) throws(EdgeBERTError) -> Tensor {
        var t = Tensor(name: "", dims: [], dataType: 0)
        var dims: [Int64] = []
        var external: [String: String] = [:]
        var externalLocation = false
        while let (number, value) = try r.next() {
            switch number {
            case 1: try ProtoReader.appendInt64s(value, to: &dims, what: r.what + ".dims")
            case 2: t.dataType = try ProtoReader.int64(value, what: r.what + ".data_type")
            case 4: try ProtoReader.appendFloats(value, to: &t.floatData, what: r.what + ".float_data")
            case 7: try ProtoReader.appendInt64s(value, to: &t.int64Data, what: r.what + ".int64_data")
            case 8: t.name = try ProtoReader.string(value, what: r.what + ".name")
            case 9:
                guard case .bytes(let b) = value else { throw .data(r.what, "raw_data is not bytes") }
                t.raw = b
            case 13:
                var e = try r.nested(value, what: r.what + ".external_data")
                var key = "", v = ""
                while let (n, x) = try e.next() {
                    if n == 1 { key = try ProtoReader.string(x, what: e.what) }
                    if n == 2 { v = try ProtoReader.string(x, what: e.what) }
                }
                external[key] = v
            case 14: externalLocation = try ProtoReader.int64(value, what: r.what + ".data_location") == 1
            case 3, 5, 6, 10, 11: throw .data(r.what, "tensor data in field \(number) (segments, int32, string, double or uint64 data) is not read")
            default: continue
            }
        }
        let label = t.name.isEmpty ? r.what : "\(path): tensor \(t.name)"
        guard dims.count <= 8 else { throw .data(label, "\(dims.count) dimensions: at most 8 are read") }
        guard dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else {
            throw .data(label, "dims \(dims) are negative or too large")
        }
        t.dims = dims.map { Int($0) }
        guard t.count >= 0 else { throw .data(label, "dims \(dims) hold more elements than memory can") }
        if externalLocation {
            guard t.raw == nil else { throw .data(label, "both raw_data and external data") }
            t.raw = try externalData(external, label: label)
        }
        let type = DataType(rawValue: t.dataType)
        if let raw = t.raw {
            guard let type else { throw .data(label, "data type \(t.dataType) is not one EdgeBERT reads") }
            let (bytes, overflow) = t.count.multipliedReportingOverflow(by: type.width)
            guard !overflow, bytes == raw.count else {
                throw .data(label, "\(raw.count) bytes of data for dims \(dims) of data type \(t.dataType): truncated or corrupt")
            }
        } else if !t.floatData.isEmpty || t.dataType == DataType.float.rawValue && t.int64Data.isEmpty {
            guard t.dataType == DataType.float.rawValue, t.floatData.count == t.count else {
                throw .data(label, "\(t.floatData.count) float values for dims \(dims) of data type \(t.dataType)")
            }
        } else if !t.int64Data.isEmpty || t.dataType == DataType.int64.rawValue {
            guard t.dataType == DataType.int64.rawValue, t.int64Data.count == t.count else {
                throw .data(label, "\(t.int64Data.count) int64 values for dims \(dims) of data type \(t.dataType)")
            }
        } else if t.count != 0 {
            throw .data(label, "no data for dims \(dims)")
        }
        return t
    }

    /// The bytes an `external_data` entry names: `location` relative to the model's folder and
    /// inside it (through symlinks too), `offset` and `length` decimal and inside that file.
    private func externalData(_ entries: [String: String], label: String) throws(EdgeBERTError) -> UnsafeRawBufferPointer {
        guard let location = entries["location"], !location.isEmpty else { throw .data(label, "external data without a location") }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains(".."), !location.contains("\0") else {
            throw .data(label, "external data location \"\(location)\" leaves the model's folder (absolute or with ..): refused")
        }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let full = (folder.isEmpty ? "" : folder + "/") + location
        guard let root = realPath(folder.isEmpty ? "/" : folder) else { throw .data(label, "cannot resolve the model's folder") }
        guard let real = realPath(full) else { throw .data(label, "external data file \(full) does not exist") }
        guard real.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw .data(label, "external data location \"\(location)\" leads outside the model's folder (through a symlink): refused")
        }
        let mapped: MappedFile
        if let m = externalFiles[real] { mapped = m } else {
            mapped = try MappedFile(path: full)
            externalFiles[real] = mapped
        }
        func number(_ key: String) throws(EdgeBERTError) -> Int? {
            guard let s = entries[key] else { return nil }
            guard !s.isEmpty, s.utf8.count <= 18, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let v = Int(s) else {
                throw .data(label, "external data \(key) \"\(s)\" is not a decimal byte count")
            }
            return v
        }
        let size = mapped.bytes.count
        let offset = try number("offset") ?? 0
        guard offset <= size else { throw .data(label, "external data offset \(offset) is past the end of \(full) (\(size) bytes)") }
        let length = try number("length") ?? (size - offset)
        guard length <= size - offset else {
            throw .data(label, "external data of \(length) bytes at offset \(offset) runs past the end of \(full) (\(size) bytes)")
        }
        return UnsafeRawBufferPointer(rebasing: mapped.bytes[offset..<(offset + length)])
    }

    /// Every input provided, one producer per value, no cycle; sorts the nodes (Kahn).
    private func checkAndSort() throws(EdgeBERTError) {
        var producer: [String: Int] = [:]
        for name in inputs { producer[name] = -1 }
        for name in initializers.keys { producer[name] = -1 }
        for (i, n) in nodes.enumerated() {
            guard let first = n.outputs.first, !first.isEmpty else {
                throw .data(path, "node \(n.label) of type \(n.opType) writes nothing: not a valid graph")
            }
            for o in n.outputs where !o.isEmpty {
                guard producer[o] == nil else {
                    throw .data(path, "value \(o) is written twice (node \(n.label) of type \(n.opType) writes it again)")
                }
                producer[o] = i
            }
        }
        var waiting = [Int](repeating: 0, count: nodes.count)
        var readers: [Int: [Int]] = [:]
        for (i, n) in nodes.enumerated() {
            for input in n.inputs where !input.isEmpty {
                guard let p = producer[input] else {
                    throw .data(path, "node \(n.label) of type \(n.opType) reads \(input), which no node, initializer or graph input provides (a missing initializer?)")
                }
                if p >= 0 { waiting[i] += 1; readers[p, default: []].append(i) }
            }
        }
        for o in outputs where producer[o] == nil {
            throw .data(path, "graph output \(o) is produced by no node")
        }
        var ready = (0..<nodes.count).filter { waiting[$0] == 0 }
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.popLast() {
            order.append(i)
            for j in readers[i] ?? [] {
                waiting[j] -= 1
                if waiting[j] == 0 { ready.append(j) }
            }
        }
        guard order.count == nodes.count else {
            let stuck = nodes[(0..<nodes.count).first { waiting[$0] > 0 }!]
            throw .data(path, "the graph has a cycle: node \(stuck.label) of type \(stuck.opType) depends on its own output")
        }
        // Stable: keep the file's order where it is already a valid one.
        if order != Array(0..<nodes.count) && !isSorted() { nodes = order.map { nodes[$0] } }
    }

    private func isSorted() -> Bool {
        var known = Set(inputs).union(initializers.keys)
        for n in nodes {
            for i in n.inputs where !i.isEmpty && !known.contains(i) { return false }
            known.formUnion(n.outputs)
        }
        return true
    }

    /// A tensor's elements as Float: FLOAT only (weights), raw or float_data.
    func floats(_ t: Tensor) throws(EdgeBERTError) -> [Float] {
        guard t.dataType == DataType.float.rawValue else {
            throw .data("\(path): tensor \(t.name)", "data type \(t.dataType) is not FLOAT (1): only float32 weights are read")
        }
        guard let raw = t.raw else { return t.floatData }
        return (0..<t.count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }

    /// A tensor's elements as Int64: INT64 or INT32 constants (shapes, axes, position ids).
    func int64s(_ t: Tensor) throws(EdgeBERTError) -> [Int64] {
        switch DataType(rawValue: t.dataType) {
        case .int64:
            guard let raw = t.raw else { return t.int64Data }
            return (0..<t.count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case .int32:
            guard let raw = t.raw else { return [] }
            return (0..<t.count).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        default:
            throw .data("\(path): tensor \(t.name)", "data type \(t.dataType) is not an integer type")
        }
    }

    /// The bytes of the model file and its external data files.
    var totalBytes: Int { externalFiles.values.reduce(file.bytes.count) { $0 + $1.bytes.count } }
}
