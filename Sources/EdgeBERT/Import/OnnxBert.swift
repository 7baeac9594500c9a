#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// BERT's parameters in a float ONNX export, found by following the graph from its inputs, and the
/// config the graph implies. torch's exporter names the MatMul weights anonymously
/// (`onnx::MatMul_470`) and stores them transposed ([in, out]): here each is recognised by where
/// it sits (the three projections of a layer's input are told apart by the attention product each
/// one reaches), and handed on under its Hugging Face name ([out, in]), so the converter treats an
/// ONNX file exactly like a safetensors checkpoint.
///
/// The graph must be the one `BertModel` exports (opset 17's LayerNormalization, or the
/// ReduceMean/Sub/Pow/Add/Sqrt/Div form older opsets write): embeddings gathered and summed, then
/// per layer Q/K/V MatMul+Add, Reshape/Transpose to heads, scaled scores plus the mask, Softmax,
/// the context, the output dense, residual Add and LayerNorm, then MatMul+Add, GELU (recognised by
/// evaluating its elementwise nodes), MatMul+Add, residual Add and LayerNorm. Anything else is
/// refused by name: `unsupported graph: ... (node X of type Y)`.
final class OnnxBert: CheckpointTensors {
    /// Where a BERT parameter's values come from.
    enum Source {
        /// An initializer or Constant value; `transposed`: stored [in, out], handed on [out, in].
        case tensor(OnnxModel.Tensor, transposed: Bool)
        /// Zeros (a token-type table the graph does not have: one row, as if every type were 0).
        case zeros
    }

    let model: OnnxModel
    /// Shapes the graph implies.
    private(set) var hidden = 0, heads = 0, layers = 0, intermediate = 0
    private(set) var vocabSize = 0, maxPositions = 0, typeVocabSize = 0
    /// The epsilon every LayerNorm uses.
    private(set) var layerNormEps: Float = 0
    private(set) var activation = Activation.gelu
    /// The pooling the graph computes after the encoder, when it computes one (else mean).
    private(set) var pooling = Pooling.mean
    /// True when the graph L2-normalises its pooled output; true too when the graph has no pooling
    /// at all (EdgeBERT's default for a model that says nothing).
    private(set) var normalize = true
    /// BERT parameter name (`encoder.layer.0.attention.self.query.weight`) to its shape and source.
    private(set) var parameters: [String: (shape: [Int], source: Source)] = [:]

    private var producer: [String: Int] = [:]
    private var readers: [String: [Int]] = [:]
    private var constants: [String: OnnxModel.Tensor] = [:]

    /// Follows `model`'s graph and maps it to BERT's parameters, or throws naming the node where
    /// the graph stops looking like BERT.
    init(model: OnnxModel) throws(EdgeBERTError) {
        self.model = model
        for (name, t) in model.initializers { constants[name] = t }
        for (i, n) in model.nodes.enumerated() {
            if let arity = Self.arity[n.opType], !arity.contains(n.inputs.count) {
                throw .data(model.path, "unsupported graph: \(n.inputs.count) inputs to a \(n.opType) (node \(n.label) of type \(n.opType))")
            }
            for o in n.outputs { producer[o] = i }
            for input in n.inputs where !input.isEmpty { readers[input, default: []].append(i) }
            if n.opType == "Constant", let o = n.outputs.first, let t = Self.constantValue(n) { constants[o] = t }
            // The exporter shares equal initializers through Identity nodes (sorted: input first).
            if n.opType == "Identity", let o = n.outputs.first, let t = constants[n.inputs.first ?? ""] { constants[o] = t }
        }
        try walk()
    }

    /// How many inputs the operators the walk indexes take (a hostile file may give others).
    static let arity: [String: ClosedRange<Int>] = [
        "Add": 2...2, "Sub": 2...2, "Mul": 2...2, "Div": 2...2, "Pow": 2...2, "MatMul": 2...2, "Gather": 2...2,
        "GatherElements": 2...2, "Reshape": 2...2, "Expand": 2...2, "LayerNormalization": 2...3, "Slice": 3...5,
        "Unsqueeze": 1...2, "Squeeze": 1...2, "Cast": 1...1, "Identity": 1...1, "Transpose": 1...1, "Softmax": 1...1,
        "Erf": 1...1, "Tanh": 1...1, "Sqrt": 1...1, "Relu": 1...1, "Sigmoid": 1...1, "Gelu": 1...1, "ReduceMean": 1...2,
        "ConstantOfShape": 1...1,
    ]

