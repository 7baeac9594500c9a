#if canImport(Glibc)
import Glibc
#endif

/// A progress line on stderr, only when stderr is a terminal: texts done, texts per second, and,
/// when the input's size is known, the share done and the time left. Redrawn at most twice a
/// second; erased at the end. Nothing at all when stderr is a file or a pipe.
final class Progress {
    private let enabled: Bool
    private let total: Int?
    private let label: String
    private let start: Double
    private var last: Double
    private var drawn = false

    init(total: Int?, label: String = "embed") {
        enabled = isatty(2) != 0
        self.total = total
        self.label = label
        start = Self.now()
        last = start
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// `texts` done so far, `bytes` of the input consumed.
    func update(texts: Int, bytes: Int) {
        guard enabled else { return }
        let t = Self.now()
        guard t - last >= 0.5 else { return }
        last = t
        let elapsed = t - start
        var line = "\(label): \(texts) texts, \(Int(Double(texts) / max(elapsed, 1e-9))) texts/s"
        if let total, total > 0, bytes > 0 {
            let share = Double(bytes) / Double(total)
            let left = elapsed * (1 - share) / max(share, 1e-9)
            line += ", \(Int(share * 100))%, \(Self.duration(left)) left"
        }
        draw(line)
    }

    private func draw(_ line: String) {
        Self.draw(line)
        drawn = true
    }

    /// Erases the line.
    func finish() {
        guard enabled, drawn else { return }
        Self.draw("")
    }

    /// Replaces the terminal's current line on stderr with `line` ("" erases it). Callable from
    /// any thread (quantize's progress callback).
    static func draw(_ line: String) {
        let s = "\r\u{1B}[K" + line
        _ = s.withCString { write(2, $0, strlen($0)) }
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let v = Int(s.rounded())
        return v >= 3600 ? "\(v / 3600)h\(v % 3600 / 60)m" : v >= 60 ? "\(v / 60)m\(v % 60)s" : "\(v)s"
    }
}
