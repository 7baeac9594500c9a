#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import CKernels

/// Work split across the pool: `run` is called with chunks of the range, on whichever thread
/// claims them. Call sites keep one preallocated task object each and set its fields before a
/// dispatch, so a dispatch allocates nothing (a Swift closure stored for other threads would be
/// boxed on the heap). `thread` is the running thread's index (0 the caller, 1... the workers):
/// per-thread scratch is indexed by it.
class ParallelTask: @unchecked Sendable {
    func run(_ range: Range<Int>, thread: Int) {}
    /// Chunk boundaries fall on multiples of this (e.g. 2 panels: the GEMM kernels' block).
    var grain: Int { 1 }
}

/// A fixed pool of worker threads, created with its owner and joined when the owner lets it go.
///
/// `run` cuts a range into one chunk per thread and every thread, the caller included, claims
/// chunks from one atomic counter until none is left. A thread the OS has descheduled (a busy
/// board: another process on the core) therefore delays nothing: the others take its chunks, and
/// the caller never waits for a worker that has not started. Each chunk's result does not depend
/// on who runs it, so results are identical for every thread count and schedule.
///
/// Workers spin for about 50 microseconds after their last chunk (dispatches inside one forward
/// pass come microseconds apart), then park on a condition variable; the caller spins as briefly
/// waiting for chunks still running, then parks too. Nothing spins while the pool is idle.
final class ThreadPool: @unchecked Sendable {
    /// Threads that run chunks, the caller included.
    let threads: Int
    private let core: PoolCore
    private var workers: [pthread_t] = []

    /// `threads` in all (the caller and threads - 1 workers).
    init(threads: Int) {
        self.threads = max(1, threads)
        core = PoolCore(workers: self.threads - 1)
        for index in 1..<self.threads {
            let box = Unmanaged.passRetained(WorkerStart(core: core, index: index))
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                start.core.workerLoop(index: start.index)
                return nil
            }, box.toOpaque())
            if rc == 0 { workers.append(tid) } else { box.release() }
        }
    }

    deinit {
        core.stop()
        for t in workers { pthread_join(t, nil) }
    }

    /// Runs task.run(chunk, thread) over every chunk of `range`, spread over the pool; returns when
    /// all chunks are done.
    func run(_ task: ParallelTask, over range: Range<Int>) {
        let parts = min(workers.count + 1, (range.count + task.grain - 1) / task.grain)
        if parts <= 1 {
            task.run(range, thread: 0)
            return
        }
        // One chunk a thread, claimed rather than assigned: a thread that has not started yet loses
        // its chunk to one that is running. (Two or four a thread even out a thread descheduled
        // mid-chunk a little better, but cost 3-12% on a quiet machine in kernel calls cut
        // smaller: measured 128 tokens, two threads, 3.51-3.57 ms at one, 3.60-3.65 at two,
        // 4.04-4.11 at four; the corpus beside a busy process was within 10% of one thread for
        // one and two.)
        core.dispatch(task, range, chunks: parts)
    }
}

/// What the workers share with the caller. Workers retain this, never the `ThreadPool`, so the
/// pool's owner going away is what stops and joins them. The mutex and condition variables live
/// in memory allocated here, at stable addresses.
private final class PoolCore: @unchecked Sendable {
    /// generation (24 bits) | chunk count (20 bits) | next chunk to claim (20 bits).
    private let word = Atomic<UInt64>(0)
    /// Chunks of the current job not yet finished.
    private let remaining = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>   // workers wait here for a job
    private let done: UnsafeMutablePointer<pthread_cond_t>   // the caller waits here for the last chunk
    private var sleepers = 0           // under mutex
    private var callerWaiting = false  // under mutex
    private let workers: Int
    // The current job: written by the caller before the word is published, read by a thread only
    // after it has claimed a chunk (the job cannot end, nor these change, before that chunk is done).
    private unowned(unsafe) var job: ParallelTask
    private let idle = ParallelTask()
    private var jobRange = 0..<0

