/// Element types of stored tensors.
public enum DType: UInt32, Sendable, CustomStringConvertible {
    case f32 = 1
    case f16 = 2
    /// int8, row-major (embedding tables: one scale per row in a companion tensor).
    case i8 = 3
    /// int8 weights packed in panels `[Np/16][Kp/4][16][4]`; the logical shape is [N, K].
    case i8Packed = 4
    case i32 = 5

    public var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .i8: "i8"
        case .i8Packed: "i8-packed"
        case .i32: "i32"
        }
    }

    public init?(name: String) {
        switch name {
        case "f32": self = .f32
        case "f16": self = .f16
        case "int8", "i8": self = .i8
        default: return nil
        }
    }

    /// Bytes a tensor of this dtype and logical shape occupies in the file.
    func byteCount(shape: [Int]) -> Int {
        switch self {
        case .f32, .i32: shape.reduce(1, *) * 4
        case .f16: shape.reduce(1, *) * 2
        case .i8: shape.reduce(1, *)
        case .i8Packed: shape.count == 2 ? roundUp(shape[0], 16) * roundUp(shape[1], 4) : -1
        }
    }
}

@inline(__always) func roundUp(_ x: Int, _ m: Int) -> Int { (x + m - 1) / m * m }
