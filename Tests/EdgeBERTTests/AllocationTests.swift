import AllocCounter
import Foundation
import XCTest
@testable import EdgeBERT

/// The arena story, proven: after warm-up, embedding allocates nothing on the heap.
final class AllocationTests: XCTestCase {
    func testSteadyStateEmbeddingMakesNoHeapAllocations() throws {
        #if DEBUG
        throw XCTSkip("allocation counts are measured in optimised builds (Tools/test.sh runs the tests with -c release); unspecialised generics allocate in debug")
        #endif
        XCTAssertGreaterThanOrEqual(ek_test_allocations(), 0, "allocation counter not active")
        for threads in [1, 2] {
            var o = Embedder.Options()
            o.threads = threads
            let e = try Embedder(modelPath: Fixtures.tinyModels.int8, options: o)
            let texts = ["A short text.", "Naïve café, 東京 and emoji 🎉 in one line!",
                         String(repeating: "a longer text with many words ", count: 20)]
            var out = [Float](repeating: 0, count: e.dimension)
            try out.withUnsafeMutableBufferPointer { b in
                for t in texts { _ = try e.embed(t, into: b) }  // warm-up: lazy tables, first-use paths
                let trace = ProcessInfo.processInfo.environment["EDGEBERT_TRACE_ALLOCS"] != nil  // allocates: read first
                let before = ek_test_allocations()
                if trace { ek_test_trace(1) }
                defer { ek_test_trace(0) }
                var round = 0
                while round < 60 {  // a plain loop: debug builds' generic iterators allocate
                    _ = try e.embed(texts[round % 3], into: b)
                    round += 1
                }
                let made = ek_test_allocations() - before
                XCTAssertEqual(made, 0, "\(made) heap allocations in 60 embeddings with \(threads) thread(s)")
            }
        }
    }

    func testBatchedEmbeddingMakesNoHeapAllocations() throws {
        #if DEBUG
        throw XCTSkip("allocation counts are measured in optimised builds")
        #endif
        var o = Embedder.Options()
        o.batch = 3
        o.threads = 2
        let e = try Embedder(modelPath: Fixtures.tinyModels.int8, options: o)
        let texts = ["one text", "a second, longer text with more words", "third", "fourth text here"]
        var out = [Float](repeating: 0, count: texts.count * e.dimension)
        var counts = [Int](repeating: 0, count: texts.count)
        try out.withUnsafeMutableBufferPointer { b in
            try counts.withUnsafeMutableBufferPointer { c in
                try e.embed(texts, into: b, tokens: c)
                let before = ek_test_allocations()
                var round = 0
                while round < 20 { try e.embed(texts, into: b, tokens: c); round += 1 }
                XCTAssertEqual(ek_test_allocations() - before, 0)
            }
        }
    }

    func testCounterSeesAllocations() {
        let before = ek_test_allocations()
        let a = [Int](repeating: 1, count: 1000)
        XCTAssertGreaterThan(ek_test_allocations() - before, 0)
        XCTAssertEqual(a.count, 1000)
    }
}
