import Foundation

/// Finds credentials in command lines, URLs and free text, and masks them.
///
/// Two kinds of evidence, used together:
/// - where a value is: the value of `--api-key`/`--accessToken`, of `GITHUB_TOKEN=…` (as in `docker run -e`), of
///   `Authorization: Bearer …`, of `?access_token=…`, a URL's user part or password, a Slack/Discord webhook's secret;
/// - what a value looks like: a known token prefix (`ghp_`, `sk-ant-`, `xoxb-`, `AKIA…`, …), a JWT, or a
///   high-entropy string (mixed letter case and digits, high Shannon entropy).
///
/// References to secrets kept elsewhere (`${env:X}`, `$X`, `op://…`, `vault:…`) are not secrets. Output is
/// idempotent: redacting redacted output finds nothing new. Works on UTF-8 bytes in linear time; splices only at
/// ASCII boundaries, so any input (including invalid percent-encoding and non-ASCII text) is safe.
public enum SecretRedaction {
    public static let mask = "***"

    public struct Found: Sendable, Equatable {
        /// The raw secret (the caller fingerprints it, never stores it).
        public var secret: String
        /// A URL/connection-string password (or the value of a password-named setting) rather than a token.
        public var isPassword: Bool
        /// Why it was taken for a secret: "known token prefix sk-ant-", "JWT", "value of --api-key", "URL user part", …
        public var why: String

        public init(secret: String, isPassword: Bool, why: String) {
            self.secret = secret
            self.isPassword = isPassword
            self.why = why
        }
    }

    // MARK: API

    /// argv of a command (program first). Returns argv with each secret replaced by `mask` (keeping flag names, `NAME=`
    /// prefixes, `Authorization: Bearer ` prefixes so the command stays readable), and what was found.
    public static func redactArguments(_ argv: [String]) -> (argv: [String], found: [Found]) {
        var out: [String] = []
        out.reserveCapacity(argv.count)
        var found: [Found] = []
        var pending: String?
        let program = argv.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
        for (i, arg) in argv.enumerated() {
            var s = Scanner(arg, mode: .arguments)
            s.runPasses()
            if i > 0 { s.scanProgramOptions(program: program, previous: argv[i - 1]) }
            pending = s.scanFlags(pending: pending)
            if i > 0 { s.scanWholeArgument() }
            let r = s.result()
            out.append(r.text)
            found += r.found
        }
        return (out, found)
    }

    /// A URL or connection string (`postgres://u:p@h/db`, `Server=…;Password=…`).
    public static func redactURL(_ url: String) -> (url: String, found: [Found]) {
        var s = Scanner(url, mode: .url)
        s.runPasses()
        let r = s.result()
        return (r.text, r.found)
    }

    /// Any free text (an attribute value from any collector): known-prefix tokens, JWTs, private key blocks, URL secrets,
    /// `Authorization: Bearer …`, `key=value`/`key: value`/`--flag value` with an auth word and a token-like value.
    public static func redactText(_ text: String) -> (text: String, found: [Found]) {
        var s = Scanner(text, mode: .text)
        s.runPasses()
        _ = s.scanFlags(pending: nil)
        return s.result()
    }

    /// Whether a name (env var, header, flag, JSON key) contains an auth word, camelCase aware
    /// (`GITHUB_TOKEN`, `api-key`, `accessToken`, `apiKey`, `X-API-Key`; not `MEMORY_FILE_PATH`, `author`, `max_tokens`).
    public static func hasSecretWord(_ name: String) -> Bool {
        words(name).contains(where: isSecretWord)
    }

    /// Whether a value is a reference to a secret stored elsewhere (or empty, or a placeholder such as `<token>`).
    public static func isReference(_ value: String) -> Bool {
        let v = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if v.isEmpty || v.hasPrefix("$") || v.contains("${") || v.contains("{{") { return true }
        let lower = v.lowercased()
        if referencePrefixes.contains(where: { lower.hasPrefix($0) }) { return true }
        if v.count > 2, (v.hasPrefix("%") && v.hasSuffix("%")) || (v.hasPrefix("<") && v.hasSuffix(">")) { return true }
        return false
    }

    /// Whether a literal value, named `name`, looks like a credential rather than a setting (a path, a URL without
    /// secrets, a flag, a mode word).
    public static func looksSecret(name: String, value: String) -> Bool {
        let v = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !isReference(v), !v.contains(mask) else { return false }
        if shapeWhy(v) != nil { return true }
        if let rest = afterAuthScheme(v) {
            if isReference(rest) { return false }
            if rest.utf8.count >= 4, !rest.contains(" ") { return true }
        }
        if v.contains("://") { return !redactURL(v).found.isEmpty }
        guard v.utf8.count >= 8, !isPathLike(v) else { return false }
        guard hasSecretWord(name), !isQualified(name), !isModeWord(v) else { return false }
        return v.split(separator: " ").count <= 3
    }

    // MARK: Words

