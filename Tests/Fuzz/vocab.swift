// libFuzzer harness `vocab`: HuggingFaceFolder(path:) (Sources/EdgeBERT/Import/HuggingFaceFolder.swift).
// The input is split at NUL bytes into up to six files of one folder (reused per process):
//   vocab.txt \0 config.json \0 tokenizer_config.json \0 modules.json \0 1_Pooling/config.json \0 sentence_bert_config.json
// A part that is absent is not written, except config.json, which then is Tests/Fixtures/tiny-bert's
// with vocab_size set to vocab.txt's line count. A folder that opens drives a tokenizer.
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) let folder: String = {
    let dir = getenv("EDGEBERT_FUZZ_TMP").map { String(cString: $0) } ?? "/tmp"
    let f = "\(dir)/fuzz-vocab-\(getpid())"
    mkdir(f, 0o700)
    mkdir(f + "/1_Pooling", 0o700)
    return f
}()

let partNames = ["vocab.txt", "config.json", "tokenizer_config.json", "modules.json",
                 "1_Pooling/config.json", "sentence_bert_config.json"]

func writeFile(_ path: String, _ bytes: ArraySlice<UInt8>) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(fd >= 0, "cannot create \(path)")
    bytes.withUnsafeBytes { b in
        var done = 0
        while done < b.count {
            let n = write(fd, b.baseAddress! + done, b.count - done)
            if n < 0 { if errno == EINTR { continue }; fatalError("cannot write \(path)") }
            done += n
        }
    }
    close(fd)
}

/// tiny-bert's config.json with vocab_size set.
func fixedConfig(vocabSize: Int) -> [UInt8] {
    Array("""
    {"architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
     "hidden_dropout_prob": 0.1, "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 100,
     "layer_norm_eps": 1e-12, "max_position_embeddings": 64, "model_type": "bert", "num_attention_heads": 4,
     "num_hidden_layers": 2, "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": \(vocabSize)}
    """.utf8)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let parts = input.split(separator: 0, maxSplits: partNames.count - 1, omittingEmptySubsequences: false)
    for (i, name) in partNames.enumerated() {
        let path = folder + "/" + name
        if i < parts.count {
            writeFile(path, parts[i])
        } else if name == "config.json" {
            // The reader's line count: "\n"-separated, a final empty line not counted.
            let lines = parts[0].split(separator: 0x0A, omittingEmptySubsequences: false)
            let count = lines.count - (lines.last?.isEmpty == true ? 1 : 0)
            writeFile(path, fixedConfig(vocabSize: count)[...])
        } else {
            unlink(path)
        }
    }
    guard let hf = try? HuggingFaceFolder(path: folder) else { return 0 }
    precondition(hf.vocab.count == hf.config.vocabSize)
    let t = WordPieceTokenizer(vocab: hf.vocab, options: hf.config.tokenizer, special: hf.config.special)
    let ids = t.encode("Hello, world! unaffable 你好 [MASK] x", maxTokens: max(2, hf.config.maxSequenceLength))
    precondition(ids.allSatisfy { $0 >= 0 && Int($0) < hf.vocab.count })
    return 0
}
