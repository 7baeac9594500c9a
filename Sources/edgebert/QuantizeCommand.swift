#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

enum QuantizeCommand {
    static let spec = CommandSpec(
        name: "quantize", usage: "quantize HF_DIR|MODEL.onnx -o MODEL [--vocab FILE] [--dtype int8|f32] [--keep-float PATTERN]...",
        summary: "Convert a Hugging Face BERT folder (config.json, vocab.txt, model.safetensors, sentence-transformers\nconfigs), or a float ONNX export of BERT (its weights mapped by following the graph), into one\nself-contained EdgeBERT model file.",
        options: [
            OptionSpec(names: ["-o", "--output"], value: "MODEL", help: "The model file to write (written atomically)"),
            OptionSpec(names: ["--dtype"], value: "TYPE", help: "int8 (default) or f32 (the float reference)"),
            OptionSpec(names: ["--vocab"], value: "FILE", help: "The WordPiece vocab.txt of an ONNX export (default: vocab.txt beside the .onnx file)"),
            OptionSpec(names: ["--max-seq-length"], value: "N", help: "The longest input in tokens (default: the model's; 128 for an ONNX export)"),
            OptionSpec(names: ["--keep-float"], value: "PATTERN", help: "Keep dense layers whose name contains PATTERN in f32", repeats: true),
            OptionSpec(names: ["--smoothing"], value: "ALPHA", help: "SmoothQuant strength 0...1 (default: chosen per input by measurement; 0: off)"),
            OptionSpec(names: ["--calibration"], value: "FILE", help: "Calibration texts, one per line (default: a built-in set)"),
            OptionSpec(names: ["--max-error"], value: "E", help: "Keep f32 any matrix whose output error on calibration exceeds E (default 0.05; 0: never)"),
            OptionSpec(names: ["-q", "--quiet"], value: nil, help: "Print nothing but errors"),
            OptionSpec(names: ["--no-check"], value: nil, help: "Skip the closing check against float (embeds the calibration texts twice)"),
        ])

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        guard a.positionals.count == 1 else { throw .usage("quantize", "needs exactly one HF_DIR or MODEL.onnx (got \(a.positionals.count))") }
        let out = try a.required("--output")
        var options = Converter.Options()
        if let d = a.value("--dtype") {
            switch d {
            case "int8", "i8": options.dtype = .i8
            case "f32": options.dtype = .f32
            case "f16": throw .usage("--dtype", "f16 is not supported yet (int8 or f32)")
            default: throw .usage("--dtype", "\"\(d)\" is not one of int8, f32")
            }
        }
        options.keepFloat = a.all("--keep-float")
        options.vocabPath = a.value("--vocab")
        options.maxSequenceLength = try a.int("--max-seq-length", 2...65536)
        if let alpha = try a.double("--smoothing", 0...1) { options.smoothing = Float(alpha) }
        if let e = try a.double("--max-error", 0...10) { options.maxOutputError = e }
        if let file = a.value("--calibration") { options.calibrationTexts = try Input.texts(positionals: [], file: file) }
        let showProgress = !a.flag("--quiet") && isatty(2) != 0
        if showProgress {
            options.progress = { share, step in Progress.draw("quantize: \(Int(share * 100))% \(step)") }
        }
        let report: Converter.Report
        do {
            defer { if showProgress { Progress.draw("") } }  // erase the line, on success or failure
            report = try Converter.convert(hfDir: a.positionals[0], outPath: out, options: options)
        }
        if a.flag("--quiet") { return }
        if options.dtype == .i8 {
            say("matrix                                   shape        stored     weight err  output err (calibration)")
            for r in report.layers {
                let shape = "\(r.shape[0])x\(r.shape[1])"
                let out = r.outputError.map { format4($0) + (r.keptByMeasurement ? "  kept f32: above --max-error" : "") } ?? "-"
                say(r.name.padding(40) + " " + shape.padding(12) + " " + r.stored.description.padding(10) + " "
                    + (r.relativeError == 0 ? "-" : format4(r.relativeError)).padding(11) + " " + out)
            }
        }
        if report.smoothed {
            let kinds = ["attention input", "context", "FFN input", "FFN hidden"]
            say("smoothing alpha: " + zip(kinds, report.alphas).map { "\($0) \(fixed(Double($1), 2))" }.joined(separator: ", "))
        }
        let model = try ModelFile(path: out)
        say("wrote \(out): \(model.file.bytes.count) bytes, \(model.entries.count) tensors, \(model.header.weightDType) weights")
        if options.dtype == .i8 && !a.flag("--no-check") {
            say(try check(model, hfDir: a.positionals[0], options: options).verdict("int8"))
        }
    }

    /// The written int8 model against the same checkpoint in f32 (converted to a temporary file,
    /// with the same vocabulary and max length) on the calibration texts.
    static func check(_ model: ModelFile, hfDir: String, options: Converter.Options) throws(EdgeBERTError) -> Accuracy {
        let temp = TemporaryFile(path: model.path + ".reference-\(getpid())")
        let texts = options.calibrationTexts ?? Converter.builtInCalibrationTexts
        var o = Converter.Options()
        o.dtype = .f32
        o.vocabPath = options.vocabPath
        o.maxSequenceLength = options.maxSequenceLength
        _ = try Converter.convert(hfDir: hfDir, outPath: temp.path, options: o)
        let accuracy = try Accuracy(model: try Embedder(model: model), reference: try Embedder(modelPath: temp.path), texts: texts)
        withExtendedLifetime(temp) {}
        return accuracy
    }
}

/// 4 significant digits without Foundation.
func format4(_ v: Double) -> String {
    guard v.isFinite else { return "\(v)" }
    if v == 0 { return "0" }
    var exp = 0
    var m = abs(v)
    while m >= 10 { m /= 10; exp += 1 }
    while m < 1 { m *= 10; exp -= 1 }
    let digits = Int((m * 1000).rounded())
    let s = "\(digits / 1000).\(String(digits % 1000).leftPad(3))"
    return (v < 0 ? "-" : "") + s + (exp == 0 ? "" : "e\(exp)")
}

/// Fixed decimals without Foundation.
func fixed(_ v: Double, _ decimals: Int) -> String {
    guard v.isFinite else { return "\(v)" }
    var p = 1.0
    for _ in 0..<decimals { p *= 10 }
    let r = (abs(v) * p).rounded()
    let whole = Int(r / p), frac = Int(r.truncatingRemainder(dividingBy: p))
    let sign = v < 0 && r != 0 ? "-" : ""
    return decimals == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(String(frac).leftPad(decimals))"
}

extension String {
    func leftPad(_ width: Int, _ c: Character = "0") -> String {
        count >= width ? self : String(repeating: c, count: width - count) + self
    }
}
