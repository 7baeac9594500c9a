/// Cosine similarity of two embeddings, accumulated in Double. Two zero vectors count as equal
/// (1); a zero vector against a non-zero one as unrelated (0).
public func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for i in 0..<min(a.count, b.count) {
        dot += Double(a[i]) * Double(b[i])
        na += Double(a[i]) * Double(a[i])
        nb += Double(b[i]) * Double(b[i])
    }
    if na == 0 || nb == 0 { return na == nb ? 1 : 0 }
    return dot / (na * nb).squareRoot()
}
