#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes a small JSON file into `T`, with the path in any error.
func decodeJSON<T: Decodable>(_ type: T.Type, path: String) throws(EdgeBERTError) -> T {
    let bytes = try readWholeFile(path)
    return try decodeJSON(type, bytes: bytes, what: path)
}

func decodeJSON<T: Decodable>(_ type: T.Type, bytes: [UInt8], what: String) throws(EdgeBERTError) -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    } catch {
        throw .data(what, "invalid JSON: \(describe(error))")
    }
}

private func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c),
         DecodingError.keyNotFound(_, let c), DecodingError.dataCorrupted(let c):
        let path = c.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? c.debugDescription : "\(path): \(c.debugDescription)"
    default:
        return "\(error)"
    }
}
