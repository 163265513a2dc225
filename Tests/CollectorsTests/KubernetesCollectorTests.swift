import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

@Suite("Kubernetes collector")
struct KubernetesCollectorTests {
    static let list = """
        {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
          {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "argocd-application-controller", "namespace": "argocd",
            "uid": "5b2f0c1e-1", "creationTimestamp": "2024-03-01T10:00:00Z", "labels": {"team": "platform"}}},
          {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "payments",
            "uid": "5b2f0c1e-2", "creationTimestamp": "2023-01-01T10:00:00Z"}},
          {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "external-dns", "namespace": "kube-system",
            "uid": "5b2f0c1e-3", "creationTimestamp": "2024-05-01T10:00:00Z",
            "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/external-dns"}},
            "automountServiceAccountToken": false},
          {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", \
        "metadata": {"name": "argocd-application-controller"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "argocd-application-controller", "namespace": "argocd"}]},
          {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", \
        "metadata": {"name": "payments-edit", "namespace": "payments"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "ServiceAccount", "name": "default"}, {"kind": "User", "name": "priya@acme.example"}]},
          {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "old-ci"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "jenkins", "namespace": "ci"}]},
          {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "dns"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "external-dns-viewer"},
            "subjects": [{"kind": "ServiceAccount", "name": "external-dns", "namespace": "kube-system"}]}
        ]}
        """

    func file(_ text: String) throws -> String {
        let path = TestTemporary.directory.appendingPathComponent("tg-k8s-\(UUID()).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("service accounts with their bindings; findings for cluster-admin, a bound default account, automount")
    func parses() async throws {
        let path = try file(Self.list)
        let c = KubernetesCollector(input: .file(path), cluster: "prod-eu")
        let r = try await c.collect(CollectContext(now: t0Real, run: 0))
        #expect(
            r.entities.map(\.id) == [
                "k8s:prod-eu/argocd/sa/argocd-application-controller", "k8s:prod-eu/payments/sa/default",
                "k8s:prod-eu/kube-system/sa/external-dns",
            ])
        #expect(r.warnings == ["ClusterRoleBinding old-ci binds view to service account ci/jenkins, which does not exist"])
        let snap = Snapshot.build(version: 1, now: t0Real, slices: [.init(source: "k8s", entities: r.entities)])
        let argo = try #require(snap["k8s:prod-eu/argocd/sa/argocd-application-controller"])
        #expect(argo.entity.privileges == [Privilege(scope: "k8s:prod-eu:*:cluster-admin", level: .admin)])
        #expect(argo.findings.contains { $0.rule == "NHI5" && $0.title == "Overprivileged" })
        #expect(argo.findings.contains { $0.rule == "NHI6" && $0.title == "Token mounted automatically" })
        #expect(argo.entity.owner?.name == "team-platform")
        let def = try #require(snap["k8s:prod-eu/payments/sa/default"])
        #expect(def.findings.contains { $0.title == "Default service account has bindings" })
        let dns = try #require(snap["k8s:prod-eu/kube-system/sa/external-dns"])
        #expect(!dns.entity.unmanaged, "IRSA is workload identity")
        #expect(!dns.findings.contains { $0.rule == "NHI6" })
        try await checkConformance { KubernetesCollector(input: .file(path)) }
    }

    @Test("kubectl is run by argv; a failing kubectl says why")
    func runsKubectl() async throws {
        let path = try file(Self.list)
        let ok = KubernetesCollector(input: .kubectl(["/bin/cat", path]))
        #expect(try await ok.collect(CollectContext(now: t0Real, run: 0)).entities.count == 3)
        let bad = KubernetesCollector(
            input: .kubectl(["/bin/sh", "-c", "echo 'error: You must be logged in to the server (Unauthorized)' >&2; exit 1"]))
        do {
            _ = try await bad.collect(CollectContext(now: t0Real, run: 0))
            Issue.record("accepted a failing kubectl")
        } catch let e as CollectorError {
            #expect(e.description.contains("Unauthorized"))
        }
    }

    @Test("not a List, or not JSON: a clear error naming the file")
    func badInput() async throws {
        for text in [#"{"kind": "ServiceAccount", "items": []}"#, "not json", #"{"kind":"List","items":[{"kind":"ServiceAccount"}]}"#] {
            let path = try file(text)
            do {
                _ = try await KubernetesCollector(input: .file(path)).collect(CollectContext(now: t0Real, run: 0))
                Issue.record("accepted \(text)")
            } catch let e as CollectorError {
                #expect(e.description.hasPrefix(path))
            }
        }
    }
}
