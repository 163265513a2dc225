import Foundation

/// Splits `0..<count` into contiguous chunks, runs `body` on each chunk on every core, and joins the results in
/// order. Small inputs run on the calling thread: below `serialBelow` the hand-off costs more than it saves.
/// `body` must not touch shared mutable state.
public func parallelChunks<T>(
    _ count: Int, serialBelow: Int = 20_000, _ body: @Sendable (Range<Int>) -> [T]
) -> [T] {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard count >= serialBelow, cores > 1 else { return body(0..<count) }
    let chunks = min(count, cores * 4)
    let results = ChunkResults<T>(chunks)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = count * c / chunks, hi = count * (c + 1) / chunks
        results.set(c, body(lo..<hi))
    }
    var out: [T] = []
    out.reserveCapacity(count)
    for part in results.parts { out.append(contentsOf: part!) }
    return out
}

/// One slot per chunk, each written by exactly one thread before `concurrentPerform` returns.
private final class ChunkResults<T>: @unchecked Sendable {
    var parts: [[T]?]
    init(_ n: Int) { parts = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ value: [T]) {
        parts.withUnsafeMutableBufferPointer { $0[i] = value }
    }
}
