/// How token vectors become one text vector.
public enum Pooling: UInt32, Sendable, CustomStringConvertible, CaseIterable {
    case mean = 0
    case cls = 1
    case max = 2
    /// No pooling: one vector per token.
    case none = 3
    /// sentence-transformers' `mean_sqrt_len_tokens`: the sum divided by sqrt(token count).
    case meanSqrtLen = 4

    /// The pooling named on the command line (`mean`, `cls`, `max`, `none`, `mean_sqrt_len`), or nil.
    public init?(name: String) {
        switch name {
        case "mean": self = .mean
        case "cls": self = .cls
        case "max": self = .max
        case "none": self = .none
        case "mean_sqrt_len", "mean_sqrt_len_tokens": self = .meanSqrtLen
        default: return nil
        }
    }

    /// The name `inspect` prints.
    public var description: String {
        switch self {
        case .mean: "mean"
        case .cls: "cls"
        case .max: "max"
        case .none: "none"
        case .meanSqrtLen: "mean_sqrt_len_tokens"
        }
    }
}
