/// Element types of stored tensors.
public enum DType: UInt32, Sendable, CustomStringConvertible {
    case f32 = 1
    case f16 = 2
    /// int8, row-major (embedding tables: one scale per row in a companion tensor).
    case i8 = 3
    /// int8 weights packed in panels `[Np/16][Kp/4][16][4]`; the logical shape is [N, K].
    case i8Packed = 4
    case i32 = 5
    /// f32 weights packed in 16-column panels `[Np/16][K][16]` (zero past N); the logical shape is
    /// [N, K]. The float matmul reads them as they lie (`ek_pack_f32_panels` writes them).
    case f32Packed = 6

    /// The name `inspect` prints.
    public var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .i8: "i8"
        case .i8Packed: "i8-packed"
        case .i32: "i32"
        case .f32Packed: "f32-packed"
        }
    }

    /// The dtype named on the command line (`f32`, `f16`, `int8`), or nil.
    public init?(name: String) {
        switch name {
        case "f32": self = .f32
        case "f16": self = .f16
        case "int8", "i8": self = .i8
        default: return nil
        }
    }

    /// Bytes a tensor of this dtype and logical shape occupies in the file; -1 when the shape is
    /// impossible (negative, or a size that overflows).
    func byteCount(shape: [Int]) -> Int {
        switch self {
        case .f32, .i32: checkedProduct(shape + [4])
        case .f16: checkedProduct(shape + [2])
        case .i8: checkedProduct(shape)
        case .i8Packed: shape.count == 2 && shape.allSatisfy({ $0 >= 0 && $0 < 1 << 30 })
            ? checkedProduct([roundUp(shape[0], 16), roundUp(shape[1], 4)]) : -1
        case .f32Packed: shape.count == 2 && shape.allSatisfy({ $0 >= 0 && $0 < 1 << 30 })
            ? checkedProduct([roundUp(shape[0], 16), shape[1], 4]) : -1
        }
    }
}

@inline(__always) func roundUp(_ x: Int, _ m: Int) -> Int { (x + m - 1) / m * m }

/// The product of `dims`, or -1 when one is negative or the product overflows.
func checkedProduct(_ dims: [Int]) -> Int {
    var p = 1
    for d in dims {
        guard d >= 0 else { return -1 }
        let (r, overflow) = p.multipliedReportingOverflow(by: d)
        if overflow { return -1 }
        p = r
    }
    return p
}
