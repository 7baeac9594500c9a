#if canImport(Glibc)
import Glibc
#endif
import CKernels

/// The BERT encoder forward pass (transformers' BertModel without the pooler), int8 or fp32 per
/// layer as stored. All buffers come from the arena, planned in `RunState.plan`.
final class Encoder {
    let config: ModelConfig
    let weights: Weights
    let state: RunState
    let linear: LinearRunner
    let pool: ThreadPool
    let kernel: UnsafePointer<ek_kernel>
    private let linearTask: LinearTask
    private let attentionTask: AttentionTask
    private let rowTask = RowPassTask()
    /// Calibration only (the converter): sees every dense layer's input.
    var observer: ActivationObserver?
    /// Attention in int8 (ek_attention_head_i8) in layers whose query and key are int8; false: fp32 everywhere.
    var int8Attention = true

    init(config: ModelConfig, weights: Weights, state: RunState, kernel: UnsafePointer<ek_kernel>, pool: ThreadPool) {
        self.config = config
        self.weights = weights
        self.state = state
        self.kernel = kernel
        self.linear = LinearRunner(kernel: kernel)
        self.pool = pool
        linearTask = LinearTask(runner: linear, state: state)
        attentionTask = AttentionTask(config: config, state: state)
        attentionTask.level = kernel.pointee.level
        rowTask.level = kernel.pointee.level
    }

    /// Runs the batch's tokens through the embeddings and the first `layers` encoder layers.
    /// Every operation is per row except attention, which stays inside each sequence, so a text
    /// gives the same result alone or in a batch. The result is left in `state.x`: [rows][H].
    func forward(_ batch: PackedBatch, layers: Int) {
        forward(batch, layers: layers) { _, _ in }
    }

    /// The same, calling `each(l, x)` with the hidden states [rows][H] after the embeddings (l = 0)
    /// and after every layer l: for tools that follow the drift layer by layer.
    func forward(_ batch: PackedBatch, layers: Int, each: (Int, UnsafePointer<Float>) -> Void) {
        let n = batch.rows
        attentionTask.batch = batch
        defer { attentionTask.batch = nil }
        embed(batch, next: layers > 0 ? weights.layers[0] : nil)
        each(0, state.x)
        for l in 0..<layers {
            layer(weights.layers[l], index: l, n: n, next: l + 1 < layers ? weights.layers[l + 1] : nil)
            each(l + 1, state.x)
        }
    }

    /// x[t] = word[id] + position[t within its sequence] + type[0], then LayerNorm (and quantised
    /// for the first layer).   x: [n][H]
    private func embed(_ batch: PackedBatch, next: LayerWeights?) {
        let H = config.hidden, n = batch.rows, ids = batch.ids
        let x = state.x
        let typ = weights.tokenTypeEmbeddings
        for s in 0..<batch.count {
            let start = Int(batch.starts[s])
            for p in 0..<Int(batch.lengths[s]) {
                let t = start + p
                let id = Int(ids[t])
                weights.wordRows.use(row: id)
                let row = x + t * H
                let pos = weights.positionEmbeddings + p * H
                if let scales = weights.wordScales {
                    let q = weights.wordEmbeddings.assumingMemoryBound(to: Int8.self) + id * H
                    ek_embed_row_at(kernel.pointee.level, q, scales[id], nil, pos, typ, row, Int32(H))
                } else {
                    let w = weights.wordEmbeddings.assumingMemoryBound(to: Float.self) + id * H
                    ek_embed_row_at(kernel.pointee.level, nil, 0, w, pos, typ, row, Int32(H))
                }
            }
        }
        layerNorm(x, n: n, weights.embeddingNorm, quantizeFor: next?.query, next?.key, next?.value)
    }

    /// Where rows read by `a` (and `b`, `c`, which share its input) go quantised: the shared int8
    /// buffer with the smoothing of the first int8 one; nil when none is int8.
    private func target(_ k: Int, _ a: Linear?, _ b: Linear? = nil, _ c: Linear? = nil) -> ek_quantize_to? {
        let user = a?.isInt8 == true ? a : (b?.isInt8 == true ? b : (c?.isInt8 == true ? c : nil))
        guard let user else { return nil }
        return ek_quantize_to(q: state.xq, scales: state.xs, mins: state.xmin, sm: user.smooth, ldq: Int64(state.ldq),
                              kp: Int32(roundUp(k, 4)), unsigned_a: kernel.pointee.unsigned_a)
    }

    /// Quantises rows [n][k] of `src` into the shared int8 buffer when a layer reading it is int8.
    private func quantize(_ src: UnsafePointer<Float>, n: Int, k: Int, for a: Linear) {
        guard let t = target(k, a) else { return }
        rows(.quantize, UnsafeMutablePointer(mutating: src), n: n, cols: k, to: t)
    }

    /// A row-by-row pass over x [n][cols] (ld = cols), split over the pool when there are enough rows.
    private func rows(_ kind: RowPassTask.Kind, _ x: UnsafeMutablePointer<Float>, n: Int, cols: Int, to: ek_quantize_to?,
                      norm: LayerNormWeights? = nil) {
        rowTask.kind = kind
        rowTask.x = x
        rowTask.ld = cols
        rowTask.cols = cols
        rowTask.to = to
        if let norm {
            rowTask.gamma = norm.gamma
            rowTask.beta = norm.beta
            rowTask.eps = config.layerNormEps
        }
        // below 32 rows a pass takes a few microseconds: not worth waking the other threads
        if n < 32 { rowTask.run(0..<n, thread: 0) } else { pool.run(rowTask, over: 0..<n) }
    }

