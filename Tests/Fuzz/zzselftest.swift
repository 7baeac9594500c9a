@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if size >= 3 && data[0] == 0x46 && data[1] == 0x55 && data[2] == 0x5A { let a = [1]; _ = a[size] }
    return 0
}
