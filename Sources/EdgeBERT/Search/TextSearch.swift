/// Text queries: an index and the Embedder of the model that made it.
///
///     let embedder = try Embedder(modelPath: "minilm.ebm")
///     let index = try SearchIndex(path: "notes.idx")
///     for hit in try index.search("router password", with: embedder, k: 5) { print(hit.score, hit.line, hit.text) }
extension SearchIndex {
    /// Whether `embedder` gives the vectors this index holds: the same model file contents and the
    /// same output width (set `Embedder.Options.dims` to the index's `identity.dims` if it was
    /// made with fewer dimensions).
    public func accepts(_ embedder: Embedder) -> Bool {
        embedder.model.header.checksum == identity.modelChecksum && embedder.model.header.metaChecksum == identity.modelMetaChecksum
            && embedder.dimension == identity.dims
    }

    /// The top `k` texts for each query text, embedded by `embedder` (which must be accepted).
    public func search(_ queries: [String], with embedder: Embedder, k: Int) throws(EdgeBERTError) -> [[SearchHit]] {
        guard accepts(embedder) else {
            throw .data(path, "the index was made by another model (\(identity.modelPath), \(identity.dims) dimensions)")
        }
        var vectors = [Float](repeating: 0, count: queries.count * identity.dims)
        try vectors.withUnsafeMutableBufferPointer { (v: inout UnsafeMutableBufferPointer<Float>) throws(EdgeBERTError) in
            try embedder.embed(queries, into: v)
        }
        return try vectors.withUnsafeBufferPointer { (v: UnsafeBufferPointer<Float>) throws(EdgeBERTError) in
            try search(v, count: queries.count, k: k)
        }
    }

    /// The top `k` texts for one query text.
    public func search(_ query: String, with embedder: Embedder, k: Int) throws(EdgeBERTError) -> [SearchHit] {
        try search([query], with: embedder, k: k)[0]
    }
}