    static let secretWords: Set<String> = [
        "token", "key", "apikey", "secret", "password", "passwd", "passphrase", "pass", "pwd", "auth", "authorization",
        "credential", "credentials", "creds", "cred", "pat", "sig", "signature", "bearer", "jwt", "cookie",
    ]
    /// Compounds written as one word: `accesstoken`, `ghtoken`, `clientsecret`, `dbpassword`, `xapikey`.
    static let secretSuffixes = ["token", "secret", "password", "passwd", "apikey", "accesskey", "secretkey", "privatekey", "authkey"]
    /// Auth words that also name non-secret things, so a value needs to look like a token (`--key foo.js`, `--auth basic`).
    static let weakWords: Set<String> = ["key", "auth", "pass", "sig", "pat", "bearer", "cookie"]
    static let passwordWords: Set<String> = ["password", "passwd", "pwd", "pass", "passphrase"]
    /// A last word that makes a name about a secret rather than the secret: `TOKEN_FILE`, `--api-key-env`, `KEY_ID`.
    static let qualifierWords: Set<String> = [
        "file", "files", "path", "paths", "dir", "directory", "folder", "url", "uri", "endpoint", "host", "hostname", "port",
        "name", "names", "id", "ids", "type", "mode", "env", "var", "variable", "ttl", "expiry", "expires", "expiration",
        "at", "date", "time", "length", "size", "count", "limit", "header", "prefix", "helper", "command", "cmd", "store",
        "location", "region", "format", "style", "algorithm", "alg", "method", "provider", "scheme", "scope", "scopes",
        "issuer", "audience", "version", "timeout", "source", "kind", "hint", "required", "enabled", "disabled", "storage",
        "backend", "strategy", "field", "user", "username", "login", "email", "policy", "role", "arn", "server", "vault",
        "ref", "label", "description", "desc", "rotation", "level", "list", "manager", "service", "fingerprint",
    ]
    /// A first word that makes a flag a switch, not a flag taking a secret: `--no-auth`, `--skip-auth`.
    static let switchWords: Set<String> = [
        "no", "skip", "disable", "without", "allow", "enable", "use", "require", "insecure", "ignore", "show", "print",
        "generate", "validate", "verify", "check", "dump", "prompt", "ask",
    ]
    /// Values naming a mode, not a secret: `--auth basic`, `token_type=bearer`.
    static let modeWords: Set<String> = [
        "none", "basic", "bearer", "token", "oauth", "oauth2", "jwt", "apikey", "api-key", "api_key", "key", "password",
        "env", "file", "keychain", "keyring", "stdin", "prompt", "true", "false", "yes", "no", "on", "off", "null", "nil",
        "auto", "required", "optional", "disabled", "enabled", "default", "ask", "interactive", "header", "query", "cookie",
        "session", "plain", "plaintext", "hidden", "masked", "redacted", "digest", "ntlm", "kerberos", "anonymous",
    ]
    static let referencePrefixes = [
        "op://", "vault:", "env:", "keychain:", "keyring:", "file:", "secret://", "arn:aws:secretsmanager:", "arn:aws:ssm:",
        "awssm:", "gcpsm:", "azurekv:", "sops:", "pass://",
    ]
    static let authSchemes = ["bearer", "basic", "token", "digest", "bot", "apikey", "negotiate", "ntlm", "sso-key"]
    static let fileExtensions: Set<String> = [
        "js", "mjs", "cjs", "ts", "py", "rb", "go", "json", "yaml", "yml", "toml", "ini", "cfg", "conf", "pem", "key", "crt",
        "cer", "p12", "pfx", "jks", "txt", "env", "sh", "md", "xml", "der", "pub", "gpg", "asc", "enc", "age", "db", "sqlite",
        "swift", "java", "kt", "rs", "c", "h", "cpp", "html", "css", "lock", "tsx", "jsx", "php", "cs", "log", "csv", "zip", "gz",
    ]

    /// Words of a name: split on non-alphanumerics, lower→Upper (`accessToken`), ACRONYMWord (`APIKey`), letter↔digit.
    static func words(_ name: String) -> [String] {
        let u = Array(name.utf8)
        var out: [String] = []
        var cur: [UInt8] = []
        func flush() {
            if !cur.isEmpty { out.append(String(decoding: cur.map(lowercased), as: UTF8.self)) }
            cur.removeAll(keepingCapacity: true)
        }
        for (i, c) in u.enumerated() {
            guard isAlnum(c) else {
                flush()
                continue
            }
            if let p = cur.last {
                let split =
                    (isLower(p) && isUpper(c)) || (isDigit(p) != isDigit(c))
                    || (isUpper(p) && isUpper(c) && i + 1 < u.count && isLower(u[i + 1]))
                if split { flush() }
            }
            cur.append(c)
        }
        flush()
        return out
    }

    static func isSecretWord(_ w: String) -> Bool {
        secretWords.contains(w) || secretSuffixes.contains { w.count > $0.count && w.hasSuffix($0) }
    }

    /// `TOKEN_FILE`, `--api-key-env`, `AWS_ACCESS_KEY_ID`: a name about a secret, not holding one.
    static func isQualified(_ name: String) -> Bool { isQualified(words: words(name)) }

    static func isQualified(words w: [String]) -> Bool {
        guard w.count >= 2, let last = w.last else { return false }
        return qualifierWords.contains(last)
    }

    /// A name holding a secret: an auth word, and not a name about one.
    static func namesSecret(_ name: String) -> Bool {
        let w = words(name)
        return w.contains(where: isSecretWord) && !isQualified(words: w)
    }

    static func isPasswordName(_ name: String) -> Bool {
        words(name).contains { passwordWords.contains($0) || $0.hasSuffix("password") || $0.hasSuffix("passwd") }
    }

    /// A name whose secret words are all weak (`--key`, `--auth`): its value must look like a token.
    static func isWeakName(_ name: String) -> Bool {
        !words(name).contains { isSecretWord($0) && !weakWords.contains($0) }
    }

    static func isModeWord(_ v: String) -> Bool { modeWords.contains(v.lowercased()) }

    static func isPathLike(_ v: String) -> Bool {
        if v.hasPrefix("/") || v.hasPrefix("~/") || v.hasPrefix("./") || v.hasPrefix("../") || v.hasPrefix("\\\\") { return true }
        let u = Array(v.utf8.prefix(3))
        return u.count == 3 && isAlpha(u[0]) && u[1] == UInt8(ascii: ":") && (u[2] == UInt8(ascii: "\\") || u[2] == UInt8(ascii: "/"))
    }

    /// `server.js`, `id_ed25519.pub`, `client.key`: a file name, not a secret.
    static func isFileName(_ v: String) -> Bool {
        let u = Array(v.utf8)
        guard let dot = u.lastIndex(of: UInt8(ascii: ".")), dot > 0, dot + 1 < u.count else { return false }
        guard u.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
        else { return false }
        return fileExtensions.contains(String(decoding: u[(dot + 1)...].map(lowercased), as: UTF8.self))
    }