    // MARK: CheckpointTensors

    /// The ONNX file's path.
    var path: String { model.path }
    /// The ONNX file's size plus its external data.
    var fileSize: Int { model.totalBytes }
    /// Every parameter found, by name.
    var floatTensorShapes: [(name: String, shape: [Int])] { parameters.keys.sorted().map { ($0, parameters[$0]!.shape) } }
    /// True when the graph gave this parameter.
    func has(_ name: String) -> Bool { parameters[name] != nil }

    /// The parameter's values in Hugging Face's layout ([out, in] for dense weights).
    func floats(_ name: String) throws(EdgeBERTError) -> (shape: [Int], values: [Float]) {
        guard let p = parameters[name] else { throw .data(path, "the graph gives no \(name)") }
        switch p.source {
        case .zeros: return (p.shape, [Float](repeating: 0, count: checkedProduct(p.shape)))
        case .tensor(let t, let transposed):
            let v = try model.floats(t)
            guard transposed else { return (p.shape, v) }
            let n = p.shape[0], k = p.shape[1]  // stored [k][n]
            var out = [Float](repeating: 0, count: v.count)
            for i in 0..<k { for j in 0..<n { out[j * k + i] = v[i * n + j] } }
            return (p.shape, out)
        }
    }

    /// The first value that is not finite or is larger than `limit` in magnitude, as (index, value).
    func firstImplausibleValue(_ name: String, limit: Float) throws(EdgeBERTError) -> (Int, Float)? {
        let (_, v) = try floats(name)
        for (i, x) in v.enumerated() where !(abs(x) <= limit) { return (i, x) }
        return nil
    }

    // MARK: The walk

    private func unsupported(_ why: String, _ node: OnnxModel.Node) -> EdgeBERTError {
        .data(path, "unsupported graph: \(why) (node \(node.label) of type \(node.opType))")
    }

    private func node(_ i: Int) -> OnnxModel.Node { model.nodes[i] }

    /// The nodes reading `value`, Shape nodes left out (they only feed the graph's shape plumbing).
    private func consumers(_ value: String) -> [OnnxModel.Node] {
        (readers[value] ?? []).map(node).filter { $0.opType != "Shape" }
    }

    /// The one node reading `value`, which must be an `op` (any of `ops`).
    private func only(_ value: String, _ ops: Set<String>, _ context: String) throws(EdgeBERTError) -> OnnxModel.Node {
        let c = consumers(value)
        guard let n = c.first else {
            throw .data(path, "unsupported graph: nothing reads \(value) where \(context) should follow")
        }
        guard c.count == 1 else { throw unsupported("\(value) feeds \(c.count) nodes where \(context) should follow", c[1]) }
        guard ops.contains(n.opType) else { throw unsupported("expected \(context)", n) }
        return n
    }

    /// A float constant (initializer or Constant node) of rank `rank`, or nil.
    private func floatConstant(_ name: String, rank: Int) -> OnnxModel.Tensor? {
        guard let t = constants[name], t.dataType == OnnxModel.DataType.float.rawValue, t.dims.count == rank else { return nil }
        return t
    }

    /// A scalar (one-element) float constant's value.
    private func scalar(_ name: String) -> Float? {
        guard let t = constants[name], t.dataType == OnnxModel.DataType.float.rawValue, t.count == 1,
              let v = try? model.floats(t) else { return nil }
        return v.first
    }

    private func ints(_ name: String) -> [Int64]? {
        guard let t = constants[name] else { return nil }
        return try? model.int64s(t)
    }

    /// A Constant node's value: `value` (a tensor), or value_float / value_int / value_ints / value_floats.
    static func constantValue(_ n: OnnxModel.Node) -> OnnxModel.Tensor? {
        if let t = n.attributes["value"]?.t { return t }
        if let f = n.attributes["value_float"]?.f { return .init(name: "", dims: [], dataType: 1, floatData: [f]) }
        if let i = n.attributes["value_int"]?.i { return .init(name: "", dims: [], dataType: 7, int64Data: [i]) }
        if let a = n.attributes["value_ints"], !a.ints.isEmpty {
            return .init(name: "", dims: [a.ints.count], dataType: 7, int64Data: a.ints)
        }
        if let a = n.attributes["value_floats"], !a.floats.isEmpty {
            return .init(name: "", dims: [a.floats.count], dataType: 1, floatData: a.floats)
        }
        return nil
    }

