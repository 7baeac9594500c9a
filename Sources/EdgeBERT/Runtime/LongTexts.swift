/// What an `Embedder` does with a text longer than its max length.
public enum LongTexts: String, Sendable, CaseIterable {
    /// Cut at the max length, [SEP] kept (Hugging Face's truncation).
    case truncate
    /// Windows of the max length, each with its own [CLS] and [SEP], consecutive windows sharing
    /// `stride` tokens; the embedding is the token-weighted mean of the windows' pooled vectors,
    /// then finished (projection, dims, normalisation) as any embedding. A text that fits is
    /// embedded exactly as with `truncate`.
    case window
}

extension Embedder {
    /// The tokens of `text` without [CLS]/[SEP], uncut. A token covers at least one byte of the
    /// text, so bytes + 2 bounds the count.
    func fullBody(_ text: String) -> [Int32] {
        let ids = tokenizer.encode(text, maxTokens: text.utf8.count + 2)
        return Array(ids.dropFirst().dropLast())
    }

    /// Caller-given ids without a leading [CLS] and a trailing [SEP] (the windows add their own).
    func tokenBody(_ ids: [Int32]) -> [Int32] {
        var body = ids[...]
        if body.first == Int32(config.special.cls) { body = body.dropFirst() }
        if body.last == Int32(config.special.sep) { body = body.dropLast() }
        return Array(body)
    }

    /// Window starts over `count` body tokens: windows of maxLength - 2 body tokens, moving by
    /// that minus the stride, the last one reaching the end.
    func windowStarts(bodyTokens count: Int) -> StrideTo<Int> {
        let width = maxLength - 2, step = width - stride
        let windows = count <= width ? 1 : 1 + (count - width + step - 1) / step
        return Swift.stride(from: 0, to: windows * step, by: step)
    }

    /// Embeds body tokens (no [CLS]/[SEP]) as windows into dst [dimension]: each window through
    /// the encoder (as many per pass as the batch and token budget allow), pooled; the pooled
    /// vectors summed with their token counts as weights, divided by the total, finished.
    /// Returns the tokens the model saw (every window's, [CLS]/[SEP] included).
    func embedWindows(_ body: [Int32], into dst: UnsafeMutablePointer<Float>) throws(EdgeBERTError) -> Int {
        let H = config.hidden, width = maxLength - 2
        let cls = Int32(config.special.cls), sep = Int32(config.special.sep)
        let starts = Array(windowStarts(bodyTokens: body.count))
        for i in 0..<H { windowSum[i] = 0 }
        var total = 0, w = 0
        while w < starts.count {
            var count = 0, rows = 0
            while w + count < starts.count && count < batch && rows + maxLength <= batchTokens {
                let s = starts[w + count], e = min(s + width, body.count)
                let ids = state.ids + rows
                ids[0] = cls
                for k in s..<e { ids[k - s + 1] = body[k] }
                ids[e - s + 1] = sep
                state.seqStart[count] = Int32(rows)
                state.seqLength[count] = Int32(e - s + 2)
                rows += e - s + 2
                count += 1
            }
            let b = PackedBatch(ids: state.ids, starts: state.seqStart, lengths: state.seqLength, count: count, rows: rows)
            try forward(b)
            for k in 0..<count {
                let n = Int(b.lengths[k])
                PoolingOps.pool(pooling, x: state.x + Int(b.starts[k]) * H, n: n, hidden: H, out: pooled)
                let weight = Float(n)
                for i in 0..<H { windowSum[i] += weight * pooled[i] }
                total += n
            }
            w += count
        }
        let inverse = 1 / Float(total)
        for i in 0..<H { windowSum[i] *= inverse }
        finish(windowSum, into: dst)
        return total
    }
}
