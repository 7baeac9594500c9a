#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

let version = "0.1.0"

let commands: [(String, String)] = [
    ("quantize", "Convert a Hugging Face BERT folder into one int8 model file"),
    ("embed", "Embed texts (arguments, -i FILE or stdin, one per line)"),
    ("tokenize", "Show the WordPiece ids and tokens the model sees"),
    ("compare", "Compare a model's embeddings with a float reference"),
    ("bench", "Measure latency, throughput and memory"),
    ("inspect", "Show a model file's header and tensors; --verify checks its checksum"),
]

let topHelp = """
EdgeBERT \(version): BERT text embeddings with int8 kernels for small Linux boards.

Usage: edgebert <command> [options]

Commands:
\(commands.map { "  \($0.0.padding(10)) \($0.1)" }.joined(separator: "\n"))

Run `edgebert <command> --help` for a command's options.
"""

func fail(_ e: EdgeBERTError) -> Never {
    Output.flushStdout()
    var msg = "edgebert: \(e.what): \(e.why)\n"
    msg.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(e.kind == .usage ? 2 : 1)
}

signal(SIGPIPE, SIG_IGN)
var argv = Array(CommandLine.arguments.dropFirst())
guard let command = argv.first else {
    print(topHelp)
    exit(2)
}
argv.removeFirst()
do throws(EdgeBERTError) {
    switch command {
    case "-h", "--help", "help": print(topHelp)
    case "--version", "-V", "version": print("edgebert \(version)")
    case "quantize": try QuantizeCommand.run(argv)
    case "embed": try EmbedCommand.run(argv)
    case "tokenize": try TokenizeCommand.run(argv)
    case "inspect": try InspectCommand.run(argv)
    case "compare": try CompareCommand.run(argv)
    case "bench": try BenchCommand.run(argv)
    default: throw .usage(command, "unknown command (see `edgebert --help`)")
    }
    Output.flushStdout()
} catch {
    fail(error)
}