    /// The rest of `Bearer xyz`, `Basic xyz`, `token xyz`.
    static func afterAuthScheme(_ v: String) -> String? {
        let u = Array(v.utf8)
        guard let n = schemeLength(u, 0, u.count) else { return nil }
        var i = n
        while i < u.count, isBlank(u[i]) { i += 1 }
        return i < u.count ? String(decoding: u[i...], as: UTF8.self) : nil
    }

    /// Length of an auth scheme word at `p` that is followed by a blank.
    static func schemeLength(_ b: [UInt8], _ p: Int, _ end: Int) -> Int? {
        for s in authSchemes {
            let w = Array(s.utf8)
            guard p + w.count < end, isBlank(b[p + w.count]) else { continue }
            if (0..<w.count).allSatisfy({ lowercased(b[p + $0]) == w[$0] }) { return w.count }
        }
        return nil
    }

    // MARK: Value shapes

    enum Body: Sendable {
        case alnum, alnumUnderscore, alnumDash, word, upperDigit, wordDot

        func contains(_ c: UInt8) -> Bool {
            switch self {
            case .alnum: isAlnum(c)
            case .alnumUnderscore: isAlnum(c) || c == UInt8(ascii: "_")
            case .alnumDash: isAlnum(c) || c == UInt8(ascii: "-")
            case .word: isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
            case .upperDigit: isUpper(c) || isDigit(c)
            case .wordDot: isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
            }
        }
    }

    struct TokenRule: Sendable {
        let prefix: [UInt8]
        let minBody: Int
        let body: Body
        /// Exactly `minBody` characters, then not an alphanumeric (AWS access key ids).
        let exact: Bool
        /// The body has at least two of upper, lower, digit (the generic `sk-`).
        let mixed: Bool

        init(_ prefix: String, _ minBody: Int, _ body: Body, exact: Bool = false, mixed: Bool = false) {
            self.prefix = Array(prefix.utf8)
            self.minBody = minBody
            self.body = body
            self.exact = exact
            self.mixed = mixed
        }

        var why: String { "known token prefix " + String(decoding: prefix, as: UTF8.self) }
    }

    /// Known token prefixes; a longer prefix comes before a shorter one it starts with.
    static let tokenRules: [TokenRule] = [
        TokenRule("github_pat_", 20, .alnumUnderscore),
        TokenRule("ghp_", 8, .alnumUnderscore), TokenRule("gho_", 8, .alnumUnderscore), TokenRule("ghu_", 8, .alnumUnderscore),
        TokenRule("ghs_", 8, .alnumUnderscore), TokenRule("ghr_", 8, .alnumUnderscore),
        TokenRule("sk-ant-", 8, .word), TokenRule("sk-proj-", 16, .word), TokenRule("sk-svcacct-", 16, .word),
        TokenRule("sk-admin-", 16, .word), TokenRule("sk-or-v1-", 16, .word), TokenRule("sk-", 20, .alnum, mixed: true),
        TokenRule("sk_live_", 16, .alnum), TokenRule("rk_live_", 16, .alnum), TokenRule("sk_test_", 16, .alnum),
        TokenRule("rk_test_", 16, .alnum), TokenRule("whsec_", 16, .alnum),
        TokenRule("xoxb-", 8, .alnumDash), TokenRule("xoxp-", 8, .alnumDash), TokenRule("xoxa-", 8, .alnumDash),
        TokenRule("xoxo-", 8, .alnumDash), TokenRule("xoxs-", 8, .alnumDash), TokenRule("xoxr-", 8, .alnumDash),
        TokenRule("xoxe-", 8, .alnumDash), TokenRule("xapp-", 8, .alnumDash),
        TokenRule("glpat-", 16, .word), TokenRule("gldt-", 16, .word), TokenRule("glrt-", 16, .word), TokenRule("glptt-", 16, .word),
        TokenRule("glsoat-", 16, .word), TokenRule("glcbt-", 16, .word),
        TokenRule("AKIA", 16, .upperDigit, exact: true), TokenRule("ASIA", 16, .upperDigit, exact: true),
        TokenRule("ABIA", 16, .upperDigit, exact: true), TokenRule("ACCA", 16, .upperDigit, exact: true),
        TokenRule("AIza", 30, .word), TokenRule("ya29.", 20, .word),
        TokenRule("hf_", 20, .alnum), TokenRule("npm_", 30, .alnum), TokenRule("pypi-", 32, .word),
        TokenRule("dop_v1_", 32, .alnum), TokenRule("doo_v1_", 32, .alnum), TokenRule("dor_v1_", 32, .alnum),
        TokenRule("shpat_", 24, .alnum), TokenRule("shpss_", 24, .alnum), TokenRule("shpca_", 24, .alnum),
        TokenRule("shppa_", 24, .alnum), TokenRule("glsa_", 24, .alnumUnderscore), TokenRule("glc_", 24, .word),
        TokenRule("lin_api_", 30, .alnum), TokenRule("sntrys_", 30, .word), TokenRule("sntryu_", 30, .word),
        TokenRule("dckr_pat_", 20, .word), TokenRule("ops_", 30, .word), TokenRule("tskey-", 16, .alnumDash),
        TokenRule("xai-", 30, .alnum), TokenRule("gsk_", 30, .alnum), TokenRule("pplx-", 30, .alnum), TokenRule("r8_", 30, .alnum),
        TokenRule("nvapi-", 30, .word), TokenRule("lsv2_pt_", 20, .alnumUnderscore), TokenRule("lsv2_sk_", 20, .alnumUnderscore),
        TokenRule("pcsk_", 30, .word), TokenRule("tvly-", 20, .word), TokenRule("ntn_", 30, .alnum), TokenRule("secret_", 30, .alnum),
        TokenRule("SG.", 20, .wordDot), TokenRule("AGE-SECRET-KEY-1", 20, .upperDigit), TokenRule("figd_", 30, .word),
        TokenRule("ATATT", 40, .word), TokenRule("sq0atp-", 20, .word), TokenRule("sq0csp-", 20, .word),
        TokenRule("PMAK-", 30, .alnumDash), TokenRule("hvs.", 24, .word), TokenRule("rnd_", 20, .alnum),
    ]
    static let ruleFirstBytes: Set<UInt8> = Set(tokenRules.map { $0.prefix[0] })

