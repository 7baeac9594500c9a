import Foundation
import XCTest
@testable import EdgeBERT

/// `embed` as a stream and a boundary: co-process use, bad lines, outputs that fail or are not
/// regular files, signals, and a model file damaged under a running process.
final class StreamingCLITests: XCTestCase {
    override func setUpWithError() throws { try CLI.requireBinary() }

    /// Runs `sh -c script` with $EB set to the binary and $M to the tiny int8 model.
    func shell(_ script: String, in dir: String) throws -> CLI.Result {
        try CLI.shell(script, in: dir, env: ["EB": CLI.binary, "M": Fixtures.tinyModels.int8])
    }

    struct Record: Decodable { let embedding: [Float]?; let n_tokens: Int; let error: String? }

    func records(_ r: CLI.Result) -> [Record] {
        r.out.split(separator: "\n").map { try! JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    }

    func testEmptyLinesEmbedAndBadLinesFollowOnError() throws {
        let m = Fixtures.tinyModels.int8
        let e = try Embedder(modelPath: m)
        let input = Data("he was\n\n  \n".utf8) + Data([0x66, 0xFF, 0x0A]) + Data("the man\n".utf8)
        let ok = try CLI.run(["embed", "-m", m, "--on-error", "null"], stdin: input)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let rs = records(ok)
        XCTAssertEqual(rs.count, 5)
        XCTAssertEqual(rs[1].embedding, try e.embed(""))
        XCTAssertEqual(rs[1].n_tokens, 2)
        XCTAssertEqual(rs[2].embedding, try e.embed(""))
        XCTAssertNil(rs[3].embedding)
        XCTAssertEqual(rs[3].error, "invalid UTF-8")
        XCTAssertEqual(rs[4].embedding, try e.embed("the man"))
        let skip = try CLI.run(["embed", "-m", m, "--on-error", "skip"], stdin: input)
        XCTAssertEqual(records(skip).count, 4)
        // fail (the default): the records before the bad line are out, complete; then one error line.
        let fail = try CLI.run(["embed", "-m", m], stdin: input)
        CLI.assertError(fail, status: 1, contains: "stdin line 4: invalid UTF-8")
        XCTAssertEqual(records(fail).count, 3)
        XCTAssertTrue(fail.out.hasSuffix("}\n"))
        // Past the max length with --no-truncate is a bad line too.
        let long = try CLI.run(["embed", "-m", m, "--no-truncate", "--max-length", "4", "--on-error", "null", "ok", "one two three four"])
        XCTAssertEqual(long.status, 0, long.stderr)
        XCTAssertEqual(records(long)[1].error, "6 tokens, past the max length of 4 (drop --no-truncate to cut it)")
        CLI.assertError(try CLI.run(["embed", "-m", m, "--on-error", "maybe", "x"]), status: 2, contains: "--on-error")
    }

    func testInvalidUTF8ArgumentIsAnErrorLikeInAFile() throws {
        let dir = TempDir.make("argv")
        let r = try shell(#""$EB" embed -m "$M" ok "$(printf 'a\377b')""#, in: dir)
        CLI.assertError(r, status: 1, contains: "text 2: invalid UTF-8")
        let n = try shell(#""$EB" embed -m "$M" --on-error null ok "$(printf 'a\377b')""#, in: dir)
        XCTAssertEqual(n.status, 0, n.stderr)
        XCTAssertEqual(records(n).map { $0.embedding == nil }, [false, true])
    }

    func testLongLineIsReadInBoundedMemoryAndTruncated() throws {
        let m = Fixtures.tinyModels.int8
        // 3 MB on one line: cut at 1 MiB unread, then at the max length like any long text.
        let words = String(repeating: "the man was here ", count: 3_000_000 / 17)
        let r = try CLI.run(["embed", "-m", m], stdin: Data((words + "\nhe\n").utf8))
        XCTAssertEqual(r.status, 0, r.stderr)
        let rs = records(r)
        XCTAssertEqual(rs.count, 2)
        let e = try Embedder(modelPath: m)
        XCTAssertEqual(rs[0].embedding, try e.embed(String(words.prefix(10_000))))
        XCTAssertEqual(rs[0].n_tokens, e.maxLength)
        CLI.assertError(try CLI.run(["embed", "-m", m, "--no-truncate"], stdin: Data((words + "\n").utf8)),
                        status: 1, contains: "stdin line 1: longer than 1048576 bytes")
    }

    /// A co-process: one line in, its record out, while stdin stays open.
    func testCoProcessGetsEachRecordBeforeStdinCloses() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["embed", "-m", Fixtures.tinyModels.int8, "--batch", "8", "--threads", "1"]
        let i = Pipe(), o = Pipe()
        p.standardInput = i
        p.standardOutput = o
        try p.run()
        let reader = o.fileHandleForReading
        for text in ["he was", "the man was here"] {
            try i.fileHandleForWriting.write(contentsOf: Data((text + "\n").utf8))
            var line = Data()
            while !line.contains(0x0A) {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            let r = try JSONDecoder().decode(Record.self, from: line.prefix { $0 != 0x0A })
            XCTAssertEqual(r.embedding, try Embedder(modelPath: Fixtures.tinyModels.int8).embed(text))
        }
        try i.fileHandleForWriting.close()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    func testWriteFailuresAreReported() throws {
        let dir = TempDir.make("full")
        CLI.assertError(try shell(#""$EB" embed -m "$M" hello > /dev/full"#, in: dir), status: 1, contains: "stdout: cannot write: no space left on device")
        CLI.assertError(try shell(#""$EB" embed -m "$M" hello -o /dev/full"#, in: dir), status: 1, contains: "/dev/full: cannot write: no space left")
        CLI.assertError(try shell(#""$EB" tokenize -m "$M" hello > /dev/full"#, in: dir), status: 1, contains: "no space left")
        CLI.assertError(try shell(#""$EB" inspect "$M" > /dev/full"#, in: dir), status: 1, contains: "no space left")
        // A reader that went away: EPIPE is a failed write too.
        let e = try shell(#"( yes the man | head -c 3000000 | "$EB" embed -m "$M"; echo "exit $?" >&2 ) | head -c 10 > /dev/null"#, in: dir)
        XCTAssertTrue(e.stderr.contains("stdout: cannot write: broken pipe"), e.stderr)
        XCTAssertTrue(e.stderr.contains("exit 1"), e.stderr)
    }

    func testNonRegularOutputsAreWrittenInPlaceAndInputsAreProtected() throws {
        let dir = TempDir.make("fifo")
        let fifo = try shell(#"mkfifo f && (cat f > got &) && "$EB" embed -m "$M" hello -o f && sleep 0.3 && wc -l < got && test -p f && echo fifo-kept"#, in: dir)
        XCTAssertEqual(fifo.status, 0, fifo.stderr)
        XCTAssertEqual(fifo.out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }, ["1", "fifo-kept"])
        let stdout = try shell(#""$EB" embed -m "$M" hello -o /dev/stdout | wc -l"#, in: dir)
        XCTAssertEqual(stdout.out.trimmingCharacters(in: .whitespacesAndNewlines), "1", stdout.stderr)
        // -o /dev/stdout appended to a file by the shell: appended, not written over its start.
        let appended = try shell(#"echo first > all.txt && "$EB" embed -m "$M" hello -o /dev/stdout >> all.txt && head -1 all.txt && wc -l < all.txt"#, in: dir)
        XCTAssertEqual(appended.out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }, ["first", "2"], appended.stderr)
        // A symlink to a regular file: the file is replaced, the link stays a link.
        let link = try shell(#"echo old > real && ln -s real link && "$EB" embed -m "$M" hello -o link && test -L link && wc -l < real"#, in: dir)
        XCTAssertEqual(link.out.trimmingCharacters(in: .whitespacesAndNewlines), "1", link.stderr)
        // -o naming the model (or the input file) is refused, and both are left as they were.
        let before = try Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModels.int8))
        CLI.assertError(try CLI.run(["embed", "-m", Fixtures.tinyModels.int8, "-o", Fixtures.tinyModels.int8, "x"]),
                        status: 2, contains: "refusing to overwrite")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModels.int8)), before)
        let input = try shell(#"echo hi > in.txt && ln -s in.txt alias && "$EB" embed -m "$M" -i in.txt -o alias"#, in: dir)
        CLI.assertError(input, status: 2, contains: "refusing to overwrite")
        XCTAssertEqual(try String(contentsOfFile: dir + "/in.txt", encoding: .utf8), "hi\n")
    }

    func testSignalsRemoveTemporariesAndExit130Or143() throws {
        for (signal, status) in [("INT", 130), ("TERM", 143)] {
            let dir = TempDir.make("sig")
            // embed waits on stdin (sleep keeps it open) with its temporary output already created.
            let r = try shell(#"""
                mkfifo in; sleep 30 > in 2>/dev/null & s=$!
                "$EB" embed -m "$M" -o out.jsonl < in & pid=$!
                for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do ls | grep -q tmp && break; sleep 0.1; done
                ls | grep -v '^in$'; kill -\#(signal) $pid; wait $pid; echo "status $?"; kill $s; rm in; ls
                """#, in: dir)
            let out = r.out.split(separator: "\n").map(String.init)
            XCTAssertTrue(out.first?.hasPrefix("out.jsonl.tmp-") ?? false, r.out)
            XCTAssertTrue(out.contains("status \(status)"), r.out + r.stderr)
            XCTAssertEqual(out.last, "status \(status)", "no file left behind: \(r.out)")
        }
    }

    /// The model truncated under a running co-process: an error on the next text, not SIGBUS.
    func testModelTruncatedUnderARunningProcess() throws {
        let dir = TempDir.make("trunc")
        let model = dir + "/m.ebm"
        try FileManager.default.copyItem(atPath: Fixtures.tinyModels.int8, toPath: model)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["embed", "-m", model, "--threads", "1"]
        let i = Pipe(), o = Pipe(), e = Pipe()
        p.standardInput = i
        p.standardOutput = o
        p.standardError = e
        try p.run()
        signal(SIGPIPE, SIG_IGN)
        try i.fileHandleForWriting.write(contentsOf: Data("he was\n".utf8))
        var first = Data()
        while !first.contains(0x0A) { let c = o.fileHandleForReading.availableData; if c.isEmpty { break }; first.append(c) }
        XCTAssertTrue(first.starts(with: Data("{\"embedding\":[".utf8)))
        XCTAssertEqual(truncate(model, 4096), 0)
        try? i.fileHandleForWriting.write(contentsOf: Data("the man\n".utf8))
        try? i.fileHandleForWriting.close()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "ended by a signal")
        XCTAssertEqual(p.terminationStatus, 1)
        let err = String(decoding: e.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(err.contains("while in use"), err)
    }

    func testNpyStreamsToFilesAndPipesWhenTheCountIsKnown() throws {
        let dir = TempDir.make("npy")
        try Data("one\ntwo\nthree\n".utf8).write(to: URL(fileURLWithPath: dir + "/in.txt"))
        let file = try shell(#""$EB" embed -m "$M" --format npy -i in.txt -o a.npy && "$EB" embed -m "$M" --format npy -i in.txt > b.npy && "$EB" embed -m "$M" --format npy -i in.txt | cat > c.npy && "$EB" embed -m "$M" --format f32 -i in.txt > d.f32"#, in: dir)
        XCTAssertEqual(file.status, 0, file.stderr)
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.npy"))
        XCTAssertEqual(a, try Data(contentsOf: URL(fileURLWithPath: dir + "/b.npy")))
        XCTAssertEqual(a, try Data(contentsOf: URL(fileURLWithPath: dir + "/c.npy")))
        XCTAssertEqual(a.count, 128 + 3 * 32 * 4)
        XCTAssertTrue(String(decoding: a[10..<128], as: UTF8.self).contains("'shape': (3, 32)"))
        XCTAssertEqual(a.suffix(3 * 32 * 4), try Data(contentsOf: URL(fileURLWithPath: dir + "/d.f32")))
        let pipe = try shell(#"(echo x | "$EB" embed -m "$M" --format npy; echo "exit $?" >&2) | cat > /dev/null"#, in: dir)
        XCTAssertTrue(pipe.stderr.contains("stdout: the row count must be known before the first row"), pipe.stderr)
        XCTAssertTrue(pipe.stderr.hasSuffix("exit 2\n"), pipe.stderr)
    }
}
