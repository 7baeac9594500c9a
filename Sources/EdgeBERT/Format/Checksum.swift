import CKernels

public enum Checksum {
    /// CRC32C (Castagnoli) of `bytes`.
    public static func crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return 0 }
        return ek_crc32c(0, base, bytes.count)
    }
}