    private func set(_ name: String, _ t: OnnxModel.Tensor, shape: [Int], transposed: Bool = false) {
        parameters[name] = (shape, .tensor(t, transposed: transposed))
    }

    private func walk() throws(EdgeBERTError) {
        guard let ids = model.inputs.first(where: { $0 == "input_ids" }) ?? model.inputs.first else {
            throw .data(path, "unsupported graph: no inputs (BERT reads input_ids)")
        }
        guard let wordIndex = (readers[ids] ?? []).first(where: {
            let n = node($0)
            return n.opType == "Gather" && n.inputs.count == 2 && n.inputs[1] == ids && floatConstant(n.inputs[0], rank: 2) != nil
        }) else {
            throw .data(path, "unsupported graph: no Gather of a float table by \(ids) (the word embeddings)")
        }
        let word = node(wordIndex)
        let wordTable = floatConstant(word.inputs[0], rank: 2)!
        vocabSize = wordTable.dims[0]
        hidden = wordTable.dims[1]
        guard vocabSize >= 1, hidden >= 1 else { throw unsupported("an empty word table (dims \(wordTable.dims))", word) }
        try checkAxis0(word)
        set("embeddings.word_embeddings.weight", wordTable, shape: wordTable.dims)

        // The sum of the word, position and token-type lookups, in whatever order.
        var sum = word.outputs[0]
        var lookups: [OnnxModel.Node] = []
        while true {
            let c = consumers(sum)
            guard c.count == 1, c[0].opType == "Add" else { break }
            let add = c[0]
            lookups += try tableLookups(add.inputs[0] == sum ? add.inputs[1] : add.inputs[0])
            sum = add.outputs[0]
        }
        var position: OnnxModel.Tensor? = nil, tokenType: OnnxModel.Tensor? = nil
        for g in lookups {
            let table = floatConstant(g.inputs[0], rank: 2)!
            guard table.dims[1] == hidden else { throw unsupported("embedding table \(g.inputs[0]) has dims \(table.dims), the word table \(wordTable.dims)", g) }
            if try isPositionLookup(g.inputs[1], g) {
                guard position == nil else { throw unsupported("two position tables", g) }
                position = table
            } else {
                guard tokenType == nil else { throw unsupported("two token-type tables", g) }
                tokenType = table
            }
        }
        guard let position else {
            throw .data(path, "unsupported graph: the embeddings have no position table (BERT adds absolute position embeddings)")
        }
        maxPositions = position.dims[0]
        set("embeddings.position_embeddings.weight", position, shape: position.dims)
        if let tokenType {
            typeVocabSize = tokenType.dims[0]
            set("embeddings.token_type_embeddings.weight", tokenType, shape: tokenType.dims)
        } else {
            typeVocabSize = 1
            parameters["embeddings.token_type_embeddings.weight"] = ([1, hidden], .zeros)
        }
        var h = try layerNorm(after: sum, "embeddings.LayerNorm")

        while let next = try encoderLayer(layers, input: h) {
            h = next
            layers += 1
        }
        guard layers > 0 else {
            let c = consumers(h)
            throw c.first.map { unsupported("no encoder layer after the embeddings (expected the query, key and value MatMuls)", $0) }
                ?? .data(path, "unsupported graph: no encoder layer after the embeddings")
        }
        detectPooling(after: h)
    }

    private func checkAxis0(_ gather: OnnxModel.Node) throws(EdgeBERTError) {
        if let axis = gather.attributes["axis"]?.i, axis != 0 { throw unsupported("a table lookup on axis \(axis)", gather) }
    }

    /// The table Gathers summed into `value` (a Gather, or an Add of them); at most 8, walked
    /// without recursion (a hostile file may nest a million Adds).
    private func tableLookups(_ value: String) throws(EdgeBERTError) -> [OnnxModel.Node] {
        var found: [OnnxModel.Node] = [], pending = [value]
        while let v = pending.popLast() {
            guard let p = producer[v] else {
                throw .data(path, "unsupported graph: \(v), not a table lookup, is added to the word embeddings")
            }
            let n = node(p)
            if n.opType == "Gather", n.inputs.count == 2, floatConstant(n.inputs[0], rank: 2) != nil {
                try checkAxis0(n)
                found.append(n)
            } else if n.opType == "Add", n.inputs.count == 2 {
                pending += n.inputs
            } else {
                throw unsupported("expected an embedding-table Gather in the embeddings' sum", n)
            }
            guard found.count + pending.count <= 8 else { throw unsupported("more than 8 terms in the embeddings' sum", n) }
        }
        return found
    }

