/// Every failure EdgeBERT reports: what went wrong, and why, in words a user can act on.
/// The CLI prints `edgebert: <what>: <why>` and exits 1 for `.data` errors, 2 for `.usage`.
public struct EdgeBERTError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case data, usage }
    public let kind: Kind
    /// The thing that failed: a path, a tensor name, an option.
    public let what: String
    /// Why it failed.
    public let why: String

    public init(_ kind: Kind = .data, _ what: String, _ why: String) {
        self.kind = kind
        self.what = what
        self.why = why
    }

    public static func data(_ what: String, _ why: String) -> EdgeBERTError { EdgeBERTError(.data, what, why) }
    public static func usage(_ what: String, _ why: String) -> EdgeBERTError { EdgeBERTError(.usage, what, why) }

    public var description: String { "\(what): \(why)" }
}
