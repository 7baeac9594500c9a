/// The server's counters, in Prometheus' text format at GET /metrics. Touched only by the
/// server's I/O thread.
struct ServeMetrics {
    static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    static let batchBuckets: [Int] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]

    var requests: [Int: Int] = [:]                 // by status
    var latency = [Int](repeating: 0, count: latencyBuckets.count + 1)
    var latencySum = 0.0
    var latencyCount = 0
    var tokens = 0
    var batches = [Int](repeating: 0, count: batchBuckets.count + 1)
    var batchSum = 0
    var batchCount = 0

    mutating func request(status: Int, seconds: Double) {
        requests[status, default: 0] += 1
        latency[Self.latencyBuckets.firstIndex { seconds <= $0 } ?? Self.latencyBuckets.count] += 1
        latencySum += seconds
        latencyCount += 1
    }

    mutating func batch(inputs: Int) {
        batches[Self.batchBuckets.firstIndex { inputs <= $0 } ?? Self.batchBuckets.count] += 1
        batchSum += inputs
        batchCount += 1
    }

    func text(queueDepth: Int, connections: Int) -> String {
        var s = "# HELP edgebert_requests_total HTTP requests answered, by status.\n# TYPE edgebert_requests_total counter\n"
        for (status, n) in requests.sorted(by: { $0.key < $1.key }) { s += "edgebert_requests_total{status=\"\(status)\"} \(n)\n" }
        s += "# HELP edgebert_request_seconds Time from a complete request to its response.\n# TYPE edgebert_request_seconds histogram\n"
        var cumulative = 0
        for (i, b) in Self.latencyBuckets.enumerated() {
            cumulative += latency[i]
            s += "edgebert_request_seconds_bucket{le=\"\(b)\"} \(cumulative)\n"
        }
        s += "edgebert_request_seconds_bucket{le=\"+Inf\"} \(latencyCount)\nedgebert_request_seconds_sum \(latencySum)\nedgebert_request_seconds_count \(latencyCount)\n"
        s += "# HELP edgebert_tokens_total Tokens embedded.\n# TYPE edgebert_tokens_total counter\nedgebert_tokens_total \(tokens)\n"
        s += "# HELP edgebert_queue_depth Requests queued or running in the engine.\n# TYPE edgebert_queue_depth gauge\nedgebert_queue_depth \(queueDepth)\n"
        s += "# HELP edgebert_connections Open connections.\n# TYPE edgebert_connections gauge\nedgebert_connections \(connections)\n"
        s += "# HELP edgebert_batch_inputs Inputs per engine pass.\n# TYPE edgebert_batch_inputs histogram\n"
        cumulative = 0
        for (i, b) in Self.batchBuckets.enumerated() {
            cumulative += batches[i]
            s += "edgebert_batch_inputs_bucket{le=\"\(b)\"} \(cumulative)\n"
        }
        s += "edgebert_batch_inputs_bucket{le=\"+Inf\"} \(batchCount)\nedgebert_batch_inputs_sum \(batchSum)\nedgebert_batch_inputs_count \(batchCount)\n"
        return s
    }
}