    /// True when `indices` count 0, 1, 2... (positions), false when they are all 0 or come from a
    /// token-type input; traced back through Slice, Expand, Unsqueeze, Cast, Reshape, Identity, and
    /// through the data of a Gather or GatherElements (transformers' buffered token-type ids),
    /// after which only "all 0" can be told (a gather may reorder 0, 1, 2...).
    private func isPositionLookup(_ indices: String, _ gather: OnnxModel.Node) throws(EdgeBERTError) -> Bool {
        var v = indices
        var gathered = false
        for _ in 0..<32 {
            if model.inputs.contains(v) {
                if v.contains("position") { return true }
                if v.contains("token_type") || v.contains("segment") { return false }
                throw unsupported("a table looked up by graph input \(v) (neither position nor token-type ids)", gather)
            }
            if let values = ints(v) {
                if values.allSatisfy({ $0 == 0 }) { return false }
                if !gathered && values.enumerated().allSatisfy({ Int64($0.offset) == $0.element }) { return true }
                throw unsupported("a table looked up by constant indices that are neither 0, 1, 2... nor all 0", gather)
            }
            guard let p = producer[v] else { break }
            let n = node(p)
            switch n.opType {
            case "Slice":
                if n.inputs.count > 1, let starts = ints(n.inputs[1]), starts.allSatisfy({ $0 == 0 }) {} else {
                    throw unsupported("position ids sliced from a start that is not 0", n)
                }
                v = n.inputs[0]
            case "Expand", "Unsqueeze", "Squeeze", "Cast", "Reshape", "Identity": v = n.inputs[0]
            case "Gather", "GatherElements":
                gathered = true
                v = n.inputs[0]
            case "ConstantOfShape":
                if let t = n.attributes["value"]?.t, let z = try? model.int64s(t), z.contains(where: { $0 != 0 }) {
                    throw unsupported("token-type ids that are not 0", n)
                }
                return false
            case "Range": return true
            default: throw unsupported("cannot tell what the indices of embedding table \(gather.inputs[0]) are", n)
            }
        }
        throw unsupported("cannot tell what the indices of embedding table \(gather.inputs[0]) are", gather)
    }

    /// The LayerNorm reading `value` (one LayerNormalization node, or the decomposed form), its
    /// parameters stored as `name.weight` / `name.bias`; returns its output.
    private func layerNorm(after value: String, _ name: String) throws(EdgeBERTError) -> String {
        let c = consumers(value)
        guard let first = c.first else { throw .data(path, "unsupported graph: nothing reads \(value) where \(name) should follow") }
        let gamma: OnnxModel.Tensor, beta: OnnxModel.Tensor, eps: Float, out: String
        if c.count == 1 && first.opType == "LayerNormalization" {
            let n = first
            if let axis = n.attributes["axis"]?.i, axis != -1 && axis != 2 { throw unsupported("\(name) over axis \(axis)", n) }
            guard n.inputs.count == 3, let g = floatConstant(n.inputs[1], rank: 1), let b = floatConstant(n.inputs[2], rank: 1) else {
                throw unsupported("\(name) without a float scale and bias", n)
            }
            guard n.outputs.dropFirst().allSatisfy({ $0.isEmpty || consumers($0).isEmpty }) else {
                throw unsupported("\(name)'s mean or inverse deviation is used", n)
            }
            (gamma, beta, eps, out) = (g, b, n.attributes["epsilon"]?.f ?? 1e-5, n.outputs[0])
        } else if c.contains(where: { $0.opType == "ReduceMean" }) {
            (gamma, beta, eps, out) = try decomposedLayerNorm(value, name)
        } else {
            throw unsupported("expected \(name) (LayerNormalization)", c.first { $0.opType != "LayerNormalization" } ?? first)
        }
        guard gamma.dims == [hidden], beta.dims == [hidden] else {
            throw .data(path, "unsupported graph: \(name) has dims \(gamma.dims) and \(beta.dims), the hidden size is \(hidden)")
        }
        guard eps.isFinite, eps > 0 else { throw .data(path, "unsupported graph: \(name) has epsilon \(eps)") }
        if layerNormEps == 0 { layerNormEps = eps } else if eps != layerNormEps {
            throw .data(path, "unsupported graph: \(name) has epsilon \(eps), an earlier LayerNorm \(layerNormEps) (EdgeBERT uses one)")
        }
        set(name + ".weight", gamma, shape: [hidden])
        set(name + ".bias", beta, shape: [hidden])
        return out
    }

