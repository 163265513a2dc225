/// The tunable numbers of the risk rules. Defaults are the common baselines (CIS, OWASP NHI Top 10).
public struct RuleThresholds: Sendable, Hashable, Codable {
    /// A static secret older than this is long-lived (NHI7).
    public var keyMaxAgeDays: Double = 90
    /// An identity unused for this long is stale.
    public var staleAfterDays: Double = 90
    /// A device whose OS has had no security update for this long is outdated.
    public var osPatchMaxAgeDays: Double = 60
    /// OAuth scopes that count as broad, matched whole or by the part after the last `/` (for URL scopes).
    public var broadOAuthScopes: Set<String> = [
        "*", "repo", "admin:org", "write:org", "drive", "mail.readwrite", "mail.read", "mail.send",
        "files.readwrite.all", "directory.readwrite.all", "user.readwrite.all", "sites.fullcontrol.all",
        "https://mail.google.com/", "full_access", "admin",
    ]
    /// Environments that count as production, for isolation checks (NHI8).
    public var productionEnvironments: Set<String> = ["prod", "production", "prd", "live"]

    public init() {}
}
