#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Embedders to share: any number of threads and tasks may call it at once, and each call runs
/// on an `Embedder` of its own, borrowed from a small pool and given back when the call ends.
///
///     let pool = try EmbedderPool(modelPath: "minilm.ebm")       // Sendable
///     DispatchQueue.concurrentPerform(iterations: 100) { i in
///         let v = try! pool.embed("text \(i)")                   // correct from every thread
///     }
///
/// Embedders are made when first needed, up to `capacity` (default: the cores online), all on one
/// mapping of the model file; each has its own arena and, unless `options.threads` says otherwise,
/// runs on one thread (the pool's parallelism is its callers). A call that finds every Embedder
/// busy waits for one. Results are those of a lone `Embedder` with the same options, bit for bit.
public final class EmbedderPool: @unchecked Sendable {
    // @unchecked: the Embedders are reached only through `borrow`, which hands each to one caller
    // at a time under the mutex; everything else here is immutable after init.

    /// The model every Embedder runs.
    public let model: ModelFile
    /// Options each Embedder is made with.
    public let options: Embedder.Options
    /// The most Embedders the pool makes (and the most calls that run at once).
    public let capacity: Int
    /// Floats per embedding.
    public let dimension: Int
    /// Longest input in tokens.
    public let maxLength: Int

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let available: UnsafeMutablePointer<pthread_cond_t>
    private var idle: [Embedder] = []   // under mutex
    private var made = 0                // under mutex

    /// Opens the model once; `capacity` nil: the cores online. The first Embedder is made here,
    /// so an unusable model or option fails now rather than on the first call.
    public convenience init(modelPath: String, options: Embedder.Options = Embedder.Options(), capacity: Int? = nil)
        throws(EdgeBERTError) {
        try self.init(model: try ModelFile(path: modelPath), options: options, capacity: capacity)
    }

    /// Shares an opened model file.
    public init(model: ModelFile, options: Embedder.Options = Embedder.Options(), capacity: Int? = nil) throws(EdgeBERTError) {
        self.model = model
        var o = options
        if o.threads == nil { o.threads = 1 }
        self.options = o
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        self.capacity = capacity ?? max(1, cores)
        guard (1...1024).contains(self.capacity) else { throw .usage("capacity", "\(self.capacity) is outside 1...1024") }
        let first = try Embedder(model: model, options: o)
        dimension = first.dimension
        maxLength = first.maxLength
        idle = [first]
        made = 1
        mutex = .allocate(capacity: 1)
        available = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(available, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(available)
        mutex.deallocate()
        available.deallocate()
    }

    /// Runs `body` with an Embedder no other call is using, then puts it back. Do not keep the
    /// Embedder past `body`.
    public func withEmbedder<R>(_ body: (Embedder) throws(EdgeBERTError) -> R) throws(EdgeBERTError) -> R {
        let e = try take()
        defer { give(e) }
        return try body(e)
    }

    /// The embedding of `text`: [dimension] floats.
    public func embed(_ text: String) throws(EdgeBERTError) -> [Float] {
        try withEmbedder { (e: Embedder) throws(EdgeBERTError) in try e.embed(text) }
    }

    /// Embeddings of several texts, in order, on one Embedder (batched as its options say).
    public func embed(_ texts: [String]) throws(EdgeBERTError) -> [[Float]] {
        try withEmbedder { (e: Embedder) throws(EdgeBERTError) in try e.embed(texts) }
    }

    /// Token ids the model sees for `text`.
    public func tokenize(_ text: String) throws(EdgeBERTError) -> [Int32] {
        try withEmbedder { (e: Embedder) throws(EdgeBERTError) in e.tokenize(text) }
    }

    /// Embedders made so far (at most `capacity`).
    public var embeddersMade: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return made
    }

    private func take() throws(EdgeBERTError) -> Embedder {
        pthread_mutex_lock(mutex)
        while true {
            if let e = idle.popLast() {
                pthread_mutex_unlock(mutex)
                return e
            }
            if made < capacity {
                made += 1
                pthread_mutex_unlock(mutex)
                do throws(EdgeBERTError) {
                    return try Embedder(model: model, options: options)
                } catch {
                    pthread_mutex_lock(mutex)
                    made -= 1
                    pthread_cond_signal(available)
                    pthread_mutex_unlock(mutex)
                    throw error
                }
            }
            pthread_cond_wait(available, mutex)
        }
    }

    private func give(_ e: Embedder) {
        pthread_mutex_lock(mutex)
        idle.append(e)
        pthread_cond_signal(available)
        pthread_mutex_unlock(mutex)
    }
}