    /// x - mean(x) = d; d / sqrt(mean(d * d) + eps) * gamma + beta, as opsets before 17 export it.
    private func decomposedLayerNorm(_ x: String, _ name: String) throws(EdgeBERTError)
        -> (OnnxModel.Tensor, OnnxModel.Tensor, Float, String) {
        let c = consumers(x)
        guard c.count == 2, let mean = c.first(where: { $0.opType == "ReduceMean" }),
              let sub = c.first(where: { $0.opType == "Sub" }), sub.inputs == [x, mean.outputs[0]] else {
            throw unsupported("expected \(name) as ReduceMean and Sub", c.first { $0.opType != "ReduceMean" && $0.opType != "Sub" } ?? c[0])
        }
        try checkLastAxis(mean, name)
        let d = sub.outputs[0]
        let dc = consumers(d)
        guard dc.count == 2, let sq = dc.first(where: { $0.opType == "Pow" || $0.opType == "Mul" }),
              let div = dc.first(where: { $0.opType == "Div" }) else {
            throw unsupported("expected \(name)'s Pow and Div", dc.first ?? sub)
        }
        guard sq.opType == "Pow" ? scalar(sq.inputs[1]) == 2 : sq.inputs == [d, d] else { throw unsupported("\(name): not a square", sq) }
        let variance = try only(sq.outputs[0], ["ReduceMean"], "\(name)'s variance")
        try checkLastAxis(variance, name)
        let add = try only(variance.outputs[0], ["Add"], "\(name)'s epsilon")
        guard let eps = scalar(add.inputs[1]) ?? scalar(add.inputs[0]) else { throw unsupported("\(name)'s epsilon is not a constant", add) }
        let sqrt = try only(add.outputs[0], ["Sqrt"], "\(name)'s square root")
        guard div.inputs == [d, sqrt.outputs[0]] else { throw unsupported("\(name): not d / sqrt(variance + eps)", div) }
        let mul = try only(div.outputs[0], ["Mul"], "\(name)'s scale")
        let bias = try only(mul.outputs[0], ["Add"], "\(name)'s bias")
        let gName = mul.inputs[0] == div.outputs[0] ? mul.inputs[1] : mul.inputs[0]
        let bName = bias.inputs[0] == mul.outputs[0] ? bias.inputs[1] : bias.inputs[0]
        guard let g = floatConstant(gName, rank: 1), let b = floatConstant(bName, rank: 1) else {
            throw unsupported("\(name) without a float scale and bias", bias)
        }
        return (g, b, eps, bias.outputs[0])
    }

    private func checkLastAxis(_ reduce: OnnxModel.Node, _ name: String) throws(EdgeBERTError) {
        let axes = reduce.attributes["axes"]?.ints ?? (reduce.inputs.count > 1 ? ints(reduce.inputs[1]) ?? [] : [])
        guard axes == [-1] || axes == [2] else { throw unsupported("\(name) reduces axes \(axes), not the last", reduce) }
    }

    /// A dense layer: MatMul by a constant weight, then Add of a constant bias. Stores `name.weight`
    /// ([out, in]) and `name.bias`; returns the output and [out, in].
    private func dense(_ mm: OnnxModel.Node, _ name: String) throws(EdgeBERTError) -> (out: String, shape: [Int]) {
        guard mm.opType == "MatMul", mm.inputs.count == 2 else { throw unsupported("expected \(name) (MatMul)", mm) }
        let shape: [Int]
        if let w = floatConstant(mm.inputs[1], rank: 2) {
            shape = [w.dims[1], w.dims[0]]
            set(name + ".weight", w, shape: shape, transposed: true)
        } else if let p = producer[mm.inputs[1]], node(p).opType == "Transpose", let w = floatConstant(node(p).inputs[0], rank: 2),
                  (node(p).attributes["perm"]?.ints ?? [1, 0]) == [1, 0] {
            shape = w.dims
            set(name + ".weight", w, shape: shape)
        } else {
            throw unsupported("\(name)'s weight is not a float matrix in the file", mm)
        }
        let add = try only(mm.outputs[0], ["Add"], "\(name)'s bias")
        let biasName = add.inputs[0] == mm.outputs[0] ? add.inputs[1] : add.inputs[0]
        guard let b = floatConstant(biasName, rank: 1), b.dims == [shape[0]] else {
            throw unsupported("\(name)'s bias is not a float vector of \(shape[0])", add)
        }
        set(name + ".bias", b, shape: [shape[0]])
        return (add.outputs[0], shape)
    }

