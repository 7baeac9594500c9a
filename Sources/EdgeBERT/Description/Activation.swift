/// The hidden activation of the feed-forward block.
public enum Activation: UInt32, Sendable, CustomStringConvertible {
    /// `gelu`: the exact erf form.
    case gelu = 0
    /// `gelu_new`, `gelu_pytorch_tanh`: the tanh approximation.
    case geluTanh = 1
    case relu = 2

    /// The activation config.json's `hidden_act` names, or nil when unsupported.
    public init?(huggingFace name: String) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        default: return nil
        }
    }

    /// The name `inspect` prints.
    public var description: String {
        switch self {
        case .gelu: "gelu"
        case .geluTanh: "gelu_tanh"
        case .relu: "relu"
        }
    }
}
