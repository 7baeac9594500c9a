// Must NOT compile (Tools/test.sh checks): an Embedder handed to another thread.
import Dispatch
import EdgeBERT

func share(_ e: Embedder) {
    DispatchQueue.global().async { _ = try? e.embed("shared") }
}
