// libFuzzer harness `lines`: LineReader (Sources/EdgeBERT/IO/LineReader.swift) over an unlinked
// temporary file (in $EDGEBERT_FUZZ_TMP, tmpfs under Tools/fuzz.sh) holding the input, with several (maxLineBytes, bufferBytes) pairs, small ones to hit every buffer edge.
// Each run is checked against a plain model of the documented rules: lines end at "\n" only; a
// final line without "\n" is still a line; a trailing "\r" is dropped; a line longer than
// maxLineBytes without that "\r" keeps its first maxLineBytes bytes and is marked truncated.
// So with nothing truncated and no "\r" in the input, the lines joined by "\n" give the input back.
#if canImport(Glibc)
import Glibc
#endif

struct Expected: Equatable { var bytes: [UInt8]; var truncated: Bool }

func model(_ input: [UInt8], maxLineBytes: Int) -> [Expected] {
    var raw = input.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    if raw.last?.isEmpty == true { raw.removeLast() }  // "a\n" is one line; "" is none
    return raw.map { line in
        let text = line.last == 0x0D ? Array(line.dropLast()) : line  // a trailing "\r" is not text
        if text.count > maxLineBytes { return Expected(bytes: Array(text.prefix(maxLineBytes)), truncated: true) }
        return Expected(bytes: text, truncated: false)
    }
}

func check(_ input: [UInt8], fd: Int32, maxLineBytes: Int, bufferBytes: Int) {
    precondition(lseek(fd, 0, SEEK_SET) == 0)
    var r = LineReader(fd: fd, what: "fuzz", maxLineBytes: maxLineBytes, bufferBytes: bufferBytes)
    var got: [Expected] = []
    while true {
        let line: Line?
        do { line = try r.next() } catch { fatalError("read error: \(error)") }
        guard let l = line else { break }
        precondition(l.number == got.count + 1, "line number \(l.number) after \(got.count) lines")
        precondition(l.bytes.count <= maxLineBytes, "line of \(l.bytes.count) bytes over the limit \(maxLineBytes)")
        got.append(Expected(bytes: l.bytes, truncated: l.truncated))
        precondition(got.count <= input.count, "more lines than input bytes")
    }
    precondition((try? r.next()) == nil, "a line after the end")
    let want = model(input, maxLineBytes: maxLineBytes)
    precondition(got == want, "maxLineBytes \(maxLineBytes) bufferBytes \(bufferBytes): \(got.count) lines, expected \(want.count): got \(got.prefix(4)), want \(want.prefix(4))")
    if !got.contains(where: \.truncated) && !input.contains(0x0D) {
        var joined = Array(got.map(\.bytes).joined(separator: [0x0A]))
        if input.last == 0x0A { joined.append(0x0A) }
        precondition(joined == input, "lines joined by \\n differ from the input")
    }
}

nonisolated(unsafe) let memfd: Int32 = {
    // memfd_create is not in Swift's Glibc module: an unlinked file does the same.
    let dir = getenv("EDGEBERT_FUZZ_TMP").map { String(cString: $0) } ?? "/tmp"
    let path = "\(dir)/fuzz-lines-\(getpid())"
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(fd >= 0, "cannot create \(path)")
    unlink(path)
    return fd
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    precondition(ftruncate(memfd, 0) == 0 && lseek(memfd, 0, SEEK_SET) == 0)
    var done = 0
    while done < size {
        let n = write(memfd, data + done, size - done)
        precondition(n > 0, "write failed")
        done += n
    }
    let first = Int(input.first ?? 0)
    for (maxLine, buffer) in [(7, 5), (1, 1), (5, 7), (1 + first % 16, 1 + first / 16), (1 << 20, 1 << 16)] {
        check(input, fd: memfd, maxLineBytes: maxLine, bufferBytes: buffer)
    }
    return 0
}
