/// The two embedding APIs the server speaks, and how each shapes its errors.
enum ServeAPIKind {
    /// OpenAI: POST /v1/embeddings; errors `{"error":{"message","type","code"}}`.
    case openAI
    /// Hugging Face text-embeddings-inference: POST /embed, /tokenize; errors `{"error","error_type"}`.
    case tei
    /// EdgeBERT's POST /search (with `serve --index`); errors `{"error"}`.
    case search
}

/// A request the server refuses: the status, the message, and the API whose error shape it takes.
struct APIError: Error {
    var status: Int
    var message: String
    var api: ServeAPIKind?
}

/// An embedding request decoded from either API and checked: what the engine computes.
struct EmbedRequest {
    var api: ServeAPIKind
    var inputs: [EmbedInput]
    /// L2-normalise each vector.
    var normalize: Bool
    /// Refuse (413) texts past the max length instead of cutting them (TEI's truncate = false).
    var strict: Bool
    /// OpenAI: the model name to echo.
    var model: String
    /// OpenAI: little-endian float32 in base64 instead of a float array.
    var base64: Bool
    /// /search: results per query (nil: an embedding request).
    var k: Int? = nil
    /// /search: the query was one string (one object answers it), not an array.
    var singleQuery = false
}

/// Request bodies in, response bodies out, for both APIs. Every field is type-checked; unknown
/// fields are ignored (as both APIs do); a body that is not valid UTF-8 JSON is a 400.
enum ServeAPI {
    static func parseBody(_ body: [UInt8], api: ServeAPIKind) throws(APIError) -> [String: JSONValue] {
        guard String(validating: body, as: UTF8.self) != nil else { throw APIError(status: 400, message: "the body is not valid UTF-8", api: api) }
        let value: JSONValue
        do throws(EdgeBERTError) {
            value = try JSON.parse(body, what: "body")
        } catch {
            throw APIError(status: 400, message: error.why, api: api)
        }
        guard let o = value.object else { throw APIError(status: 400, message: "the body must be a JSON object", api: api) }
        return o
    }

    /// OpenAI's embeddings request: `input` a string, strings, token ids or arrays of them;
    /// `model`, `encoding_format` (float | base64), `dimensions` (only the model's own), `user`.
    static func openAI(_ body: [UInt8], dimension: Int, vocabSize: Int, maxInputs: Int, modelName: String,
                       normalize: Bool) throws(APIError) -> EmbedRequest {
        let o = try parseBody(body, api: .openAI)
        func bad(_ m: String, _ status: Int = 400) -> APIError { APIError(status: status, message: m, api: .openAI) }
        guard let input = o["input"] else { throw bad("'input' is required") }
        var inputs: [EmbedInput] = []
        func ids(_ a: [JSONValue]) throws(APIError) -> [Int32] {
            var out: [Int32] = []
            out.reserveCapacity(a.count)
            for v in a {
                guard let i = v.int, i >= 0, i < vocabSize else { throw bad("token ids must be whole numbers in 0..<\(vocabSize)") }
                out.append(Int32(i))
            }
            return out
        }
        switch input {
        case .string(let s): inputs = [.text(s)]
        case .array(let a):
            guard !a.isEmpty else { throw bad("'input' must not be an empty array") }
            if a.allSatisfy({ $0.string != nil }) {
                inputs = a.map { .text($0.string!) }
            } else if a.allSatisfy({ if case .number = $0 { return true } else { return false } }) {
                inputs = [.tokens(try ids(a))]
            } else if a.allSatisfy({ $0.array != nil }) {
                for item in a {
                    let t = try ids(item.array!)
                    guard !t.isEmpty else { throw bad("a token array in 'input' is empty") }
                    inputs.append(.tokens(t))
                }
            } else {
                throw bad("'input' must be a string, an array of strings, an array of token ids or an array of such arrays")
            }
        default:
            throw bad("'input' must be a string, an array of strings, an array of token ids or an array of such arrays")
        }
        guard inputs.count <= maxInputs else { throw bad("\(inputs.count) inputs, more than the \(maxInputs) this server takes per request", 413) }
        var model = modelName
        if let m = o["model"], !m.isNull {
            guard let s = m.string else { throw bad("'model' must be a string") }
            model = s
        }
        var base64 = false
        if let f = o["encoding_format"], !f.isNull {
            guard let s = f.string, s == "float" || s == "base64" else { throw bad("'encoding_format' must be \"float\" or \"base64\"") }
            base64 = s == "base64"
        }
        if let d = o["dimensions"], !d.isNull {
            guard let n = d.int else { throw bad("'dimensions' must be a whole number") }
            guard n == dimension else { throw bad("this model gives \(dimension) dimensions; 'dimensions' \(n) is not supported") }
        }
        if let u = o["user"], !u.isNull, u.string == nil { throw bad("'user' must be a string") }
        return EmbedRequest(api: .openAI, inputs: inputs, normalize: normalize, strict: false, model: model, base64: base64)
    }

    /// The TEI inputs: a string or strings.
    static func teiInputs(_ o: [String: JSONValue], maxInputs: Int) throws(APIError) -> [String] {
        try texts(o, "inputs", api: .tei, maxInputs: maxInputs)
    }

