import Foundation
import Synchronization

/// Splits `0..<count` into contiguous chunks, runs `body` on each chunk on every core, and joins the results in
/// order. Small inputs run on the calling thread: below `serialBelow` the hand-off costs more than it saves.
/// `body` must not touch shared mutable state.
public func parallelChunks<T: Sendable>(
    _ count: Int, serialBelow: Int = 20_000, _ body: @Sendable (Range<Int>) -> [T]
) -> [T] {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard count >= serialBelow, cores > 1 else { return body(0..<count) }
    let chunks = min(count, cores * 4)
    // One slot per chunk, each written by exactly one worker; read only after `concurrentPerform` returns.
    let slots = UnsafeMutableBufferPointer<[T]>.allocate(capacity: chunks)
    slots.initialize(repeating: [])
    defer { slots.deinitialize().deallocate() }
    let shared = SendableBuffer(slots)
    concurrentPerform(chunks) { c in
        let lo = count * c / chunks
        let hi = count * (c + 1) / chunks
        shared.buffer[c] = body(lo..<hi)
    }
    var out: [T] = []
    out.reserveCapacity(count)
    for part in slots { out.append(contentsOf: part) }
    return out
}

/// Sorts on every core: each core sorts a run, then the runs are merged (ties keep their order, left run first).
/// Small arrays are sorted on the calling thread.
public func parallelSort<T: Sendable>(_ a: inout [T], serialBelow: Int = 50_000, by less: @Sendable (T, T) -> Bool) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let n = a.count
    guard n >= serialBelow, cores > 1 else { return a.sort(by: less) }
    let runs = min(cores, 8)
    let bounds = (0...runs).map { n * $0 / runs }
    a.withUnsafeMutableBufferPointer { buf in
        let shared = SendableBuffer(buf)
        concurrentPerform(runs) { r in
            var run = UnsafeMutableBufferPointer(rebasing: shared.buffer[bounds[r]..<bounds[r + 1]])
            run.sort(by: less)
        }
    }
    // Merge neighbouring runs until one is left.
    var edges = bounds
    var current = a
    while edges.count > 2 {
        var next: [T] = []
        next.reserveCapacity(n)
        var nextEdges = [0]
        var k = 0
        while k + 2 < edges.count {
            var i = edges[k]
            var j = edges[k + 1]
            let iEnd = edges[k + 1]
            let jEnd = edges[k + 2]
            while i < iEnd, j < jEnd {
                if less(current[j], current[i]) {
                    next.append(current[j])
                    j += 1
                } else {
                    next.append(current[i])
                    i += 1
                }
            }
            next.append(contentsOf: current[i..<iEnd])
            next.append(contentsOf: current[j..<jEnd])
            nextEdges.append(next.count)
            k += 2
        }
        if k + 1 < edges.count {
            next.append(contentsOf: current[edges[k]..<edges[k + 1]])
            nextEdges.append(next.count)
        }
        current = next
        edges = nextEdges
    }
    a = current
}

private struct SendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ b: UnsafeMutableBufferPointer<T>) { buffer = b }
}

/// Sorting many ids: most comparisons are settled by the first 24 bytes, kept beside each id so that comparing
/// them doesn't chase a pointer into memory far away (at a million ids, that is most of a string sort's time).
public enum IDOrder {
    struct Key: Sendable {
        var a: UInt64, b: UInt64, c: UInt64
        var id: String
        var at: Int32
    }

    /// The positions of `ids` in the order `String.<` puts them.
    public static func sorted(_ ids: [String]) -> [Int32] {
        var keys = parallelChunks(ids.count) { range in
            range.map { i -> Key in
                var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
                var ascii = true
                var n = 0
                for byte in ids[i].utf8 {
                    if byte >= 0x80 {
                        ascii = false
                        break
                    }
                    if n >= 24 { break }
                    let shift = UInt64(56 - 8 * (n % 8))
                    switch n / 8 {
                    case 0: words.0 |= UInt64(byte) << shift
                    case 1: words.1 |= UInt64(byte) << shift
                    default: words.2 |= UInt64(byte) << shift
                    }
                    n += 1
                }
                // Non-ASCII ids compare as strings only (their byte order and `String.<` may differ).
                if !ascii { words = (0, 0, 0) }
                return Key(a: words.0, b: words.1, c: words.2, id: ids[i], at: Int32(i))
            }
        }
        parallelSort(&keys) { x, y in
            if x.a != y.a, x.a != 0, y.a != 0 { return x.a < y.a }
            if x.a == y.a, x.b != y.b, x.a != 0 { return x.b < y.b }
            if x.a == y.a, x.b == y.b, x.c != y.c, x.a != 0 { return x.c < y.c }
            return x.id < y.id
        }
        return keys.map(\.at)
    }
}