    private func isDense(_ n: OnnxModel.Node, input: String) -> Bool {
        guard n.opType == "MatMul", n.inputs.count == 2, n.inputs[0] == input else { return false }
        if floatConstant(n.inputs[1], rank: 2) != nil { return true }
        if let p = producer[n.inputs[1]], node(p).opType == "Transpose" { return floatConstant(node(p).inputs[0], rank: 2) != nil }
        return false
    }

    /// From a projection's output through Reshape (to heads) and Transpose nodes to the attention
    /// MatMul it reaches: that node, the input slot, and the head count the Reshape asks for.
    private func toAttentionProduct(_ value: String, _ name: String) throws(EdgeBERTError) -> (OnnxModel.Node, Int, Int?) {
        var v = value, heads: Int? = nil
        for _ in 0..<8 {
            let n = try only(v, ["Reshape", "Transpose", "MatMul"], "\(name)'s split into heads")
            switch n.opType {
            case "Reshape":
                // [batch, seq, heads, head size]; one of the last two may be -1 (inferred).
                let dims = shapeConstant(n.inputs[1])
                let H = Int64(hidden)
                guard dims.count == 4, var hd = dims.last, var hs = dims.dropLast().last,
                      (1...H).contains(hs) || (1...H).contains(hd) else {
                    throw unsupported("\(name) reshaped to \(dims), not [batch, seq, heads, head size]", n)
                }
                if hs == -1 && H % hd == 0 { hs = H / hd }
                if hd == -1 && H % hs == 0 { hd = H / hs }
                guard (1...H).contains(hs), (1...H).contains(hd), hs * hd == H else {
                    throw unsupported("\(name) reshaped to \(dims), not [batch, seq, heads, head size] with heads x head size = \(hidden)", n)
                }
                heads = Int(hs)
            case "Transpose": break
            default: return (n, n.inputs.firstIndex(of: v)!, heads)
            }
            v = n.outputs[0]
        }
        throw .data(path, "unsupported graph: \(name) does not reach an attention product")
    }

    /// The values a Reshape's shape input takes where they are constant (a constant, or a Concat
    /// of pieces some of which are constant); unknown pieces are -1.
    private func shapeConstant(_ name: String) -> [Int64] {
        if let v = ints(name) { return v }
        guard let p = producer[name], node(p).opType == "Concat" else { return [] }
        var out: [Int64] = []
        for piece in node(p).inputs {
            if let v = ints(piece) { out += v } else { out.append(-1) }
        }
        return out
    }

