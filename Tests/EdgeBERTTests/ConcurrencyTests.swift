import Dispatch
import Foundation
import XCTest
@testable import EdgeBERT

/// Sharing and lifecycle: the shareable pool gives every caller the right vector, and threads
/// go away with their owners.
final class ConcurrencyTests: XCTestCase {
    /// Threads of this process (/proc/self/task).
    func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
    }

    func texts() -> [String] { Array(Fixtures.lines("corpus.txt").prefix(40)) }

    func testPoolGivesEveryConcurrentCallerItsOwnVector() throws {
        let m = Fixtures.tinyModels.int8
        let texts = (0..<200).map { "the man was here \($0) " + String(repeating: "he was ", count: $0 % 9) }
        let single = try Embedder(modelPath: m, options: { var o = Embedder.Options(); o.threads = 1; return o }())
        let expected = try texts.map { try single.embed($0) }
        let pool = try EmbedderPool(modelPath: m, capacity: 4)
        let results = Results<[Float]>(count: texts.count)
        DispatchQueue.concurrentPerform(iterations: texts.count) { i in
            results.set(i, try? pool.embed(texts[i]))
        }
        XCTAssertEqual(results.all(), expected.map { Optional($0) }, "every vector equals the lone Embedder's")
        XCTAssertLessThanOrEqual(pool.embeddersMade, 4)
        // Batches from several tasks at once, too.
        let batches = Results<[Float]>(count: 10)
        DispatchQueue.concurrentPerform(iterations: 10) { b in
            batches.set(b, try? pool.embed(Array(texts[(b * 20)..<(b * 20 + 20)])).flatMap { $0 })
        }
        var expectedBatches: [[Float]?] = []
        for b in 0..<10 {
            let flat: [Float] = expected[(b * 20)..<(b * 20 + 20)].flatMap { $0 }
            expectedBatches.append(flat)
        }
        XCTAssertEqual(batches.all(), expectedBatches)
    }

    func testThreadsAreJoinedWhenTheirOwnerGoes() throws {
        let before = threadCount()
        for _ in 0..<5 {
            var o = Embedder.Options()
            o.threads = 4
            let e = try Embedder(modelPath: Fixtures.tinyModels.int8, options: o)
            _ = try e.embed("the man was here")
            XCTAssertGreaterThanOrEqual(e.threads, 1)
        }
        XCTAssertEqual(threadCount(), before, "every worker joined after five Embedders")
        var o = Converter.Options()
        o.dtype = .i8
        try Converter.convert(hfDir: Fixtures.tinyModels.hf, outPath: TempDir.make("conv") + "/m.ebm", options: o)
        XCTAssertEqual(threadCount(), before, "a conversion leaves no thread behind")
        do {
            let pool = try EmbedderPool(modelPath: Fixtures.tinyModels.int8, options: { var x = Embedder.Options(); x.threads = 2; return x }())
            _ = try pool.embed("he was")
        }
        XCTAssertEqual(threadCount(), before, "a released pool leaves no thread behind")
    }

    /// Many more threads than cores: the pool keeps to the cores, and results do not change.
    func testThreadCountIsClampedToTheCores() throws {
        var o = Embedder.Options()
        o.threads = 256
        let e = try Embedder(modelPath: Fixtures.tinyModels.int8, options: o)
        XCTAssertEqual(e.threads, min(256, ProcessInfo.processInfo.activeProcessorCount))
        o.threads = 1
        XCTAssertEqual(try e.embed("the man was here"), try Embedder(modelPath: Fixtures.tinyModels.int8, options: o).embed("the man was here"))
    }
}

/// Results written by concurrent callers, one slot each.
final class Results<T: Sendable>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T?) { lock.lock(); slots[i] = v; lock.unlock() }
    func all() -> [T?] { lock.lock(); defer { lock.unlock() }; return slots }
}

extension ConcurrencyTests {
    /// Records every chunk a dispatch hands out.
    final class ChunkLog: ParallelTask, @unchecked Sendable {
        let lock = NSLock()
        var chunks: [(range: Range<Int>, thread: Int)] = []
        let step: Int
        init(grain: Int) { step = grain }
        override var grain: Int { step }
        override func run(_ range: Range<Int>, thread: Int) {
            lock.lock(); chunks.append((range, thread)); lock.unlock()
        }
    }

    /// The split a 4-core board gets (the pool is not clamped; Embedder clamps to the cores):
    /// the encoder's dispatches at 4 threads cut into 4 chunks on grain boundaries that cover the
    /// range once, as even as the grain allows — MiniLM's 24 and 96 panels give 6 and 24 a
    /// thread, 128 rows 32 a thread, 12 heads 3 a thread: a 4x split with no tail.
    func testFourThreadSplitOfTheEncodersShapes() {
        let pool = ThreadPool(threads: 4)
        for (count, grain, each) in [(24, 2, 6), (96, 2, 24), (48, 2, 12), (192, 2, 48), (128, 1, 32), (12, 1, 3), (7, 2, nil)] as [(Int, Int, Int?)] {
            let log = ChunkLog(grain: grain)
            pool.run(log, over: 10..<(10 + count))
            let sorted = log.chunks.map(\.range).sorted { $0.lowerBound < $1.lowerBound }
            XCTAssertEqual(sorted.first?.lowerBound, 10)
            XCTAssertEqual(sorted.last?.upperBound, 10 + count)
            for (a, b) in zip(sorted, sorted.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound, "chunks meet, no gap or overlap") }
            for r in sorted.dropLast() { XCTAssertEqual((r.lowerBound - 10) % grain, 0) }
            if let each {
                XCTAssertEqual(sorted.count, 4, "\(count)")
                XCTAssertEqual(sorted.map(\.count), [each, each, each, each], "\(count)")
            } else {
                XCTAssertLessThanOrEqual(sorted.count, 4)   // 7 panels in grains of 2: 4 units
            }
            XCTAssertTrue(log.chunks.allSatisfy { (0..<4).contains($0.thread) })
        }
    }
}
