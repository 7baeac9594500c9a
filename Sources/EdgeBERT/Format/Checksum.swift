import CKernels

enum Checksum {
    /// CRC32C (Castagnoli) of `bytes`, continuing from `crc` (0 to start).
    static func crc32c(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return ek_crc32c(crc, base, bytes.count)
    }
}
