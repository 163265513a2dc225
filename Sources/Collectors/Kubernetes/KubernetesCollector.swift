import ChildProcess
import Foundation
import Inventory

/// Service accounts and what is bound to them, from `kubectl get serviceaccounts,rolebindings,clusterrolebindings
/// -A -o json` (a `List`), read from a file or by running kubectl (argv, no shell).
///
/// Each ServiceAccount becomes a service account entity; each RoleBinding/ClusterRoleBinding naming it as a subject
/// adds a privilege (`k8s:CLUSTER:NAMESPACE|*:ROLE`, admin for `cluster-admin`/`admin`/`*admin`, write for
/// `edit`/`*write*`, read otherwise). Bindings to service accounts that don't exist are reported as warnings.
public final class KubernetesCollector: Collector {
    public enum Source: Sendable {
        case file(String)
        case kubectl([String])
    }
    public let input: Source
    public let cluster: String
    let source: String
    let timeoutSeconds: Double
    let lane = BlockingLane("trustgap-k8s")

    public init(input: Source, cluster: String = "default", source: String = "kubernetes", timeoutSeconds: Double = 30) {
        self.input = input
        self.cluster = cluster
        self.source = source
        self.timeoutSeconds = timeoutSeconds
    }

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        let data: Data
        let origin: String
        switch input {
        case .file(let path):
            // Read and parsed on a thread of its own: a hung mount holds it, never a pool thread.
            let now = context.now
            return try await lane.run("reading \(path)") { stop in
                guard let d = FileManager.default.contents(atPath: path) else {
                    throw CollectorError.failed("\(path): cannot read the file")
                }
                try stop.check()
                return try self.parse(d, origin: path, now: now)
            }
        case .kubectl(let argv):
            let outcome: ChildProcess.Outcome
            do { outcome = try await ChildProcess.run(argv, timeoutSeconds: ChildProcess.timeout(within: timeoutSeconds)) } catch {
                throw CollectorError.failed(error.description)
            }
            guard outcome.succeeded else {
                let how: String =
                    switch outcome.ending {
                    case .exited(let c): "exited with status \(c)"
                    case .signaled(let s): "was killed by signal \(s)"
                    case .timedOut: "ran past its timeout and was stopped"
                    case .outputCapped: "wrote too much output"
                    }
                throw CollectorError.failed(
                    "\(argv.joined(separator: " ")) \(how): \(outcome.stderrTail.split(separator: "\n").suffix(2).joined(separator: " | "))"
                )
            }
            (data, origin) = (outcome.stdout, "\(argv[0]) stdout")
        }
        return try parse(data, origin: origin, now: context.now)
    }

    struct Object: Decodable {
        struct Meta: Decodable {
            var name: String
            var namespace: String?
            var uid: String?
            var creationTimestamp: String?
            var labels: [String: String]?
            var annotations: [String: String]?
        }
        struct RoleRef: Decodable {
            var kind: String
            var name: String
        }
        struct Subject: Decodable {
            var kind: String
            var name: String
            var namespace: String?
        }
        struct Ref: Decodable { var name: String }
        var kind: String
        var metadata: Meta
        var roleRef: RoleRef?
        var subjects: [Subject]?
        var automountServiceAccountToken: Bool?
        var secrets: [Ref]?
    }

    struct List: Decodable {
        var kind: String
        var items: [Object]
    }

    func parse(_ data: Data, origin: String, now: Date) throws -> CollectorReport {
        let list: List
        do {
            list = try JSONDecoder().decode(List.self, from: data)
        } catch {
            throw CollectorError.failed("\(origin): not the JSON of `kubectl get … -o json`: \(DecodingProblem.describe(error))")
        }
        guard list.kind == "List" || list.kind.hasSuffix("List") else {
            throw CollectorError.failed("\(origin): expected a List, found kind \(list.kind)")
        }
        var accounts: [String: Entity] = [:]
        var order: [String] = []
        for o in list.items where o.kind == "ServiceAccount" {
            let ns = o.metadata.namespace ?? "default"
            let key = "\(ns)/\(o.metadata.name)"
            let ann = o.metadata.annotations ?? [:]
            let labels = o.metadata.labels ?? [:]
            var coverage: Set<Control> = []
            if ann["eks.amazonaws.com/role-arn"] != nil || ann["iam.gke.io/gcp-service-account"] != nil
                || ann["azure.workload.identity/client-id"] != nil
            {
                coverage.insert(.workloadIdentity)
            }
            let ownerName = ann["owner"] ?? labels["owner"] ?? labels["team"].map { "team-\($0)" }
            var attributes = [
                "namespace": ns, "cluster": cluster, "automount_token": o.automountServiceAccountToken == false ? "false" : "true",
            ]
            if let uid = o.metadata.uid { attributes["uid"] = uid }
            let credentials = (o.secrets ?? []).map { Credential(id: "secret/\($0.name)", kind: .token) }
            accounts[key] = Entity(
                id: "k8s:\(cluster)/\(ns)/sa/\(o.metadata.name)", population: .serviceAccount, kind: "k8s_service_account",
                name: o.metadata.name, owner: ownerName.map { Owner(name: $0, status: .unknown) },
                environment: labels["environment"] ?? labels["env"],
                coverage: coverage, credentials: credentials, firstSeen: o.metadata.creationTimestamp.flatMap(ISO8601.parse),
                lastSeen: now, sources: [source], attributes: attributes)
            order.append(key)
        }
        var warnings: [String] = []
        for o in list.items where o.kind == "RoleBinding" || o.kind == "ClusterRoleBinding" {
            guard let role = o.roleRef else {
                warnings.append("\(origin): \(o.kind) \(o.metadata.name) has no roleRef")
                continue
            }
            for s in o.subjects ?? [] where s.kind == "ServiceAccount" {
                let ns = s.namespace ?? o.metadata.namespace ?? "default"
                let key = "\(ns)/\(s.name)"
                guard var e = accounts[key] else {
                    warnings.append(
                        "\(o.kind) \(o.metadata.namespace.map { "\($0)/" } ?? "")\(o.metadata.name) binds \(role.name) "
                            + "to service account \(key), which does not exist"
                    )
                    continue
                }
                let scopeNS = o.kind == "ClusterRoleBinding" ? "*" : (o.metadata.namespace ?? ns)
                e.privileges.append(Privilege(scope: "k8s:\(cluster):\(scopeNS):\(role.name)", level: Self.level(role.name)))
                accounts[key] = e
            }
        }
        return CollectorReport(entities: order.compactMap { accounts[$0] }, warnings: warnings)
    }

    static func level(_ role: String) -> PrivilegeLevel {
        let r = role.lowercased()
        if r == "cluster-admin" || r == "admin" || r.hasSuffix("admin") || r.contains("*") { return .admin }
        if r == "edit" || r.contains("write") || r.contains("edit") || r.contains("deploy") { return .write }
        return .read
    }
}
