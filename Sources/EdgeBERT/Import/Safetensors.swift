/// A Hugging Face .safetensors file: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the data. Mapped, bounds-checked, never copied
/// until a tensor is asked for as floats.
final class SafetensorsFile {
    struct Tensor {
        let name: String
        let dtype: String
        let shape: [Int]
        let bytes: UnsafeRawBufferPointer
    }

    let path: String
    let file: MappedFile
    private(set) var tensors: [String: Tensor] = [:]

    init(path: String) throws(EdgeBERTError) {
        self.path = path
        file = try MappedFile(path: path)
        var r = ByteReader(file.bytes, what: path)
        let headerLength = try r.u64()
        guard headerLength <= UInt64(file.bytes.count - 8) else {
            throw .data(path, "safetensors header of \(headerLength) bytes runs past the end of the file: truncated?")
        }
        let headerBytes = Array(file.bytes[8..<(8 + Int(headerLength))])
        guard let entries = try JSON.parse(headerBytes, what: path).object else {
            throw .data(path, "safetensors header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        let dataCount = file.bytes.count - dataStart
        for (name, e) in entries where name != "__metadata__" {
            guard let dtype = e["dtype"]?.string, let shapeValues = e["shape"]?.array,
                  let offValues = e["data_offsets"]?.array, offValues.count == 2 else {
                throw .data(path, "tensor \(name): incomplete header entry")
            }
            let shape = shapeValues.compactMap(\.int), off = offValues.compactMap(\.int)
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }), off.count == 2 else {
                throw .data(path, "tensor \(name): shape and offsets must be whole numbers")
            }
            guard off[0] >= 0, off[0] <= off[1], off[1] <= dataCount else {
                throw .data(path, "tensor \(name): bytes [\(off[0]), \(off[1])) lie outside the data (\(dataCount) bytes): truncated?")
            }
            guard let width = Self.width(dtype) else { continue }  // e.g. an unused bool tensor
            let count = checkedProduct(shape + [width])
            guard count >= 0, count == off[1] - off[0] else {
                throw .data(path, "tensor \(name): \(off[1] - off[0]) bytes for shape \(shape) of \(dtype)")
            }
            let slice = UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + off[0])..<(dataStart + off[1])])
            tensors[name] = Tensor(name: name, dtype: dtype, shape: shape, bytes: slice)
        }
    }

    static func width(_ dtype: String) -> Int? {
        switch dtype {
        case "F32", "I32": 4
        case "F16", "BF16", "I16": 2
        case "I64", "F64": 8
        case "I8", "U8", "BOOL": 1
        default: nil
        }
    }

    /// The file's size in bytes.
    var fileSize: Int { file.bytes.count }

    /// The float dtypes `floats` converts, and how one element of each reads.
    enum FloatType {
        case f32, f16, bf16, f64

        init?(_ dtype: String) {
            switch dtype {
            case "F32": self = .f32
            case "F16": self = .f16
            case "BF16": self = .bf16
            case "F64": self = .f64
            default: return nil
            }
        }

        /// Element `i` of little-endian `bytes` as a Float.
        @inline(__always) func value(_ bytes: UnsafeRawBufferPointer, _ i: Int) -> Float {
            switch self {
            case .f32: Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            case .f16: halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            case .bf16: Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            case .f64: Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        }
    }

    /// True for the dtypes `floats` converts.
    static func isFloat(_ dtype: String) -> Bool { FloatType(dtype) != nil }

    /// The first element of a float tensor that is not finite or has a magnitude above `limit`,
    /// as (index, value); nil when every element is fine. Reads in place: no copy.
    func firstImplausibleValue(_ name: String, limit: Float) throws(EdgeBERTError) -> (Int, Float)? {
        guard let t = tensors[name] else { throw .data(path, "tensor \(name) is missing") }
        guard let type = FloatType(t.dtype) else { return nil }
        for i in 0..<checkedProduct(t.shape) {
            let v = type.value(t.bytes, i)
            if !(abs(v) <= limit) { return (i, v) }  // NaN compares false: refused too
        }
        return nil
    }

    /// The tensor as fp32, converting f16 / bf16 / f64.
    func floats(_ name: String) throws(EdgeBERTError) -> (shape: [Int], values: [Float]) {
        guard let t = tensors[name] else { throw .data(path, "tensor \(name) is missing") }
        guard let type = FloatType(t.dtype) else {
            throw .data(path, "tensor \(name) is \(t.dtype), expected a float type (F32, F16, BF16)")
        }
        let n = checkedProduct(t.shape)
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n { out[i] = type.value(t.bytes, i) }
        return (t.shape, out)
    }
}

/// IEEE half to single, subnormals, infinities and NaN included.
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exp = Int((h >> 10) & 0x1F)
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
}

/// Single to IEEE half, round to nearest even.
func floatToHalf(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    if f.isNaN { return sign | 0x7E00 }
    let a = abs(f)
    if a >= 65520 { return sign | 0x7C00 }
    if a < Float(sign: .plus, exponent: -14, significand: 1) {
        let m = (a / Float(sign: .plus, exponent: -24, significand: 1)).rounded(.toNearestOrEven)
        return sign | UInt16(m)
    }
    let e = Int(a.exponent)
    let scaled = (a.significand * 1024).rounded(.toNearestOrEven)  // 1024...2048
    var mant = UInt32(scaled) - 1024
    var exp = e + 15
    if mant == 1024 { mant = 0; exp += 1 }
    return sign | UInt16(exp << 10) | UInt16(mant)
}