extension RandomAccessCollection {
    /// The first index whose element is not `before` the sought value (binary search; the collection must be
    /// ordered so that `before` holds for a prefix and fails for the rest).
    public func lowerBound(where before: (Element) -> Bool) -> Index {
        var lo = startIndex
        var n = count
        while n > 0 {
            let half = n / 2
            let mid = index(lo, offsetBy: half)
            if before(self[mid]) {
                lo = index(after: mid)
                n -= half + 1
            } else {
                n = half
            }
        }
        return lo
    }
}

/// `old` with the elements at `edits`' positions replaced, removed or preceded by new ones, copied on every core.
/// Each edit is at an index of `old` (ascending; equal indices keep their order): `replacing` drops `old[at]`,
/// and `new` (if any) goes in its place. Copying a million class references costs a retain each, and each retain
/// touches its object: split over the cores, it takes a fraction of the time.
public func parallelSplice<T: Sendable>(_ old: [T], edits: [(at: Int, replacing: Bool, new: T?)], serialBelow: Int = 100_000) -> [T] {
    // The runs of `old` kept, each with where it goes; and where each new element goes.
    var runs: [(from: Int, to: Int, count: Int)] = []
    var singles: [(to: Int, value: T)] = []
    var (i, out) = (0, 0)
    for e in edits {
        if e.at > i { runs.append((i, out, e.at - i)) }
        out += max(0, e.at - i)
        i = max(i, e.at)
        if e.replacing { i += 1 }
        if let v = e.new {
            singles.append((out, v))
            out += 1
        }
    }
    if i < old.count { runs.append((i, out, old.count - i)) }
    out += max(0, old.count - i)
    let total = out
    let cores = ProcessInfo.processInfo.activeProcessorCount
    return [T](unsafeUninitializedCapacity: total) { buffer, initialized in
        let dst = SendableBuffer(buffer)
        old.withUnsafeBufferPointer { src in
            let source = SendableBuffer(UnsafeMutableBufferPointer(mutating: src))
            let groups = total >= serialBelow && cores > 1 ? cores * 2 : 1
            // Group the runs so each group copies about as much.
            var bounds = [0]
            var acc = 0
            for (k, r) in runs.enumerated() {
                acc += r.count
                if acc >= total * bounds.count / groups, bounds.count < groups { bounds.append(k + 1) }
            }
            bounds.append(runs.count)
            let (groupRuns, groupBounds) = (runs, bounds)
            concurrentPerform(groupBounds.count - 1) { g in
                for r in groupRuns[groupBounds[g]..<groupBounds[g + 1]] {
                    (dst.buffer.baseAddress! + r.to).initialize(from: source.buffer.baseAddress! + r.from, count: r.count)
                }
            }
        }
        for s in singles { (buffer.baseAddress! + s.to).initialize(to: s.value) }
        initialized = total
    }
}

/// Runs `body` for every index in `0..<iterations` on every core, and returns when all have run: on this thread and
/// threads of its own, never Dispatch's workers (on Linux the cooperative pool's threads are Dispatch's, so
/// `DispatchQueue.concurrentPerform` from anywhere would take them from every task while it runs). With `serial`
/// (small work, where handing it out costs more than it saves), a plain loop on this thread.
public func concurrentPerform(_ iterations: Int, serial: Bool = false, _ body: @Sendable (Int) -> Void) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard !serial, iterations > 1, cores > 1 else {
        for i in 0..<iterations { body(i) }
        return
    }
    let job = Job(iterations)
    withoutActuallyEscaping(body) { body in
        // The threads reach the body through the job, which lets go of it before this returns: nothing keeps it.
        job.body = body
        let done = DispatchGroup()
        for _ in 0..<(min(cores, iterations) - 1) {
            done.enter()
            let t = Thread {
                job.drain()
                done.leave()
            }
            t.name = "trustgap-parallel"
            t.stackSize = 4 << 20
            t.start()
        }
        job.drain()
        done.wait()
        job.body = nil
    }
}

/// One `concurrentPerform`: its body, set before its threads start and cleared after they are done, and the next
/// index to hand out.
private final class Job: @unchecked Sendable {
    var body: ((Int) -> Void)?
    let iterations: Int
    private let next = Atomic<Int>(0)
    init(_ iterations: Int) { self.iterations = iterations }

    func drain() {
        guard let body else { return }
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard i < iterations else { return }
            body(i)
        }
    }
}
