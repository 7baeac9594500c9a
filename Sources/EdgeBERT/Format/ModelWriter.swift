import CKernels
/// A tensor on its way into a model file: name, dtype, logical shape, and its bytes.
struct PendingTensor {
    var name: String
    var dtype: DType
    var shape: [Int]
    var data: [UInt8]

    init(name: String, dtype: DType, shape: [Int], data: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    init(name: String, floats: [Float], shape: [Int]) {
        self.init(name: name, dtype: .f32, shape: shape, data: floats.withUnsafeBytes { Array($0) })
    }

    /// A dense layer's f32 weights [n][k] stored as the float matmul reads them: 16-column panels
    /// `[ceil(n/16)][k][16]`, zero past n (dtype f32-packed).
    init(name: String, panelsOf weights: [Float], n: Int, k: Int) {
        precondition(weights.count == n * k, "weights are [n][k]")
        var panels = [Float](repeating: 0, count: roundUp(n, 16) * k)
        weights.withUnsafeBufferPointer { w in
            panels.withUnsafeMutableBufferPointer { p in ek_pack_f32_panels(w.baseAddress, Int32(n), Int32(k), p.baseAddress) }
        }
        self.init(name: name, dtype: .f32Packed, shape: [n, k], data: panels.withUnsafeBytes { Array($0) })
    }
}

/// Writes header, tensor table, vocabulary and 64-byte-aligned tensor data as one file, to a
/// temporary name first: a failure part way leaves nothing at `path`.
enum ModelWriter {
    static let alignment = 64

    static func write(path: String, config: ModelConfig, weightDType: DType, vocab: [String],
                             tensors: [PendingTensor], protecting: [String] = []) throws(EdgeBERTError) {
        var header = ModelHeader(config: config, weightDType: weightDType)
        header.tensorCount = UInt32(tensors.count)
        header.tableOffset = UInt64(ModelHeader.size)
        var vocabBlob = ByteWriter()
        for (i, token) in vocab.enumerated() {
            if i > 0 { vocabBlob.u8(0x0A) }
            vocabBlob.bytes.append(contentsOf: token.utf8)
        }
        header.vocabOffset = header.tableOffset + UInt64(tensors.count * TensorEntry.size)
        header.vocabBytes = UInt64(vocabBlob.bytes.count)
        header.vocabCount = UInt32(vocab.count)
        let dataStart = roundUp(Int(header.vocabOffset + header.vocabBytes), alignment)
        header.dataOffset = UInt64(dataStart)

        var table = ByteWriter()
        var cursor = dataStart
        for t in tensors {
            let expected = t.dtype.byteCount(shape: t.shape)
            precondition(expected == t.data.count, "tensor \(t.name): \(t.data.count) bytes for shape \(t.shape)")
            precondition(t.name.utf8.count < TensorEntry.nameWidth, "tensor name too long: \(t.name)")
            TensorEntry(name: t.name, dtype: t.dtype, shape: t.shape, offset: cursor, length: t.data.count)
                .encode(into: &table)
            cursor = roundUp(cursor + t.data.count, alignment)
        }
        header.dataBytes = UInt64(cursor - dataStart)

        // Everything after byte 16, in file order, for the checksum.
        var body = ByteWriter()
        body.bytes.reserveCapacity(cursor)
        body.bytes.append(contentsOf: header.encode())
        body.bytes.append(contentsOf: table.bytes)
        body.bytes.append(contentsOf: vocabBlob.bytes)
        body.pad(to: alignment)
        for t in tensors {
            body.bytes.append(contentsOf: t.data)
            body.pad(to: alignment)
        }
        let meta = body.bytes.withUnsafeBytes { ModelHeader.metaCRC($0, dataOffset: dataStart) }
        withUnsafeBytes(of: meta.littleEndian) { c in
            for i in 0..<4 { body.bytes[ModelHeader.metaChecksumOffset + i] = c[i] }
        }
        let crc = body.bytes.withUnsafeBytes { b in
            Checksum.crc32c(UnsafeRawBufferPointer(rebasing: b[ModelHeader.checkedFrom...]))
        }
        withUnsafeBytes(of: crc.littleEndian) { c in
            for i in 0..<4 { body.bytes[ModelHeader.checksumOffset + i] = c[i] }
        }
        let out = try OutputFile(path: path, protecting: protecting)
        try out.write(body.bytes)
        try out.commit()
    }
}
