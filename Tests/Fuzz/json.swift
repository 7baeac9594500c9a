// libFuzzer harness `json`: the JSON parser (Sources/EdgeBERT/Import/JSON.swift), on the raw bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let v = try? JSON.parse(bytes, what: "fuzz"), let o = v.object {
        // The typed accessors the importers use.
        if let obj = try? JSONObject(v, what: "fuzz") {
            for key in o.keys.sorted() {
                _ = try? obj.int(key); _ = try? obj.double(key); _ = try? obj.string(key); _ = try? obj.bool(key)
            }
        }
    }
    return 0
}
