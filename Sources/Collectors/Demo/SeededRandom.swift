/// SplitMix64: small, fast and the same on every platform, so a seed always gives the same organisation.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A generator for one item, independent of every other item's.
    init(seed: UInt64, stream: UInt64, index: UInt64) {
        var mix = SeededRandom(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ (index &* 0xD1B5_4A32_D192_ED03))
        state = mix.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }

    /// A fake but stable fingerprint: what a collector would keep instead of the secret.
    mutating func fingerprint() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var bytes = Array("SHA256:".utf8)
        bytes.reserveCapacity(50)
        for _ in 0..<43 { bytes.append(alphabet[Int(next() & 63)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An AWS-style key id (`AKIA…`), which is an identifier, not a secret.
    mutating func awsKeyID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
        var bytes = Array("AKIA".utf8)
        for _ in 0..<16 { bytes.append(alphabet[Int(next() & 31)]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
