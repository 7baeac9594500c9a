import EdgeBERT

/// embed's records in the chosen format, written as they come:
/// - jsonl: `{"embedding":[...],"n_tokens":N}` per text; a null record
///   `{"embedding":null,"n_tokens":0,"error":"..."}` for a line `--on-error null` keeps in place;
/// - f32: the floats, little-endian (a null record is a row of NaN);
/// - npy: a 128-byte header, then the rows. On a seekable output the header is written with a
///   count of 0 and rewritten in place at the end; on a pipe the count must be known first (the
///   arguments, or the lines of -i FILE counted beforehand), else it is a usage error.
final class RecordSink {
    let format: String
    let writer: RecordWriter
    let hidden: Int
    let pooling: Pooling
    /// Records written so far.
    private(set) var records = 0
    private let rewriteHeader: Bool
    private let declaredCount: Int?
    /// With --pooling none and npy: the token count every text must share.
    private var tokensPerText: Int?

    init(format: String, writer: RecordWriter, embedder: Embedder, source: TextSource, inputFile: String?,
         onError: OnError) throws(EdgeBERTError) {
        self.format = format
        self.writer = writer
        hidden = embedder.dimension
        pooling = embedder.pooling
        guard format == "npy" else { rewriteHeader = false; declaredCount = nil; return }
        if pooling == .none && onError == .null {
            throw .usage("--on-error null", "cannot keep rows aligned in an npy array of token vectors; use jsonl")
        }
        if writer.file.isSeekable {
            rewriteHeader = true
            declaredCount = nil
            try writer.append(bytes: Self.header(count: 0, tokens: pooling == .none ? 0 : nil, hidden: hidden))
            return
        }
        rewriteHeader = false
        let what = "--format npy to \(writer.file.path)"
        if pooling == .none { throw .usage(what, "token vectors to a pipe need their shape first: write to -o FILE, or use jsonl") }
        if onError == .skip { throw .usage(what, "the row count must be known before the first row: --on-error skip cannot be used on a pipe") }
        let count: Int
        if let n = source.argumentCount {
            count = n
        } else if let inputFile {
            count = try TextSource.countLines(path: inputFile)
        } else {
            throw .usage(what, "the row count must be known before the first row: read from -i FILE, write to -o FILE, or use --format f32")
        }
        declaredCount = count
        try writer.append(bytes: Self.header(count: count, tokens: nil, hidden: hidden))
    }

    static func header(count: Int, tokens: Int?, hidden: Int) -> [UInt8] {
        npyHeader(shape: tokens.map { [count, $0, hidden] } ?? [count, hidden])
    }

    /// One pooled vector and the text's token count.
    func vector(_ v: UnsafeBufferPointer<Float>, tokens: Int) throws(EdgeBERTError) {
        if format == "jsonl" {
            try writer.append("{\"embedding\":" + JSONText.array(v) + ",\"n_tokens\":\(tokens)}\n")
        } else {
            try writer.append(floats: v)
        }
        records += 1
    }

    /// One vector per token (--pooling none).
    func tokens(_ rows: [[Float]]) throws(EdgeBERTError) {
        if format == "jsonl" {
            try writer.append("{\"embedding\":[" + rows.map { r in r.withUnsafeBufferPointer { JSONText.array($0) } }.joined(separator: ",")
                              + "],\"n_tokens\":\(rows.count)}\n")
        } else {
            if format == "npy" {
                if tokensPerText == nil { tokensPerText = rows.count }
                guard tokensPerText == rows.count else {
                    throw .usage("--format npy", "token vectors of texts with different token counts do not fit one array; use jsonl or one text")
                }
            }
            for r in rows { try r.withUnsafeBufferPointer { (b: UnsafeBufferPointer<Float>) throws(EdgeBERTError) in try writer.append(floats: b) } }
        }
        records += 1
    }

    /// A line that could not be embedded, kept in place (--on-error null).
    func null(problem: String) throws(EdgeBERTError) {
        if format == "jsonl" {
            try writer.append("{\"embedding\":null,\"n_tokens\":0,\"error\":\(JSONText.string(problem))}\n")
        } else {
            let nan = [Float](repeating: .nan, count: hidden)
            try nan.withUnsafeBufferPointer { (b: UnsafeBufferPointer<Float>) throws(EdgeBERTError) in try writer.append(floats: b) }
        }
        records += 1
    }

    /// The last record is written: the npy header gets its count, the output is committed.
    func finish() throws(EdgeBERTError) {
        if rewriteHeader {
            try writer.flush()
            try writer.file.write(Self.header(count: records, tokens: pooling == .none ? (tokensPerText ?? 0) : nil, hidden: hidden),
                                  at: writer.file.startOffset)
        }
        if let declaredCount, declaredCount != records {
            throw .data(writer.file.path, "the npy header announced \(declaredCount) rows but \(records) were written (the input changed while read?)")
        }
        try writer.finish()
    }
}