    /// One encoder layer reading `input`; nil when `input` does not start one (the encoder ended).
    private func encoderLayer(_ l: Int, input: String) throws(EdgeBERTError) -> String? {
        let p = "encoder.layer.\(l)."
        let readers = consumers(input)
        let projections = readers.filter { isDense($0, input: input) }
        if projections.isEmpty { return nil }
        guard projections.count == 3 else {
            throw unsupported("layer \(l): \(projections.count) projections of the hidden state, BERT's attention has 3 (query, key, value)", projections[0])
        }
        let residuals = readers.filter { $0.opType == "Add" }
        guard readers.count == 4, residuals.count == 1 else {
            throw unsupported("layer \(l): the hidden state feeds something besides the attention and the residual Add",
                              readers.first { !isDense($0, input: input) && $0.opType != "Add" } ?? readers[0])
        }
        // Which projection is which: the scores multiply query (slot 0) by key (slot 1); the
        // context multiplies the probabilities by value (slot 1).
        var reached: [(node: OnnxModel.Node, slot: Int, projection: Int)] = []
        for (i, mm) in projections.enumerated() {
            let (out, shape) = try dense(mm, p + "projection\(i)")
            guard shape == [hidden, hidden] else { throw unsupported("layer \(l): a projection of dims \(shape)", mm) }
            let (product, slot, hs) = try toAttentionProduct(out, "layer \(l) projection \(mm.label)")
            guard let hs else { throw unsupported("layer \(l): a projection never split into heads", product) }
            if heads == 0 { heads = hs } else if heads != hs {
                throw unsupported("layer \(l) has \(hs) heads, an earlier one \(heads)", product)
            }
            reached.append((product, slot, i))
        }
        let products = Dictionary(grouping: reached, by: { $0.node.outputs[0] })
        guard products.count == 2, let scores = products.values.first(where: { $0.count == 2 }),
              let context = products.values.first(where: { $0.count == 1 }),
              let q = scores.first(where: { $0.slot == 0 }), let k = scores.first(where: { $0.slot == 1 }),
              context[0].slot == 1 else {
            throw unsupported("layer \(l): query, key and value do not meet as scores = Q K^T and context = P V", reached[0].node)
        }
        for (entry, role) in [(q, "query"), (k, "key"), (context[0], "value")] {
            for part in ["weight", "bias"] {
                parameters[p + "attention.self.\(role).\(part)"] = parameters.removeValue(forKey: p + "projection\(entry.projection).\(part)")
            }
        }
        // scores / sqrt(head size) + mask -> Softmax -> the context product.
        let scale = try only(scores[0].node.outputs[0], ["Div", "Mul"], "layer \(l)'s attention scale")
        let headSize = Float(hidden / heads)
        guard let s = scalar(scale.inputs[1]),
              abs((scale.opType == "Div" ? s : 1 / s) - headSize.squareRoot()) <= 1e-3 * headSize.squareRoot() else {
            throw unsupported("layer \(l)'s attention scores are not scaled by 1/sqrt(\(Int(headSize)))", scale)
        }
        let mask = try only(scale.outputs[0], ["Add"], "layer \(l)'s attention mask")
        let softmax = try only(mask.outputs[0], ["Softmax"], "layer \(l)'s softmax")
        if let axis = softmax.attributes["axis"]?.i, axis != -1 && axis != 3 { throw unsupported("softmax over axis \(axis)", softmax) }
        guard softmax.outputs[0] == context[0].node.inputs[0] else {
            throw unsupported("layer \(l): the softmax does not feed the context product", context[0].node)
        }
        // Heads back together, then the output dense, the residual and the LayerNorm.
        var v = context[0].node.outputs[0]
        var n = try only(v, ["Transpose"], "layer \(l)'s context transpose")
        while n.opType != "MatMul" {
            v = n.outputs[0]
            n = try only(v, ["Transpose", "Reshape", "MatMul"], "layer \(l)'s attention output dense")
        }
        let (attnOut, oShape) = try dense(n, p + "attention.output.dense")
        guard oShape == [hidden, hidden] else { throw unsupported("layer \(l): attention output of dims \(oShape)", n) }
        let add1 = try only(attnOut, ["Add"], "layer \(l)'s attention residual")
        guard add1.inputs.contains(input), residuals[0].outputs[0] == add1.outputs[0] else {
            throw unsupported("layer \(l)'s attention residual does not add the layer's input", add1)
        }
        let h1 = try layerNorm(after: add1.outputs[0], p + "attention.output.LayerNorm")

        // Feed-forward: dense, activation, dense, residual, LayerNorm.
        let r1 = consumers(h1)
        guard r1.count == 2, let up = r1.first(where: { isDense($0, input: h1) }), let res2 = r1.first(where: { $0.opType == "Add" }) else {
            throw unsupported("layer \(l): expected the intermediate dense and the residual after the attention", r1.first ?? add1)
        }
        let (inter, iShape) = try dense(up, p + "intermediate.dense")
        guard iShape[1] == hidden, iShape[0] > 0 else { throw unsupported("layer \(l): intermediate dense of dims \(iShape)", up) }
        if intermediate == 0 { intermediate = iShape[0] } else if intermediate != iShape[0] {
            throw unsupported("layer \(l)'s intermediate size \(iShape[0]) differs from layer 0's \(intermediate)", up)
        }
        let (act, activated) = try activationFunction(after: inter, l)
        if l == 0 { activation = act } else if act != activation { throw .data(path, "unsupported graph: layer \(l) uses another activation") }
        let down = try only(activated, ["MatMul"], "layer \(l)'s output dense")
        let (ffnOut, dShape) = try dense(down, p + "output.dense")
        guard dShape == [hidden, intermediate] else { throw unsupported("layer \(l): output dense of dims \(dShape)", down) }
        let add2 = try only(ffnOut, ["Add"], "layer \(l)'s output residual")
        guard add2.inputs.contains(h1), add2.outputs[0] == res2.outputs[0] else {
            throw unsupported("layer \(l)'s output residual does not add the attention's output", add2)
        }
        return try layerNorm(after: add2.outputs[0], p + "output.LayerNorm")
    }

