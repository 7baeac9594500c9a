import EdgeBERT

/// A 2-D little-endian float32 .npy file ([rows][columns], C order), mapped, for vectors made
/// elsewhere (`index --from-npy`, `search --query-npy`, `bench --index`).
struct NpyMatrix {
    let file: MappedFile
    let rows: Int
    let columns: Int
    let data: UnsafeBufferPointer<Float>

    init(path: String) throws(EdgeBERTError) {
        file = try MappedFile(path: path)
        let b = file.bytes
        guard b.count >= 10, Array(b[0..<6]) == [0x93] + Array("NUMPY".utf8) else { throw .data(path, "not a .npy file (bad magic)") }
        let major = b[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(b[8]) | Int(b[9]) << 8
            start = 10
        } else if major == 2 || major == 3, b.count >= 12 {
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            start = 12
        } else {
            throw .data(path, "unsupported .npy version \(major)")
        }
        guard headerLength <= b.count - start else { throw .data(path, "the .npy header runs past the end of the file: truncated") }
        let header = String(decoding: b[start..<(start + headerLength)], as: UTF8.self).filter { $0 != " " }
        guard header.contains("'descr':'<f4'") else { throw .data(path, "only little-endian float32 arrays ('<f4') are read") }
        guard header.contains("'fortran_order':False") else { throw .data(path, "a Fortran-order array: save it in C order") }
        guard let open = header.firstRange(of: "'shape':("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw .data(path, "the .npy header has no shape")
        }
        let dims = header[open.upperBound..<close].split(separator: ",").map { Int($0) }
        guard dims.count == 2, let r = dims[0], let c = dims[1], r >= 0, c >= 1, c <= 65536 else {
            throw .data(path, "a 2-D array [rows, columns] is needed, the shape is (\(header[open.upperBound..<close]))")
        }
        let offset = start + headerLength
        guard r <= (b.count - offset) / 4 / c else { throw .data(path, "\(r) x \(c) floats do not fit in the file: truncated") }
        rows = r
        columns = c
        data = UnsafeBufferPointer(start: (b.baseAddress! + offset).assumingMemoryBound(to: Float.self), count: r * c)
    }

    /// Row i: [columns] floats.
    func row(_ i: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(rebasing: data[(i * columns)..<((i + 1) * columns)]) }
}
