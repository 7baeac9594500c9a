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
                if trace { ek_test_trace(1) }
                defer { ek_test_trace(0) }
                // The counter sees every thread of the test process, XCTest's own included, and one
                // of those rarely allocates mid-window. So: three windows of 60 embeddings; one
                // allocation per embedding would show in all three (>= 60 each), a stray one in one.
                var windows: [Int64] = []
                while windows.count < 3 && windows.last != 0 {
                    let before = ek_test_allocations()
                    var round = 0
                    while round < 60 {  // a plain loop: debug builds' generic iterators allocate
                        _ = try e.embed(texts[round % 3], into: b)
                        round += 1
                    }
                    windows.append(ek_test_allocations() - before)
                }
                XCTAssertEqual(windows.last, 0, "heap allocations in windows of 60 embeddings with \(threads) thread(s): \(windows)")
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