    static let spinLimit = 2048   // pauses before parking (~20-80 us, by the CPU's pause length)
    private static let indexBits: UInt64 = 20, chunkMask: UInt64 = (1 << 20) - 1

    init(workers: Int) {
        self.workers = workers
        job = idle
        mutex = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        done = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wake)
        pthread_cond_destroy(done)
        mutex.deallocate()
        wake.deallocate()
        done.deallocate()
    }

    private static func generation(_ w: UInt64) -> UInt64 { w >> (2 * indexBits) }
    private static func chunkCount(_ w: UInt64) -> Int { Int((w >> indexBits) & chunkMask) }
    private static func nextChunk(_ w: UInt64) -> Int { Int(w & chunkMask) }

    func dispatch(_ task: ParallelTask, _ range: Range<Int>, chunks: Int) {
        job = task
        jobRange = range
        remaining.store(chunks, ordering: .relaxed)
        let gen = (Self.generation(word.load(ordering: .relaxed)) + 1) & ((1 << 24) - 1)
        word.store(gen << (2 * Self.indexBits) | UInt64(chunks) << Self.indexBits, ordering: .releasing)
        pthread_mutex_lock(mutex)
        if sleepers > 0 { pthread_cond_broadcast(wake) }
        pthread_mutex_unlock(mutex)
        work(generation: gen, thread: 0)
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins < Self.spinLimit { ek_cpu_relax(); continue }
            pthread_mutex_lock(mutex)
            callerWaiting = true
            while remaining.load(ordering: .acquiring) > 0 { pthread_cond_wait(done, mutex) }
            callerWaiting = false
            pthread_mutex_unlock(mutex)
        }
        job = idle
    }

    /// Claims and runs chunks of generation `gen` until none is left.
    private func work(generation gen: UInt64, thread: Int) {
        while true {
            let w = word.load(ordering: .acquiring)
            let next = Self.nextChunk(w), count = Self.chunkCount(w)
            guard Self.generation(w) == gen, next < count else { return }
            guard word.compareExchange(expected: w, desired: w + 1, ordering: .acquiringAndReleasing).exchanged else { continue }
            // Chunk boundaries on multiples of the task's grain (the range's end excepted).
            let g = job.grain, units = (jobRange.count + g - 1) / g
            let lo = jobRange.lowerBound + min(jobRange.count, units * next / count * g)
            let hi = jobRange.lowerBound + min(jobRange.count, units * (next + 1) / count * g)
            if lo < hi { job.run(lo..<hi, thread: thread) }
            if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                pthread_mutex_lock(mutex)
                if callerWaiting { pthread_cond_signal(done) }
                pthread_mutex_unlock(mutex)
            }
        }
    }

    func workerLoop(index: Int) {
        var seen = Self.generation(word.load(ordering: .acquiring))
        while true {
            var spins = 0
            while Self.generation(word.load(ordering: .acquiring)) == seen && !stopping.load(ordering: .acquiring) {
                spins += 1
                if spins < Self.spinLimit { ek_cpu_relax(); continue }
                pthread_mutex_lock(mutex)
                sleepers += 1
                while Self.generation(word.load(ordering: .acquiring)) == seen && !stopping.load(ordering: .acquiring) {
                    pthread_cond_wait(wake, mutex)
                }
                sleepers -= 1
                pthread_mutex_unlock(mutex)
            }
            if stopping.load(ordering: .acquiring) { return }
            seen = Self.generation(word.load(ordering: .acquiring))
            work(generation: seen, thread: index)
        }
    }

    /// Wakes every worker to return (the owner joins them).
    func stop() {
        stopping.store(true, ordering: .releasing)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
    }
}

private final class WorkerStart {
    let core: PoolCore
    let index: Int
    init(core: PoolCore, index: Int) { self.core = core; self.index = index }
}
