// Must compile (Tools/test.sh checks): an EmbedderPool shared by threads and tasks.
import Dispatch
import EdgeBERT

func share(_ pool: EmbedderPool) {
    DispatchQueue.concurrentPerform(iterations: 4) { i in _ = try? pool.embed("text \(i)") }
    Task.detached { _ = try? pool.embed("from a task") }
}
