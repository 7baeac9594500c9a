#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import CKernels

/// Work split across the pool: `run` is called with one chunk of the range per thread. Call sites
/// keep one preallocated task object each and set its fields before a dispatch, so a dispatch
/// allocates nothing (a Swift closure stored for other threads would be boxed on the heap).
class ParallelTask: @unchecked Sendable {
    func run(_ range: Range<Int>, thread: Int) {}
}

/// A fixed pool of worker threads created at load. `run` splits a range into one contiguous
/// chunk per thread (the caller takes chunk 0) and returns when all are done. Workers spin
/// briefly for the next job, then sleep on a condition variable.
final class ThreadPool: @unchecked Sendable {
    let threads: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var sleepers = 0
    private var workers: [pthread_t] = []
    // The current job, valid between a dispatch and its completion.
    private unowned(unsafe) var job: ParallelTask
    private let idle = ParallelTask()
    private var jobRange = 0..<0

    init(threads: Int) {
        self.threads = max(1, threads)
        job = idle
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
        for index in 1..<self.threads {
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index))
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                start.pool.workerLoop(index: start.index)
                return nil
            }, box.toOpaque())
            if rc == 0 { workers.append(tid) } else { box.release() }
        }
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        generation.add(1, ordering: .releasing)
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
        for t in workers { pthread_join(t, nil) }
        pthread_mutex_destroy(&mutex)
        pthread_cond_destroy(&cond)
    }

    /// The chunk of `range` thread `index` of `parts` takes.
    static func chunk(_ range: Range<Int>, _ index: Int, _ parts: Int) -> Range<Int> {
        let n = range.count
        let lo = range.lowerBound + n * index / parts, hi = range.lowerBound + n * (index + 1) / parts
        return lo..<hi
    }

    /// Runs task.run(chunk, thread) over `range` split across the pool.
    func run(_ task: ParallelTask, over range: Range<Int>) {
        let parts = min(workers.count + 1, range.count)
        if parts <= 1 {
            task.run(range, thread: 0)
            return
        }
        job = task
        jobRange = range
        pending.store(workers.count, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        pthread_mutex_lock(&mutex)
        if sleepers > 0 { pthread_cond_broadcast(&cond) }
        pthread_mutex_unlock(&mutex)
        task.run(Self.chunk(range, 0, workers.count + 1), thread: 0)
        while pending.load(ordering: .acquiring) > 0 { spinPause() }
        job = idle
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < 200_000 { spinPause(); continue }
                pthread_mutex_lock(&mutex)
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(&cond, &mutex) }
                sleepers -= 1
                pthread_mutex_unlock(&mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            let r = Self.chunk(jobRange, index, workers.count + 1)
            if !r.isEmpty { job.run(r, thread: index) }
            pending.subtract(1, ordering: .releasing)
        }
    }
}

private final class WorkerStart {
    let pool: ThreadPool
    let index: Int
    init(pool: ThreadPool, index: Int) { self.pool = pool; self.index = index }
}

@inline(__always) private func spinPause() { ek_cpu_relax() }
