import EdgeBERT

/// How close a model's embeddings are to its float reference's on some texts, and what that
/// means in one line a non-expert can act on (`compare` and `quantize` end with it).
struct Accuracy {
    let texts: [String]
    /// Cosine of each text's two embeddings.
    let cosines: [Double]
    /// Share of texts whose most similar other text is the same under both models (nil below 3
    /// texts); a text whose pick ties the reference's own nearest (within 1e-5) agrees.
    let neighbourAgreement: Double?
    /// The texts whose most similar other text changed, with how close the model's pick was to the
    /// reference's nearest under the reference (`floatGap`: their two similarities' difference).
    let neighbourChanges: [NeighbourChange]
    /// A change whose float gap is below this is among near-ties: the reference's top two were
    /// about as close to the text, and no 8-bit model keeps all such orders (Benchmarks/RESULTS.md,
    /// "Nearest-neighbour agreement").
    static let nearTie = 0.01
    /// Pairwise cosine similarities of the texts under each model (upper triangle, row by row).
    let similarities: (model: [Double], reference: [Double])
    /// Lowest hidden-state cosine after a layer, and that layer (nil when not measured).
    var worstLayer: (layer: Int, cosine: Double)? = nil

    var mean: Double { cosines.reduce(0, +) / Double(cosines.count) }
    var lowest: (index: Int, cosine: Double) { cosines.enumerated().min { $0.element < $1.element }.map { ($0.offset, $0.element) }! }
    var p1: Double { let s = cosines.sorted(); return s[min(s.count - 1, Int(Double(s.count) * 0.01))] }

    /// Embeds `texts` with both and compares.
    init(model: Embedder, reference: Embedder, texts: [String]) throws(EdgeBERTError) {
        var a: [[Float]] = [], b: [[Float]] = []
        for t in texts {
            a.append(try model.embed(t))
            b.append(try reference.embed(t))
        }
        self.init(texts: texts, model: a, reference: b)
    }

    /// Compares embeddings already made: model [texts][dim] against reference [texts][dim].
    init(texts: [String], model a: [[Float]], reference b: [[Float]]) {
        self.texts = texts
        cosines = zip(a, b).map { cosineSimilarity($0, $1) }
        similarities = (Self.pairwise(a), Self.pairwise(b))
        neighbourChanges = texts.count < 3 ? [] : Self.changes(similarities.model, similarities.reference, count: texts.count)
        neighbourAgreement = texts.count < 3 ? nil : 1 - Double(neighbourChanges.count) / Double(texts.count)
    }

    /// Cosine similarity of every pair i < j, row by row (the upper triangle).
    static func pairwise(_ v: [[Float]]) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(v.count * (v.count - 1) / 2)
        for i in v.indices { for j in (i + 1)..<v.count { out.append(cosineSimilarity(v[i], v[j])) } }
        return out
    }

    /// Nearest other text under each set of pairwise similarities; the texts where the model's
    /// pick is further than 1e-5 (a tie) below the reference's nearest, under the reference.
    static func changes(_ model: [Double], _ reference: [Double], count n: Int) -> [NeighbourChange] {
        // Pair (i, j), i < j, sits at i * n - i * (i + 1) / 2 + j - i - 1 of the upper triangle.
        func at(_ i: Int, _ j: Int) -> Int { let (p, q) = i < j ? (i, j) : (j, i); return p * n - p * (p + 1) / 2 + q - p - 1 }
        func nearest(_ s: [Double], _ i: Int) -> Int {
            var best = -1, score = -Double.infinity
            for j in 0..<n where j != i && s[at(i, j)] > score { score = s[at(i, j)]; best = j }
            return best
        }
        return (0..<n).compactMap { i in
            let pick = nearest(model, i), want = nearest(reference, i)
            let gap = reference[at(i, want)] - reference[at(i, pick)]
            return gap > 1e-5 ? NeighbourChange(text: i, referenceNearest: want, modelNearest: pick, floatGap: gap) : nil
        }
    }

    /// How the changed neighbours read in one clause: ", the other 11 all near-ties in float (top
    /// two within 0.01)", or "" when none change or some change by more.
    var nearTieClause: String {
        guard !neighbourChanges.isEmpty, neighbourChanges.allSatisfy({ $0.floatGap < Self.nearTie }) else { return "" }
        let n = neighbourChanges.count
        return (n == 1 ? ", the other one a near-tie" : ", the other \(n) all near-ties") + " in float (top two within \(Self.nearTie))"
    }

    /// One line: how far from float, and what to do about it. `label` names the model ("int8").
    func verdict(_ label: String) -> String {
        let pct = fixed((1 - mean) * 100, 2)
        let (worst, low) = lowest
        let nn = neighbourAgreement.map { "; nearest neighbour unchanged for \(fixed($0 * 100, 1))% of texts\(nearTieClause)" } ?? ""
        let figures = "(mean cosine \(fixed(mean, 5)), lowest \(fixed(low, 5)) on text \(worst + 1)\(nn))"
        if mean >= 0.999 && low >= 0.99 && (neighbourAgreement ?? 1) >= 0.95 {
            return "verdict: \(label) is within \(pct)% of float on these texts \(figures): good for search and clustering"
        }
        if mean >= 0.995 && low >= 0.95 {
            let but = low < 0.99 ? "some texts fall further (see them with --per-text)"
                : "the nearest neighbour of \(fixed((1 - (neighbourAgreement ?? 1)) * 100, 1))% of texts changes"
            return "verdict: \(label) is within \(pct)% of float on average \(figures), but \(but): fine for search, "
                + "not for exact duplicate ranking"
        }
        let layer = worstLayer.map { ": the drift grows most in layer \($0.layer) (keep it float with `quantize --keep-float layer.\($0.layer - 1).`)" } ?? ""
        return "verdict: \(label) is \(pct)% away from float on average \(figures): not close enough for search\(layer); "
            + "or use the f32 model"
    }

    /// The texts whose nearest other text changed, one line each (for --per-text).
    func changedNeighbours(limit: Int = 40) -> [String] {
        neighbourChanges.map { c in
            "  text \(c.text + 1): nearest text \(c.referenceNearest + 1) in float, \(c.modelNearest + 1) here "
                + "(float gap \(fixed(c.floatGap, 4)))  " + shown(c.text, limit: limit)
        }
    }

    /// The texts, worst first, with their cosines (for --per-text).
    func perText(limit: Int = 60) -> [String] {
        cosines.indices.sorted { cosines[$0] < cosines[$1] }.map { i in
            "  " + fixed(cosines[i], 6) + "  text \(i + 1)".padding(11) + "  " + shown(i, limit: limit)
        }
    }

    /// Text i on one line: cut to `limit` characters, line breaks and tabs as spaces.
    private func shown(_ i: Int, limit: Int) -> String {
        let t = texts[i].count > limit ? String(texts[i].prefix(limit - 3)) + "..." : texts[i]
        return String(t.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }
}

/// A text whose most similar other text differs between a model and its float reference.
struct NeighbourChange {
    /// The text (0-based).
    let text: Int
    /// Its nearest other text under the reference, and under the model.
    let referenceNearest: Int, modelNearest: Int
    /// Reference similarity to its own nearest minus reference similarity to the model's pick (> 1e-5).
    let floatGap: Double
}