    /// The elementwise nodes between the intermediate dense and the output dense, recognised by
    /// evaluating them: the exact GELU (0.5 x (1 + erf(x / sqrt 2))), its tanh form, or ReLU.
    private func activationFunction(after value: String, _ l: Int) throws(EdgeBERTError) -> (Activation, String) {
        let elementwise: Set<String> = ["Add", "Sub", "Mul", "Div", "Erf", "Tanh", "Pow", "Sqrt", "Relu", "Sigmoid", "Gelu"]
        var region: Set<Int> = []
        var frontier = [value], outs: Set<String> = []
        while let v = frontier.popLast() {
            for i in readers[v] ?? [] {
                let n = node(i)
                if n.opType == "MatMul" { outs.insert(v); continue }
                guard elementwise.contains(n.opType), n.domain.isEmpty || n.domain == "ai.onnx" || n.domain == "com.microsoft" else {
                    throw unsupported("layer \(l)'s activation contains an operator EdgeBERT does not evaluate", n)
                }
                if region.insert(i).inserted {
                    guard region.count <= 16 else { throw unsupported("layer \(l)'s activation has more than 16 nodes", n) }
                    frontier += n.outputs
                }
            }
        }
        guard outs.count == 1, let out = outs.first else {
            throw .data(path, "unsupported graph: layer \(l)'s activation does not end in one value read by the output dense")
        }
        let order = region.sorted()
        func evaluate(_ x: Double) throws(EdgeBERTError) -> Double {
            var values: [String: Double] = [value: x]
            for i in order {
                let n = node(i)
                var args: [Double] = []
                for input in n.inputs {
                    if let a = values[input] { args.append(a) } else if let c = scalar(input) { args.append(Double(c)) } else {
                        throw unsupported("layer \(l)'s activation reads \(input), not a scalar constant", n)
                    }
                }
                let binary: Set<String> = ["Add", "Sub", "Mul", "Div", "Pow"]
                guard args.count == (binary.contains(n.opType) ? 2 : 1) else { throw unsupported("unexpected operand count", n) }
                let a = args[0], b = args.count > 1 ? args[1] : 0
                let r: Double = switch n.opType {
                case "Add": a + b
                case "Sub": a - b
                case "Mul": a * b
                case "Div": a / b
                case "Pow": pow(a, b)
                case "Erf": erf(a)
                case "Tanh": tanh(a)
                case "Sqrt": a.squareRoot()
                case "Relu": max(a, 0)
                case "Sigmoid": 1 / (1 + exp(-a))
                default: n.attributes["approximate"]?.s == "tanh" ? Self.geluTanh(a) : 0.5 * a * (1 + erf(a / 2.0.squareRoot()))
                }
                for o in n.outputs { values[o] = r }
            }
            return values[out] ?? .nan
        }
        let xs: [Double] = [-4, -2.5, -1, -0.3, 0, 0.2, 0.7, 1.5, 3]
        let ys = try xs.map { x throws(EdgeBERTError) in try evaluate(x) }
        func matches(_ f: (Double) -> Double) -> Bool { zip(xs, ys).allSatisfy { abs(f($0) - $1) <= 1e-5 * max(1, abs($0)) } }
        if matches({ 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }) { return (.gelu, out) }
        if matches(Self.geluTanh) { return (.geluTanh, out) }
        if matches({ max($0, 0) }) { return (.relu, out) }
        throw .data(path, "unsupported graph: layer \(l)'s activation (\(order.map { node($0).opType }.joined(separator: ", "))) is not GELU or ReLU")
    }

    private static func geluTanh(_ x: Double) -> Double {
        0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    /// What the graph does after the encoder: sums (mean pooling), max, and an L2 normalisation.
    private func detectPooling(after h: String) {
        var seen: Set<Int> = [], frontier = [h], ops: Set<String> = []
        while let v = frontier.popLast(), seen.count < 256 {
            for i in readers[v] ?? [] where seen.insert(i).inserted {
                ops.insert(node(i).opType)
                frontier += node(i).outputs
            }
        }
        ops.remove("Shape")
        guard !ops.isEmpty else { return }  // the graph ends with the hidden states
        if ops.contains("ReduceMax") { pooling = .max }
        else if ops.contains("ReduceSum") || ops.contains("ReduceMean") { pooling = .mean }
        normalize = ops.contains("LpNormalization") || ops.contains("ReduceL2") || ops.contains("Sqrt")
    }
}
