#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

let version = "0.2.0"

let commands: [(String, String)] = [
    ("quantize", "Convert a Hugging Face BERT folder into one int8 model file"),
    ("embed", "Embed texts (arguments, -i FILE or stdin, one per line), streaming"),
    ("tokenize", "Show the WordPiece ids and tokens the model sees"),
    ("compare", "Compare a model's embeddings with a float reference"),
    ("bench", "Measure latency, throughput and memory"),
    ("inspect", "Show a model file's header and tensors; --verify checks its checksum"),
    ("serve", "Serve embeddings over HTTP (OpenAI and text-embeddings-inference APIs)"),
    ("index", "Embed the lines of a file into a search index"),
    ("search", "Find the texts of an index most similar to each query"),
    ("pca", "Fit a PCA on a corpus and write a model with fewer dimensions"),
]

let topHelp = """
EdgeBERT \(version): BERT text embeddings with int8 kernels for small Linux boards.

Usage: edgebert <command> [options]

Commands:
\(commands.map { "  \($0.0.padding(10)) \($0.1)" }.joined(separator: "\n"))

Run `edgebert <command> --help` for a command's options.
"""

/// Prints `edgebert: <what>: <why>` on one line and exits 1 (data) or 2 (usage). What was already
/// written to stdout is complete records; the rest of the buffer is written first.
func fail(_ e: EdgeBERTError) -> Never {
    if Stdout.pendingError == nil { try? Stdout.writer.flush() }
    let oneLine = "edgebert: \(e.what): \(e.why)".map { $0 == "\n" || $0 == "\r" ? " " : $0 }
    var msg = String(oneLine) + "\n"
    msg.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(e.kind == .usage ? 2 : 1)
}

/// The arguments after the command, byte for byte as the shell passed them: a text argument that
/// is not valid UTF-8 must be reported (or skipped) like such a line in a file, not repaired.
nonisolated(unsafe) var rawCommandArguments: [[UInt8]] = []

signal(SIGPIPE, SIG_IGN)  // a closed reader becomes EPIPE on write, reported like any failed write
SignalCleanup.install()   // temporaries go on SIGINT/SIGTERM/SIGHUP; exit 130/143/129
var raw: [[UInt8]] = []
for i in 1..<Int(CommandLine.argc) {
    guard let p = CommandLine.unsafeArgv[i] else { continue }
    raw.append(Array(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))))
}
var argv = raw.map { String(decoding: $0, as: UTF8.self) }
guard let command = argv.first else {
    print(topHelp)
    exit(2)
}
argv.removeFirst()
rawCommandArguments = Array(raw.dropFirst())
do throws(EdgeBERTError) {
    switch command {
    case "-h", "--help", "help": say(topHelp)
    case "--version", "-V", "version": say("edgebert \(version)")
    case "quantize": try QuantizeCommand.run(argv)
    case "embed": try EmbedCommand.run(argv)
    case "tokenize": try TokenizeCommand.run(argv)
    case "inspect": try InspectCommand.run(argv)
    case "compare": try CompareCommand.run(argv)
    case "bench": try BenchCommand.run(argv)
    case "serve": try ServeCommand.run(argv)
    case "index": try IndexCommand.run(argv)
    case "search": try SearchCommand.run(argv)
    case "pca": try PcaCommand.run(argv)
    default: throw .usage(command, "unknown command (see `edgebert --help`)")
    }
    try Stdout.flush()
} catch {
    fail(error)
}
