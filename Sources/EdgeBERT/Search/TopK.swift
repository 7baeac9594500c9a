/// The k best (score, position) pairs seen, as a min-heap on score: a candidate replaces the
/// root when it beats it. Ties go to the lower position, so results do not depend on the order
/// the blocks are scanned in. Holds k entries; allocates once.
struct TopK {
    private(set) var scores: [Float]
    private(set) var positions: [Int]
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        scores = [Float](repeating: 0, count: capacity)
        positions = [Int](repeating: 0, count: capacity)
    }

    /// The score a candidate must beat once the heap is full (-inf before).
    var threshold: Float { count < capacity ? -.infinity : scores[0] }

    @inline(__always) private func less(_ a: Int, _ b: Int) -> Bool {
        scores[a] < scores[b] || (scores[a] == scores[b] && positions[a] > positions[b])
    }

    mutating func offer(_ score: Float, _ position: Int) {
        if count < capacity {
            scores[count] = score
            positions[count] = position
            count += 1
            var i = count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard less(i, parent) else { break }
                scores.swapAt(i, parent)
                positions.swapAt(i, parent)
                i = parent
            }
            return
        }
        guard score > scores[0] || (score == scores[0] && position < positions[0]) else { return }
        scores[0] = score
        positions[0] = position
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < count && less(l, m) { m = l }
            if r < count && less(r, m) { m = r }
            if m == i { break }
            scores.swapAt(i, m)
            positions.swapAt(i, m)
            i = m
        }
    }

    /// The entries best first (score descending, then position ascending).
    func sorted() -> [(score: Float, position: Int)] {
        (0..<count).map { (scores[$0], positions[$0]) }.sorted { $0.score > $1.score || ($0.score == $1.score && $0.position < $1.position) }
    }

    mutating func reset() { count = 0 }
}
