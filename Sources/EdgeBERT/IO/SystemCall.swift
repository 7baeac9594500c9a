#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of an errno value, e.g. "No such file or directory".
func errnoText(_ code: Int32) -> String {
    guard let s = strerror(code) else { return "error \(code)" }
    return String(cString: s)
}

/// An `EdgeBERTError` for a failed system call on `path`, from the current errno.
func systemError(_ path: String, _ action: String) -> EdgeBERTError {
    systemError(path, action, code: errno)
}

/// The same for an errno value already taken.
func systemError(_ path: String, _ action: String, code: Int32) -> EdgeBERTError {
    EdgeBERTError(.data, path, "\(action): \(errnoText(code).lowercasedFirst)", errno: code)
}

extension String {
    var lowercasedFirst: String {
        guard let f = first else { return self }
        return f.lowercased() + dropFirst()
    }
}