    /// A known-prefix token or a JWT starting at `p`: its end and why.
    static func matchToken(_ b: [UInt8], _ p: Int, _ end: Int, minBody: Int? = nil) -> (end: Int, why: String)? {
        let c = b[p]
        if c == UInt8(ascii: "e"), let e = matchJWT(b, p, end) { return (e, "JWT") }
        guard ruleFirstBytes.contains(c) else { return nil }
        for rule in tokenRules where rule.prefix[0] == c {
            let pl = rule.prefix.count
            guard p + pl <= end, (0..<pl).allSatisfy({ b[p + $0] == rule.prefix[$0] }) else { continue }
            var q = p + pl
            let limit = rule.exact ? min(end, q + rule.minBody) : end
            while q < limit, rule.body.contains(b[q]) { q += 1 }
            if rule.body == .wordDot { while q > p + pl, b[q - 1] == UInt8(ascii: ".") { q -= 1 } }
            let bodyLength = q - p - pl
            guard bodyLength >= (minBody ?? rule.minBody) else { continue }
            if rule.exact, q < end, isAlnum(b[q]) { continue }
            if rule.mixed, classes(b[(p + pl)..<q]) < 2 { continue }
            return (q, rule.why)
        }
        return nil
    }

    /// `eyJ….eyJ….sig` (three or five base64url parts, the first a JSON object).
    static func matchJWT(_ b: [UInt8], _ p: Int, _ end: Int) -> Int? {
        guard p + 3 <= end, b[p] == UInt8(ascii: "e"), b[p + 1] == UInt8(ascii: "y"), b[p + 2] == UInt8(ascii: "J") else { return nil }
        func run(_ s: Int) -> Int {
            var q = s
            while q < end, isBase64URL(b[q]) { q += 1 }
            return q
        }
        let e1 = run(p)
        guard e1 - p >= 10, e1 < end, b[e1] == UInt8(ascii: ".") else { return nil }
        let e2 = run(e1 + 1)
        guard e2 - e1 - 1 >= 10, e2 < end, b[e2] == UInt8(ascii: ".") else { return nil }
        var e = run(e2 + 1)
        // JWE: two more parts.
        if e < end, b[e] == UInt8(ascii: "."), e + 1 < end, isBase64URL(b[e + 1]) {
            let e4 = run(e + 1)
            if e4 < end, b[e4] == UInt8(ascii: "."), e4 + 1 < end, isBase64URL(b[e4 + 1]) { e = run(e4 + 1) }
        }
        return e
    }

    /// Why a whole value is a secret by its shape alone: a known prefix or a JWT covering all of it.
    static func shapeWhy(_ v: String) -> String? {
        let u = Array(v.utf8)
        guard !u.isEmpty, let m = matchToken(u, 0, u.count), m.end == u.count else { return nil }
        return m.why
    }

    /// Random-looking: ≥ `minLength` base64 characters, upper and lower case and digits, Shannon entropy near that of
    /// random text of that length. Identifiers (`ModelContextProtocol2024`), UUIDs, hex digests and paths are not.
    static func isHighEntropy(_ v: String, minLength: Int = 20) -> Bool {
        let u = Array(v.utf8)
        guard u.count >= minLength, u.count <= 8192, let first = u.first, isAlnum(first) else { return false }
        var up = false
        var lo = false
        var di = false
        var padding = 0
        for c in u {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { return false }
            if isUpper(c) {
                up = true
            } else if isLower(c) {
                lo = true
            } else if isDigit(c) {
                di = true
            } else if !isBase64(c) {
                return false
            }
        }
        guard up, lo, di, padding <= 2 else { return false }
        return entropy(u) >= min(4.2, 0.88 * log2(Double(u.count)))
    }

    /// A URL's user part that is a token: a known prefix (any length) or random-looking.
    static func userIsToken(_ v: String) -> Bool {
        let u = Array(v.utf8)
        guard !u.isEmpty else { return false }
        if let m = matchToken(u, 0, u.count, minBody: 1), m.end == u.count { return true }
        if isHighEntropy(v, minLength: 16) { return true }
        // Classic 40-hex GitHub tokens and the like.
        return u.count >= 32 && u.allSatisfy(isAlnum) && classes(u[...]) >= 2 && entropy(u) >= 3.5
    }

