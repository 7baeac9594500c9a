import CKernels

/// The encoder's activation buffers, carved from one arena sized at load for a token budget of
/// T rows: up to `batch` sequences of up to `maxTokens` tokens each, packed one after another with
/// no padding, T tokens in all (T >= maxTokens, so one text of any allowed length always fits).
struct RunState: @unchecked Sendable {
    let maxTokens: Int
    let batch: Int
    /// T: the rows one forward pass may hold.
    let rows: Int
    let seqStart: UnsafeMutablePointer<Int32>  // [batch] first row of each sequence
    let seqLength: UnsafeMutablePointer<Int32> // [batch] its token count
    let x: UnsafeMutablePointer<Float>       // [T][H] hidden state
    let q: UnsafeMutablePointer<Float>       // [T][H]
    let k: UnsafeMutablePointer<Float>       // [T][H]
    let v: UnsafeMutablePointer<Float>       // [T][H]
    let ctx: UnsafeMutablePointer<Float>     // [T][H] attention context
    let inter: UnsafeMutablePointer<Float>   // [T][I] FFN hidden
    let xq: UnsafeMutablePointer<Int8>       // [T][ldq] quantised activations
    let xs: UnsafeMutablePointer<Float>      // [T] their scales
    let xmin: UnsafeMutablePointer<Float>    // [T] their minimums (the value q = -128 stands for)
    let ldq: Int                             // max(roundUp(H, 4), roundUp(I, 4))
    let scores: UnsafeMutablePointer<Float>  // [threads][scoresStride] attention scratch: fp32 keys transposed
                                             // [d][T16] + scores [4][T16] (T16 = maxTokens rounded up to 16),
                                             // or the int8 path's (ek_attention_i8_scratch)
    let scoresStride: Int
    let ids: UnsafeMutablePointer<Int32>     // [T] token ids

    /// Bytes the arena needs for these buffers: the layout below, run over no memory.
    static func plan(_ c: ModelConfig, maxTokens: Int, rows T: Int, batch: Int, threads: Int) -> Int {
        var sizing = ArenaLayout.sizing()
        _ = RunState(c, maxTokens: maxTokens, rows: T, batch: batch, threads: threads, layout: &sizing)
        return sizing.used
    }

    /// Floats of attention scratch per thread: the larger of the fp32 and the int8 path's needs,
    /// rounded to whole 64-byte lines.
    static func scratchFloats(_ c: ModelConfig, maxTokens: Int) -> Int {
        let f32 = (c.headDim + 4) * roundUp(maxTokens, 16)
        let i8 = Int(ek_attention_i8_scratch(Int32(maxTokens), Int32(c.headDim))) / 4
        return roundUp(max(f32, i8), 16)
    }

    /// The buffers, in order, from `layout` (sizing or carving an arena planned by `plan`).
    init(_ c: ModelConfig, maxTokens: Int, rows T: Int, batch: Int, threads: Int, layout arena: inout ArenaLayout) {
        precondition(T >= maxTokens)
        let H = c.hidden, I = c.intermediate
        self.maxTokens = maxTokens
        self.batch = batch
        rows = T
        ldq = max(roundUp(H, 4), roundUp(I, 4))
        scoresStride = Self.scratchFloats(c, maxTokens: maxTokens)
        x = arena.take(Float.self, T * H)
        q = arena.take(Float.self, T * H)
        k = arena.take(Float.self, T * H)
        v = arena.take(Float.self, T * H)
        ctx = arena.take(Float.self, T * H)
        inter = arena.take(Float.self, T * I)
        xq = arena.take(Int8.self, T * ldq)
        xs = arena.take(Float.self, T)
        xmin = arena.take(Float.self, T)
        scores = arena.take(Float.self, threads * scoresStride)
        ids = arena.take(Int32.self, T)
        seqStart = arena.take(Int32.self, batch)
        seqLength = arena.take(Int32.self, batch)
    }
}
