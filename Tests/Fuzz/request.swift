// libFuzzer harness `request`: the server's JSON request decoders (Sources/EdgeBERT/Serve/ServeAPI.swift),
// OpenAI's and TEI's, on the raw body; a request that decodes is turned into a response body with
// zero vectors (the same code path the engine uses) and must be valid UTF-8.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    let H = 4
    for api in [ServeAPIKind.openAI, .tei] {
        let decoded: EmbedRequest
        do throws(APIError) {
            decoded = api == .openAI
                ? try ServeAPI.openAI(body, dimension: H, vocabSize: 100, maxInputs: 16, modelName: "m", normalize: true)
                : try ServeAPI.tei(body, maxInputs: 16)
        } catch {
            precondition((400...599).contains(error.status))
            precondition(String(validating: ServeAPI.errorBody(error), as: UTF8.self) != nil)
            continue
        }
        precondition((1...16).contains(decoded.inputs.count))
        for case .tokens(let ids) in decoded.inputs { precondition(ids.allSatisfy { $0 >= 0 && $0 < 100 }) }
        let vectors = [Float](repeating: 0.5, count: decoded.inputs.count * H)
        let out = vectors.withUnsafeBufferPointer { ServeAPI.response(decoded, vectors: $0, dimension: H, tokens: 3) }
        precondition(String(validating: out, as: UTF8.self) != nil)
    }
    return 0
}