    static func entropy(_ u: [UInt8]) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        for c in u { counts[Int(c)] += 1 }
        let n = Double(u.count)
        var h = 0.0
        for k in counts where k > 0 {
            let p = Double(k) / n
            h -= p * log2(p)
        }
        return h
    }

    /// How many of upper, lower, digit occur.
    static func classes(_ s: ArraySlice<UInt8>) -> Int {
        var up = 0
        var lo = 0
        var di = 0
        for c in s {
            if isUpper(c) { up = 1 } else if isLower(c) { lo = 1 } else if isDigit(c) { di = 1 }
        }
        return up + lo + di
    }

    static func tokenish(_ v: String) -> Bool { classes(ArraySlice(v.utf8)) >= 2 }

    /// The value of a flag, `NAME=`, header or query parameter named with an auth word (the caller checked the name),
    /// in a command line or URL. `strict` (free text): it must also look like a token.
    static func valueIsSecret(name: String, value v: String, strict: Bool) -> Bool {
        guard !v.isEmpty, !isReference(v), !v.contains(mask) else { return false }
        if shapeWhy(v) != nil { return true }
        if isPathLike(v) || v.contains("://") || isModeWord(v) || isFileName(v) { return false }
        let n = v.utf8.count
        if n < 6, v.utf8.allSatisfy(isDigit) { return false }
        if strict { return n >= 8 && !v.contains(" ") && (tokenish(v) || n >= 16) }
        guard n >= (isPasswordName(name) ? 1 : 4) else { return false }
        return !isWeakName(name) || tokenish(v)
    }

    // MARK: Bytes

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    @inline(__always) static func isUpper(_ c: UInt8) -> Bool { c >= 65 && c <= 90 }
    @inline(__always) static func isLower(_ c: UInt8) -> Bool { c >= 97 && c <= 122 }
    @inline(__always) static func isAlpha(_ c: UInt8) -> Bool { isUpper(c) || isLower(c) }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || isDigit(c) }
    @inline(__always) static func lowercased(_ c: UInt8) -> UInt8 { isUpper(c) ? c + 32 : c }
    @inline(__always) static func isBlank(_ c: UInt8) -> Bool { c == 32 || c == 9 }
    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 32 || (c >= 9 && c <= 13) }
    @inline(__always) static func isBase64URL(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") }
    @inline(__always) static func isBase64(_ c: UInt8) -> Bool {
        isBase64URL(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=")
    }
    /// Characters that glue onto a token, so a token cannot start right after them.
    @inline(__always) static func gluesToken(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") }
    @inline(__always) static func isKeyChar(_ c: UInt8) -> Bool {
        isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
    }
    @inline(__always) static func isQuote(_ c: UInt8) -> Bool { c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") }
    @inline(__always) static func endsValue(_ c: UInt8) -> Bool {
        isSpace(c) || isQuote(c) || c == UInt8(ascii: ",") || c == UInt8(ascii: ";") || c == UInt8(ascii: "&")
            || c == UInt8(ascii: "<") || c == UInt8(ascii: ">") || c == UInt8(ascii: "`") || c == UInt8(ascii: ")")
            || c == UInt8(ascii: "]") || c == UInt8(ascii: "}")
    }
    @inline(__always) static func endsURL(_ c: UInt8) -> Bool {
        c <= 32 || c == 127 || isQuote(c) || c == UInt8(ascii: "<") || c == UInt8(ascii: ">") || c == UInt8(ascii: "`")
    }
    @inline(__always) static func isSchemeChar(_ c: UInt8) -> Bool {
        isAlnum(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
    }

    // MARK: Scanner

    /// One string being redacted: passes mark byte ranges to mask (never overlapping), then `result()` splices them.
    struct Scanner {
        enum Mode { case text, url, arguments }

        let original: String
        let b: [UInt8]
        let n: Int
        let mode: Mode
        /// Bytes already masked.
        var covered: [Bool]
        /// Bytes inside a URL or a private key block, which their own pass handled.
        var claimed: [Bool]
        var hits: [(range: Range<Int>, found: Found)] = []

        init(_ s: String, mode: Mode) {
            original = s
            b = Array(s.utf8)
            n = b.count
            self.mode = mode
            covered = [Bool](repeating: false, count: b.count)
            claimed = [Bool](repeating: false, count: b.count)
        }

        func text(_ r: Range<Int>) -> String { String(decoding: b[r], as: UTF8.self) }

        func decoded(_ r: Range<Int>) -> String {
            let s = text(r)
            guard r.contains(where: { b[$0] == UInt8(ascii: "%") }) else { return s }
            return s.removingPercentEncoding ?? s
        }

        /// Whether a range holds a mask already (from an earlier pass, or from an earlier redaction).
        func hasMask(_ r: Range<Int>) -> Bool {
            var stars = 0
            for i in r {
                if covered[i] { return true }
                stars = b[i] == UInt8(ascii: "*") ? stars + 1 : 0
                if stars >= 3 { return true }
            }
            return false
        }

        func anyClaimed(_ r: Range<Int>) -> Bool { r.contains { claimed[$0] } }
        func anyCovered(_ r: Range<Int>) -> Bool { r.contains { covered[$0] } }

        @discardableResult
        mutating func add(_ r: Range<Int>, secret: String? = nil, password: Bool = false, why: String) -> Bool {
            guard r.lowerBound >= 0, r.upperBound <= n, !r.isEmpty, !hasMask(r) else { return false }
            for i in r { covered[i] = true }
            hits.append((r, Found(secret: secret ?? text(r), isPassword: password, why: why)))
            return true
        }

        mutating func claim(_ r: Range<Int>) {
            for i in r { claimed[i] = true }
        }

        func find(_ pattern: [UInt8], from: Int, limit: Int? = nil) -> Int? {
            let end = min(limit ?? n, n)
            guard !pattern.isEmpty, from >= 0, from + pattern.count <= end else { return nil }
            var i = from
            while i + pattern.count <= end {
                if b[i] == pattern[0], (1..<pattern.count).allSatisfy({ b[i + $0] == pattern[$0] }) { return i }
                i += 1
            }
            return nil
        }

        func result() -> (text: String, found: [Found]) {
            if hits.isEmpty { return (original, []) }
            let sorted = hits.sorted { $0.range.lowerBound < $1.range.lowerBound }
            var out: [UInt8] = []
            out.reserveCapacity(n)
            var i = 0
            for h in sorted {
                out += b[i..<h.range.lowerBound]
                out += SecretRedaction.mask.utf8
                i = h.range.upperBound
            }
            out += b[i..<n]
            return (String(decoding: out, as: UTF8.self), sorted.map(\.found))
        }

        mutating func runPasses() {
            guard n > 0 else { return }
            scanPrivateKeys()
            scanURLs()
            // Passes that mask any run come before names are read: a name they mask is gone, as it will be when this output
            // is redacted again (idempotence).
            scanTokens()
            scanSchemes()
            scanPairs()
        }

        // MARK: Private keys

        mutating func scanPrivateKeys() {
            let begin = Array("-----BEGIN ".utf8)
            let dashes = Array("-----".utf8)
            let endMarker = Array("-----END".utf8)
            var from = 0
            while let i = find(begin, from: from) {
                guard let h = find(dashes, from: i + begin.count, limit: i + begin.count + 100) else {
                    from = i + begin.count
                    continue
                }
                let bodyStart = h + dashes.count
                guard text(i..<h).contains("PRIVATE KEY") else {
                    from = bodyStart
                    continue
                }
                let e = find(endMarker, from: bodyStart) ?? n
                var s = bodyStart
                var t = e
                while s < t, isSpace(b[s]) || b[s] == UInt8(ascii: "\\") && s + 1 < t && b[s + 1] == UInt8(ascii: "n") {
                    s += isSpace(b[s]) ? 1 : 2
                }
                while t > s, isSpace(b[t - 1]) || t - 2 >= s && b[t - 2] == UInt8(ascii: "\\") && b[t - 1] == UInt8(ascii: "n") {
                    t -= isSpace(b[t - 1]) ? 1 : 2
                }
                if s < t { add(s..<t, why: "private key") }
                var claimEnd = n
                if e < n { claimEnd = find(dashes, from: e + endMarker.count, limit: e + endMarker.count + 100).map { $0 + 5 } ?? e + 8 }
                claim(i..<claimEnd)
                from = claimEnd
            }
        }

        // MARK: URLs

        mutating func scanURLs() {
            let sep = Array("://".utf8)
            var from = 0
            while let p = find(sep, from: from) {
                from = p + 3
                guard !claimed[p] else { continue }
                var s = p
                while s > 0, isSchemeChar(b[s - 1]), !claimed[s - 1] { s -= 1 }
                while s < p, !isAlpha(b[s]) { s += 1 }
                guard s < p else { continue }
                var e = p + 3
                while e < n, !endsURL(b[e]) { e += 1 }
                if mode != .url {
                    while e > p + 3, ".,;:!?)]}".utf8.contains(b[e - 1]) { e -= 1 }
                }
                scanURL(scheme: s, separator: p, end: e)
                claim(s..<e)
                from = max(from, e)
            }
        }

        mutating func scanURL(scheme s: Int, separator p: Int, end e: Int) {
            let a = p + 3
            var authorityEnd = a
            while authorityEnd < e, b[authorityEnd] != UInt8(ascii: "/"), b[authorityEnd] != UInt8(ascii: "?"),
                b[authorityEnd] != UInt8(ascii: "#")
            { authorityEnd += 1 }
            var hostStart = a
            if let at = (a..<authorityEnd).last(where: { b[$0] == UInt8(ascii: "@") }) {
                hostStart = at + 1
                let colon = (a..<at).first { b[$0] == UInt8(ascii: ":") }
                let user = a..<(colon ?? at)
                if let colon {
                    let pass = (colon + 1)..<at
                    let v = decoded(pass)
                    if !pass.isEmpty, !isReference(v) {
                        add(pass, secret: v, password: shapeWhy(v) == nil, why: "URL password")
                    }
                }
                let u = decoded(user)
                if !user.isEmpty, !isReference(u), userIsToken(u) { add(user, secret: u, why: "URL user part") }
            }
            var host = text(hostStart..<authorityEnd).lowercased()
            if let c = host.firstIndex(of: ":") { host = String(host[..<c]) }

            var pathEnd = authorityEnd
            while pathEnd < e, b[pathEnd] != UInt8(ascii: "?"), b[pathEnd] != UInt8(ascii: "#") { pathEnd += 1 }
            var segments: [Range<Int>] = []
            var i = authorityEnd
            while i < pathEnd {
                if b[i] == UInt8(ascii: "/") {
                    i += 1
                    continue
                }
                let st = i
                while i < pathEnd, b[i] != UInt8(ascii: "/") { i += 1 }
                segments.append(st..<i)
            }
            scanPath(segments, host: host)

            if pathEnd < e, b[pathEnd] == UInt8(ascii: "?") {
                var q = pathEnd + 1
                while q < e, b[q] != UInt8(ascii: "#") { q += 1 }
                scanParameters((pathEnd + 1)..<q, label: "query parameter")
                if q < e { scanParameters((q + 1)..<e, label: "URL fragment") }
            } else if pathEnd < e {
                scanParameters((pathEnd + 1)..<e, label: "URL fragment")
            }
        }

        mutating func scanPath(_ segments: [Range<Int>], host: String) {
            let names = segments.map { text($0) }
            let slack = host == "hooks.slack.com" || host == "hooks.slack-gov.com"
            let discord = host.hasSuffix("discord.com") || host.hasSuffix("discordapp.com")
            let webhooks = names.firstIndex(of: "webhooks")
            for (k, seg) in segments.enumerated() {
                guard seg.count >= 8 || (slack && k >= 3) || (discord && webhooks.map { k == $0 + 2 } == true) else { continue }
                let v = decoded(seg)
                guard !hasMask(seg), !isReference(v) else { continue }
                let u = Array(names[k].utf8)
                // Telegram: /bot<digits>:<secret>/
                if u.count > 3, names[k].hasPrefix("bot"), let colon = u.firstIndex(of: UInt8(ascii: ":")), colon >= 8,
                    u[3..<colon].allSatisfy(isDigit), u.count - colon - 1 >= 20, u[(colon + 1)...].allSatisfy(isBase64URL)
                {
                    add((seg.lowerBound + 3)..<seg.upperBound, why: "Telegram bot token")
                    continue
                }
                if slack, k >= 3, ["services", "workflows", "triggers"].contains(names[0]) {
                    add(seg, secret: v, why: "Slack webhook secret")
                    continue
                }
                if discord, let w = webhooks, k == w + 2 {
                    add(seg, secret: v, why: "Discord webhook token")
                    continue
                }
                if let why = shapeWhy(v) {
                    add(seg, secret: v, why: why)
                } else if k > 0, hasSecretWord(names[k - 1]), !isQualified(names[k - 1]), v.utf8.count >= 8, tokenish(v),
                    !isFileName(v)
                {
                    add(seg, secret: v, why: "path segment after /\(names[k - 1])/")
                } else if isHighEntropy(v) {
                    add(seg, secret: v, why: "high-entropy path segment")
                }
            }
        }

        /// `a=b&c=d` (query or fragment): values of auth-word names, and values shaped like tokens.
        mutating func scanParameters(_ r: Range<Int>, label: String) {
            var i = r.lowerBound
            while i < r.upperBound {
                let st = i
                while i < r.upperBound, b[i] != UInt8(ascii: "&"), b[i] != UInt8(ascii: ";") { i += 1 }
                let pair = st..<i
                i += 1
                guard !pair.isEmpty else { continue }
                guard let eq = pair.first(where: { b[$0] == UInt8(ascii: "=") }) else {
                    let v = decoded(pair)
                    if let why = shapeWhy(v) { add(pair, secret: v, why: why) }
                    continue
                }
                let key = decoded(pair.lowerBound..<eq)
                let valueRange = (eq + 1)..<pair.upperBound
                let v = decoded(valueRange)
                guard !valueRange.isEmpty, !hasMask(valueRange), !isReference(v) else { continue }
                if hasSecretWord(key), !isQualified(key), !isModeWord(v) {
                    add(valueRange, secret: v, password: isPasswordName(key) && shapeWhy(v) == nil, why: "value of \(label) \(key)")
                } else if let why = shapeWhy(v) {
                    add(valueRange, secret: v, why: why)
                }
            }
        }

        // MARK: key=value, key: value

        mutating func scanPairs() {
            // Where a value starting in [start, end) ends: values end at bytes, not at names, so a value found once serves
            // every name inside it (`a=a=a=…` stays linear). One cache for unquoted values and one per quote.
            var ends: [UInt8: (start: Int, end: Int)] = [:]
            func valueEnd(_ vs: Int, quote: UInt8?) -> Int {
                let kind = quote ?? 0
                if let c = ends[kind], vs >= c.start, vs <= c.end { return c.end }
                var ve = vs
                if let q = quote {
                    while ve < n, b[ve] != q, b[ve] != 10, !claimed[ve] { ve += 1 }
                } else {
                    while ve < n, !endsValue(b[ve]), !claimed[ve] { ve += 1 }
                }
                ends[kind] = (vs, ve)
                return ve
            }
            var i = 0
            while i < n {
                let c = b[i]
                guard c == UInt8(ascii: "=") || c == UInt8(ascii: ":"), !claimed[i], !covered[i] else {
                    i += 1
                    continue
                }
                // The name: `KEY=`, `--flag=`, `"key": `, `Header: `, `key = `.
                var k = i
                while k > 0, i - k < 4, isBlank(b[k - 1]) { k -= 1 }
                if k > 0, isQuote(b[k - 1]) { k -= 1 }
                var ks = k
                while ks > 0, k - ks < 128, isKeyChar(b[ks - 1]), !claimed[ks - 1], !covered[ks - 1] { ks -= 1 }
                guard k - ks >= 2, (ks..<k).contains(where: { isAlpha(b[$0]) }) else {
                    i += 1
                    continue
                }
                let key = text(ks..<k)
                let named = namesSecret(key)
                // Unnamed values are checked only for `NAME=random` in command lines and connection strings.
                guard named || (mode != .text && c == UInt8(ascii: "=")) else {
                    i += 1
                    continue
                }

                var vs = i + 1
                while vs < n, isBlank(b[vs]) { vs += 1 }
                var quote: UInt8?
                if vs < n, isQuote(b[vs]) {
                    quote = b[vs]
                    vs += 1
                }
                var why = "value of \(key)"
                var scheme = false
                if named, let sl = schemeLength(b, vs, n) {
                    let word = text(vs..<(vs + sl))
                    var t = vs + sl
                    while t < n, isBlank(b[t]) { t += 1 }
                    if t < n, !endsValue(b[t]) {
                        why = "\(word.prefix(1).uppercased() + word.dropFirst().lowercased()) token in \(key)"
                        vs = t
                        scheme = true
                    }
                }
                var ve = vs
                if !named {
                    // `NAME=random`: a base64 run (padding only at its end) of 20 or more, then the end of the value.
                    while ve < n, isBase64(b[ve]), b[ve] != UInt8(ascii: "="), !claimed[ve] { ve += 1 }
                    var pad = 0
                    while ve < n, pad < 2, b[ve] == UInt8(ascii: "="), !claimed[ve] {
                        ve += 1
                        pad += 1
                    }
                    let ends = ve == n || (quote.map { b[ve] == $0 } ?? endsValue(b[ve]))
                    guard ve - vs >= 20, ends, !anyCovered(vs..<ve), isHighEntropy(text(vs..<ve)) else {
                        i += 1
                        continue
                    }
                    add(vs..<ve, why: "high-entropy value of \(key)")
                    i = ve
                    continue
                }
                ve = valueEnd(vs, quote: scheme ? nil : quote)
                let range = vs..<ve
                // Not a credential past 4 KiB (private keys and JWTs have their own passes); keeps this linear-ish.
                guard !range.isEmpty, range.count <= 4096, !hasMask(range) else {
                    i += 1
                    continue
                }
                let v = text(range)
                let secret =
                    !isReference(v)
                    && (scheme ? mode != .text || v.utf8.count >= 8 : valueIsSecret(name: key, value: v, strict: mode == .text))
                if secret {
                    let shape = shapeWhy(v)
                    add(range, password: !scheme && shape == nil && isPasswordName(key), why: shape ?? why)
                    i = ve
                } else {
                    // Not past the value: names inside it are read too, as they will be once earlier names are masked.
                    i += 1
                }
            }
        }

        // MARK: Bearer / Basic without a header name

        mutating func scanSchemes() {
            let schemes: [(word: [UInt8], why: String, password: Bool)] = [
                (Array("bearer".utf8), "Bearer token", false), (Array("basic".utf8), "Basic credentials", true),
            ]
            var i = 0
            while i < n {
                let c = lowercased(b[i])
                guard c == UInt8(ascii: "b"), i == 0 || !isAlnum(b[i - 1]), !claimed[i], !covered[i] else {
                    i += 1
                    continue
                }
                var matched = false
                for s in schemes {
                    let w = s.word
                    guard i + w.count < n, isBlank(b[i + w.count]),
                        (0..<w.count).allSatisfy({ lowercased(b[i + $0]) == w[$0] })
                    else { continue }
                    var t = i + w.count
                    while t < n, isBlank(b[t]) { t += 1 }
                    var e = t
                    // The run takes in masks and masked bytes, so a value touching one is left alone (idempotence).
                    while e < n,
                        isBase64(b[e]) || b[e] == UInt8(ascii: ".") || b[e] == UInt8(ascii: "~") || b[e] == UInt8(ascii: "*")
                            || covered[e], !claimed[e]
                    { e += 1 }
                    let v = text(t..<e)
                    if e - t >= 8, tokenish(v), !hasMask(t..<e) {
                        add(t..<e, password: s.password, why: s.why)
                        i = e
                        matched = true
                    }
                    break
                }
                if !matched { i += 1 }
            }
        }

        // MARK: Known prefixes, JWTs

        mutating func scanTokens() {
            // stop[p]: where a token starting at p must end (whitespace, or a byte another pass handled).
            var stop = [Int](repeating: n, count: n + 1)
            var next = n
            for q in stride(from: n - 1, through: 0, by: -1) {
                if claimed[q] || covered[q] || isSpace(b[q]) { next = q }
                stop[q] = next
            }
            var p = 0
            while p < n {
                guard !claimed[p], !covered[p], p == 0 || !gluesToken(b[p - 1]) else {
                    p += 1
                    continue
                }
                if let m = matchToken(b, p, stop[p]) {
                    add(p..<m.end, why: m.why)
                    p = m.end
                } else {
                    p += 1
                }
            }
        }

        // MARK: Flags

        /// `--api-key VALUE`, `--accessToken VALUE` (pieces split on whitespace). `pending` is a secret flag that ended the
        /// previous argument, whose value is this whole argument; returns the flag ending this one, if any.
        mutating func scanFlags(pending initial: String?) -> String? {
            var pending = initial
            if mode == .arguments, let f = pending {
                pending = nil
                if n > 0, b[0] != UInt8(ascii: "-") {
                    if !hasMask(0..<n), !anyClaimed(0..<n), valueIsSecret(name: f, value: original, strict: false) {
                        add(0..<n, password: isPasswordName(f), why: "value of \(f)")
                    }
                    return nil
                }
            }
            var i = 0
            while i < n {
                while i < n, isSpace(b[i]) { i += 1 }
                guard i < n else { break }
                let s = i
                while i < n, !isSpace(b[i]) { i += 1 }
                if let f = pending {
                    pending = nil
                    if b[s] != UInt8(ascii: "-") {
                        var vs = s
                        var ve = i
                        if ve - vs >= 2, isQuote(b[vs]), b[ve - 1] == b[vs] {
                            vs += 1
                            ve -= 1
                        }
                        if vs < ve, !hasMask(vs..<ve), !anyClaimed(vs..<ve),
                            valueIsSecret(name: f, value: text(vs..<ve), strict: mode == .text)
                        {
                            add(vs..<ve, password: isPasswordName(f), why: "value of \(f)")
                        }
                        continue
                    }
                }
                pending = secretFlag(s..<i)
            }
            return mode == .arguments ? pending : nil
        }

        /// `--token`, `--api-key`, `--accessToken` (no `=`): a flag whose next piece is a secret.
        func secretFlag(_ r: Range<Int>) -> String? {
            guard r.count >= 2, b[r.lowerBound] == UInt8(ascii: "-"), !anyClaimed(r), !hasMask(r) else { return nil }
            var s = r.lowerBound
            while s < r.upperBound, b[s] == UInt8(ascii: "-") { s += 1 }
            guard s < r.upperBound, isAlpha(b[s]), (s..<r.upperBound).allSatisfy({ isKeyChar(b[$0]) }) else { return nil }
            let flag = text(r)
            let w = words(flag)
            guard hasSecretWord(flag), !isQualified(flag), let first = w.first, !switchWords.contains(first) else { return nil }
            return flag
        }

        /// Options of well-known programs that carry a password without a telling name: `mysql -pSECRET`,
        /// `sshpass -p SECRET`, `curl -u user:SECRET`.
        mutating func scanProgramOptions(program: String, previous: String) {
            guard n > 0, !hasMask(0..<n) else { return }
            if ["mysql", "mysqldump", "mysqladmin", "mariadb", "mariadb-dump"].contains(program), n > 2,
                b[0] == UInt8(ascii: "-"), b[1] == UInt8(ascii: "p"), !isReference(text(2..<n))
            {
                add(2..<n, password: true, why: "value of -p")
            } else if program == "sshpass", previous == "-p", !isReference(original) {
                add(0..<n, password: true, why: "value of -p")
            } else if program == "curl" {
                var start: Int?
                if ["-u", "--user", "-U", "--proxy-user"].contains(previous) {
                    start = 0
                } else if n > 2, b[0] == UInt8(ascii: "-"), b[1] == UInt8(ascii: "u") {
                    start = 2
                }
                if let st = start, let colon = (st..<n).first(where: { b[$0] == UInt8(ascii: ":") }), colon + 1 < n,
                    !isReference(text((colon + 1)..<n))
                {
                    add((colon + 1)..<n, password: true, why: "password of curl \(start == 0 ? previous : "-u")")
                }
            }
        }

        /// A whole argument that is random-looking (an unknown vendor's token passed positionally).
        mutating func scanWholeArgument() {
            guard n >= 20, hits.isEmpty, !claimed.contains(true), isHighEntropy(original) else { return }
            add(0..<n, why: "high-entropy argument")
        }
    }
}
