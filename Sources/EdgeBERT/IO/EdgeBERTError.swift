/// Every failure EdgeBERT reports: what went wrong, and why, in words a user can act on.
/// The CLI prints `edgebert: <what>: <why>` and exits 1 for `.data` errors, 2 for `.usage`.
public struct EdgeBERTError: Error, CustomStringConvertible, Sendable {
    /// Bad data (a file, a text, the system) or a bad request (an option out of range).
    public enum Kind: Sendable {
        /// The input, a file or the system failed: the CLI exits 1.
        case data
        /// The caller asked for something impossible (an option, a path): the CLI exits 2.
        case usage
    }
    /// Data or usage.
    public let kind: Kind
    /// The thing that failed: a path, a tensor name, an option (`Embedder.Options` property names
    /// in the library, flags in the CLI).
    public let what: String
    /// Why it failed.
    public let why: String
    /// The errno of the failed system call, when a system call failed (ENOENT, ENOSPC, EPIPE, ...).
    public let errno: Int32?

    /// An error with its three parts.
    public init(_ kind: Kind = .data, _ what: String, _ why: String, errno: Int32? = nil) {
        self.kind = kind
        self.what = what
        self.why = why
        self.errno = errno
    }

    /// A `.data` error.
    public static func data(_ what: String, _ why: String) -> EdgeBERTError { EdgeBERTError(.data, what, why) }
    /// A `.usage` error.
    public static func usage(_ what: String, _ why: String) -> EdgeBERTError { EdgeBERTError(.usage, what, why) }

    /// A failed system call on `what`: "action: the errno's text", the errno kept as a value.
    public static func system(_ what: String, _ action: String, errno code: Int32) -> EdgeBERTError {
        systemError(what, action, code: code)
    }

    /// `what: why`.
    public var description: String { "\(what): \(why)" }
}