    /// LayerNorm of x [n][H] in place, each row then quantised for the layers named (if int8).
    private func layerNorm(_ x: UnsafeMutablePointer<Float>, n: Int, _ norm: LayerNormWeights, quantizeFor a: Linear?,
                           _ b: Linear? = nil, _ c: Linear? = nil) {
        rows(.layerNorm, x, n: n, cols: config.hidden, to: target(config.hidden, a, b, c), norm: norm)
    }

    private func run(_ layer: Linear, n: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                     residual: UnsafePointer<Float>?) {
        let t = linearTask
        t.layer = layer
        t.m = n
        t.x = x
        t.y = y
        t.residual = residual
        pool.run(t, over: 0..<layer.panels)
    }

    /// One BertLayer: self-attention, output dense + residual + LayerNorm, FFN + residual + LayerNorm.
    /// x arrives normalised and, for int8 query/key/value, already quantised; it leaves quantised
    /// for `next`.
    private func layer(_ w: LayerWeights, index: Int, n: Int, next: LayerWeights?) {
        let H = config.hidden, I = config.intermediate
        let x = state.x  // [n][H]
        observer?.observe(x, rows: n, cols: H, site: .attentionInput, layer: index)
        run(w.query, n: n, x: x, y: state.q, residual: nil)  // [n][H]
        run(w.key, n: n, x: x, y: state.k, residual: nil)    // [n][H]
        run(w.value, n: n, x: x, y: state.v, residual: nil)  // [n][H]
        attention(n: n, int8: int8Attention && w.query.isInt8 && w.key.isInt8)  // ctx [n][H]
        observer?.observe(state.ctx, rows: n, cols: H, site: .context, layer: index)
        quantize(state.ctx, n: n, k: H, for: w.attentionOutput)
        run(w.attentionOutput, n: n, x: state.ctx, y: x, residual: x)
        layerNorm(x, n: n, w.attentionNorm, quantizeFor: w.intermediate)
        observer?.observe(x, rows: n, cols: H, site: .ffnInput, layer: index)
        run(w.intermediate, n: n, x: x, y: state.inter, residual: nil)  // [n][I]
        if config.activation == .gelu {
            rows(.gelu, state.inter, n: n, cols: I, to: target(I, w.output))
        } else {
            ek_activation(state.inter, Int64(n * I), Int32(config.activation.rawValue))
            quantize(state.inter, n: n, k: I, for: w.output)
        }
        observer?.observe(state.inter, rows: n, cols: I, site: .ffnHidden, layer: index)
        run(w.output, n: n, x: state.inter, y: x, residual: x)
        layerNorm(x, n: n, w.outputNorm, quantizeFor: next?.query, next?.key, next?.value)
    }

    /// Multi-head self-attention over n tokens (no padding inside one sequence):
    /// ctx[i, h] = softmax_j(q[i, h] . k[j, h] / sqrt(d)) v[j, h]     q, k, v, ctx: [n][H]
    private func attention(n: Int, int8: Bool) {
        attentionTask.kernel = int8 ? kernel : nil
        pool.run(attentionTask, over: 0..<((attentionTask.batch?.count ?? 0) * config.heads))
    }
}

/// One dense layer over a range of output panels.
final class LinearTask: ParallelTask, @unchecked Sendable {
    let runner: LinearRunner
    let state: RunState
    var layer: Linear?
    var m = 0
    var x: UnsafePointer<Float>?
    var y: UnsafeMutablePointer<Float>?
    var residual: UnsafePointer<Float>?

    init(runner: LinearRunner, state: RunState) {
        self.runner = runner
        self.state = state
    }

    /// Two panels: the widest block the GEMM kernels work in (AVX-512: 8 rows x 32 columns).
    override var grain: Int { 2 }

    override func run(_ range: Range<Int>, thread: Int) {
        guard let layer, let x, let y else { return }
        runner.run(layer, m: m, x: x, ldx: layer.k, xq: state.xq, ldq: state.ldq, xs: state.xs, xmin: state.xmin, y: y,
                   ldy: layer.n, residual: residual, panels: range)
    }
}

/// Self-attention over a range of (sequence, head) pairs: each thread has its own scratch in the arena.
final class AttentionTask: ParallelTask, @unchecked Sendable {
    let config: ModelConfig
    let state: RunState
    /// The batch of the forward pass under way.
    var batch: PackedBatch?
    /// The kernel path for int8 attention, or nil for fp32.
    var kernel: UnsafePointer<ek_kernel>?
    /// The vector level of the fp32 attention (the kernel path's).
    var level: Int32 = 0

    init(config: ModelConfig, state: RunState) {
        self.config = config
        self.state = state
    }

    override func run(_ items: Range<Int>, thread: Int) {
        guard let batch else { return }
        let H = config.hidden, d = config.headDim, heads = config.heads
        let scale = 1 / Float(d).squareRoot()
        let scratch = state.scores + thread * state.scoresStride
        for item in items {
            let s = item / heads, h = item % heads
            let n = Int(batch.lengths[s])
            let kt = scratch                                // [d][roundUp(n, 16)]
            let scores = scratch + d * roundUp(n, 16)       // [4][roundUp(n, 16)]
            let off = Int(batch.starts[s]) * H + h * d
            if let kernel {
                ek_attention_head_i8(kernel, state.q + off, state.k + off, state.v + off, Int64(H), Int32(n), Int32(d), scale,
                                     scratch, state.ctx + off, Int64(H))
                continue
            }
            ek_attention_head_at(level, state.q + off, state.k + off, state.v + off, Int64(H), Int32(n), Int32(d), scale, nil,
                              kt, scores, state.ctx + off, Int64(H))
        }
    }
}
