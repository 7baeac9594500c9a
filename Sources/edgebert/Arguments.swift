import EdgeBERT

/// One option a command accepts.
struct OptionSpec {
    let names: [String]     // e.g. ["-m", "--model"]
    let value: String?      // placeholder when it takes a value, nil for a flag
    let help: String
    var repeats = false
}

/// A command's declaration: help text is generated from it.
struct CommandSpec {
    let name: String
    let usage: String
    let summary: String
    let options: [OptionSpec]

    var help: String {
        var s = "\(summary)\n\nUsage: edgebert \(usage)\n\nOptions:\n"
        for o in options + [OptionSpec(names: ["-h", "--help"], value: nil, help: "Show this help")] {
            let left = o.names.joined(separator: ", ") + (o.value.map { " \($0)" } ?? "")
            s += "  " + left.padding(26) + " " + o.help + "\n"
        }
        return s
    }
}

/// Parsed command line: positionals, option values (by the option's long name), flags.
struct Arguments {
    var positionals: [String] = []
    /// Each positional's bytes exactly as the shell passed them (invalid UTF-8 kept as is).
    var rawPositionals: [[UInt8]] = []
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var wantsHelp = false

    init(_ args: [String], spec: CommandSpec) throws(EdgeBERTError) {
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" || isNumber(a) {
                positionals.append(a)
                rawPositionals.append(i - 1 < rawCommandArguments.count && args.count == rawCommandArguments.count
                                      ? rawCommandArguments[i - 1] : Array(a.utf8))
                continue
            }
            if a == "--" { onlyPositionals = true; continue }
            if a == "-h" || a == "--help" { wantsHelp = true; continue }
            var name = a, inline: String? = nil
            if a.hasPrefix("--"), let eq = a.firstIndex(of: "=") {
                name = String(a[..<eq])
                inline = String(a[a.index(after: eq)...])
            }
            guard let o = spec.options.first(where: { $0.names.contains(name) }) else {
                throw .usage(a, "unknown option for `edgebert \(spec.name)` (see `edgebert \(spec.name) --help`)")
            }
            let key = o.names.last!
            if let placeholder = o.value {
                let v: String
                if let inline { v = inline } else {
                    guard i < args.count else { throw .usage(name, "needs a value \(placeholder)") }
                    v = args[i]
                    i += 1
                }
                if !o.repeats && values[key] != nil { throw .usage(name, "given twice") }
                values[key, default: []].append(v)
            } else {
                if inline != nil { throw .usage(name, "takes no value") }
                flags.insert(key)
            }
        }
    }

    func value(_ key: String) -> String? { values[key]?.last }
    func all(_ key: String) -> [String] { values[key] ?? [] }
    func flag(_ key: String) -> Bool { flags.contains(key) }

    /// An integer option within `range`, or nil when absent.
    func int(_ key: String, _ range: ClosedRange<Int>) throws(EdgeBERTError) -> Int? {
        guard let s = value(key) else { return nil }
        guard let v = Int(s) else { throw .usage(key, "\"\(s)\" is not a whole number") }
        guard range.contains(v) else { throw .usage(key, "\(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    func double(_ key: String, _ range: ClosedRange<Double>) throws(EdgeBERTError) -> Double? {
        guard let s = value(key) else { return nil }
        guard let v = Double(s), v.isFinite else { throw .usage(key, "\"\(s)\" is not a number") }
        guard range.contains(v) else { throw .usage(key, "\(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    func required(_ key: String) throws(EdgeBERTError) -> String {
        guard let v = value(key) else { throw .usage(key, "is required") }
        return v
    }
}

private func isNumber(_ s: String) -> Bool { s.count > 1 && Double(s) != nil }

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