    /// `o[key]` as a string or a non-empty array of strings, at most `maxInputs` of them (422 / 413).
    static func texts(_ o: [String: JSONValue], _ key: String, api: ServeAPIKind, maxInputs: Int) throws(APIError) -> [String] {
        func bad(_ m: String, _ status: Int = 422) -> APIError { APIError(status: status, message: m, api: api) }
        guard let v = o[key] else { throw bad("'\(key)' is required") }
        let texts: [String]
        if let s = v.string {
            texts = [s]
        } else if let a = v.array, !a.isEmpty, a.allSatisfy({ $0.string != nil }) {
            texts = a.map { $0.string! }
        } else {
            throw bad("'\(key)' must be a string or a non-empty array of strings")
        }
        guard texts.count <= maxInputs else { throw bad("\(texts.count) \(key), more than the \(maxInputs) this server takes per request", 413) }
        return texts
    }

    static func teiBool(_ o: [String: JSONValue], _ key: String, default d: Bool) throws(APIError) -> Bool {
        guard let v = o[key], !v.isNull else { return d }
        guard let b = v.bool else { throw APIError(status: 422, message: "'\(key)' must be true or false", api: .tei) }
        return b
    }

    /// TEI's /embed: `inputs`, `normalize` (default true), `truncate` (default false: too long is 413).
    static func tei(_ body: [UInt8], maxInputs: Int) throws(APIError) -> EmbedRequest {
        let o = try parseBody(body, api: .tei)
        let texts = try teiInputs(o, maxInputs: maxInputs)
        let normalize = try teiBool(o, "normalize", default: true)
        let truncate = try teiBool(o, "truncate", default: false)
        return EmbedRequest(api: .tei, inputs: texts.map { .text($0) }, normalize: normalize, strict: !truncate, model: "", base64: false)
    }

    /// POST /search: `{"query": "text" | ["text", ...], "k": 10}` (k in 1...count, default
    /// min(10, count)).
    static func search(_ body: [UInt8], maxInputs: Int, count: Int) throws(APIError) -> EmbedRequest {
        func bad(_ m: String, _ status: Int = 422) -> APIError { APIError(status: status, message: m, api: .search) }
        let o = try parseBody(body, api: .search)
        let texts = try texts(o, "query", api: .search, maxInputs: maxInputs)
        var k = min(10, count)
        if let kv = o["k"], !kv.isNull {
            guard let n = kv.int else { throw bad("'k' must be a whole number") }
            k = n
        }
        guard count > 0 else { throw bad("the index is empty") }
        guard (1...count).contains(k) else { throw bad("'k' is \(k), outside 1...\(count), the texts in the index") }
        return EmbedRequest(api: .search, inputs: texts.map { .text($0) }, normalize: false, strict: false, model: "", base64: false,
                            k: k, singleQuery: o["query"]?.string != nil)
    }

    /// The /search response: one object per query, `{"query","results":[{"score","line","text"}]}`,
    /// alone for a single query, else in an array.
    static func searchResponse(_ request: EmbedRequest, hits: [[SearchHit]]) -> [UInt8] {
        var parts: [String] = []
        for (i, input) in request.inputs.enumerated() {
            guard case .text(let q) = input else { continue }
            let results = hits[i].map { "{\"score\":\(JSONText.number($0.score)),\"line\":\($0.line),\"text\":\(JSONText.string($0.text))}" }
            parts.append("{\"query\":\(JSONText.string(q)),\"results\":[\(results.joined(separator: ","))]}")
        }
        return Array((request.singleQuery ? parts[0] : "[" + parts.joined(separator: ",") + "]").utf8)
    }

    /// The response body for `request`, vectors [inputs][dimension] and the tokens each input had.
    static func response(_ request: EmbedRequest, vectors: UnsafeBufferPointer<Float>, dimension H: Int, tokens: Int) -> [UInt8] {
        var s = ""
        switch request.api {
        case .openAI:
            s = "{\"object\":\"list\",\"data\":["
            for i in 0..<request.inputs.count {
                let v = UnsafeBufferPointer(rebasing: vectors[(i * H)..<((i + 1) * H)])
                if i > 0 { s += "," }
                s += "{\"object\":\"embedding\",\"index\":\(i),\"embedding\":"
                s += request.base64 ? "\"" + JSONText.base64(UnsafeRawBufferPointer(v)) + "\"" : JSONText.array(v)
                s += "}"
            }
            s += "],\"model\":\(JSONText.string(request.model)),\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}}"
        case .tei, .search:   // /search answers through searchResponse
            s = "["
            for i in 0..<request.inputs.count {
                if i > 0 { s += "," }
                s += JSONText.array(UnsafeBufferPointer(rebasing: vectors[(i * H)..<((i + 1) * H)]))
            }
            s += "]"
        }
        return Array(s.utf8)
    }

    /// An error body in the API's own shape.
    static func errorBody(_ e: APIError) -> [UInt8] {
        let s: String
        switch e.api {
        case .openAI?:
            let type = e.status == 401 ? "authentication_error" : e.status >= 500 || e.status == 429 ? "server_error" : "invalid_request_error"
            s = "{\"error\":{\"message\":\(JSONText.string(e.message)),\"type\":\"\(type)\",\"param\":null,\"code\":\(e.status)}}"
        case .tei?:
            let type = e.status == 413 || e.status == 422 ? "Validation" : e.status == 429 || e.status == 503 ? "Overloaded" : e.status >= 500 ? "Backend" : "Validation"
            s = "{\"error\":\(JSONText.string(e.message)),\"error_type\":\"\(type)\"}"
        case .search?, nil:
            s = "{\"error\":\(JSONText.string(e.message))}"
        }
        return Array(s.utf8)
    }
}
