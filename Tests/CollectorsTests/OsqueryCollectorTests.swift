import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

@Suite("osquery collector")
struct OsqueryCollectorTests {
    static let log = """
        {"name":"pack_posture_system_info","hostIdentifier":"mbp-priya","calendarTime":"Sat Nov 28 10:00:00 2026 UTC",\
        "unixTime":1795860000,"epoch":0,"counter":0,"numerics":false,"decorations":{"host_uuid":"A1"},"action":"snapshot",\
        "snapshot":[{"hostname":"mbp-priya.local","computer_name":"Priya's MacBook Pro","hardware_model":"MacBookPro18,3",\
        "hardware_serial":"C02XYZ"}]}
        {"name":"pack_posture_os_version","hostIdentifier":"mbp-priya","calendarTime":"Sat Nov 28 10:00:00 2026 UTC",\
        "unixTime":1795860000,"epoch":0,"counter":0,"numerics":false,"action":"snapshot","snapshot":[{"name":"macOS",\
        "version":"15.1","major":"15","minor":"1","patch":"0","build":"24B83"}]}
        {"name":"pack_posture_disk_encryption","hostIdentifier":"mbp-priya","calendarTime":"Sat Nov 28 10:00:00 2026 UTC",\
        "unixTime":1795860000,"epoch":0,"counter":0,"numerics":false,"action":"snapshot","snapshot":[{"name":"/dev/disk3s1",\
        "uuid":"U1","encrypted":"1","type":"APFS"}]}
        {"name":"pack_posture_screenlock","hostIdentifier":"mbp-priya","calendarTime":"Sat Nov 28 10:00:00 2026 UTC",\
        "unixTime":1795860000,"epoch":0,"counter":0,"numerics":false,"action":"snapshot","snapshot":[{"enabled":"1",\
        "grace_period":"5"}]}
        {"name":"pack_posture_os_version","hostIdentifier":"old-imac","calendarTime":"Sat Nov 28 10:00:00 2026 UTC",\
        "unixTime":1795860000,"epoch":0,"counter":0,"numerics":false,"action":"snapshot","snapshot":[{"name":"macOS",\
        "version":"12.6.1"}]}
        {"name":"pack_posture_disk_encryption","hostIdentifier":"old-imac","calendarTime":"Sat Nov 28 10:00:00 2026 UTC",\
        "unixTime":1795860000,"epoch":0,"counter":0,"numerics":false,"action":"added","columns":{"name":"/dev/disk1s1",\
        "encrypted":"1"}}
        {"name":"pack_posture_disk_encryption","hostIdentifier":"old-imac","calendarTime":"Sat Nov 28 10:05:00 2026 UTC",\
        "unixTime":1795860300,"epoch":0,"counter":1,"numerics":false,"action":"removed","columns":{"name":"/dev/disk1s1",\
        "encrypted":"1"}}
        {"name":"pack_posture_disk_encryption","hostIdentifier":"old-imac","calendarTime":"Sat Nov 28 10:05:00 2026 UTC",\
        "unixTime":1795860300,"epoch":0,"counter":1,"numerics":false,"action":"added","columns":{"name":"/dev/disk1s1",\
        "encrypted":"0"}}
        {"name":"pack_posture_screenlock","hostIdentifier":"old-imac","calendarTime":"Sat Nov 28 10:05:00 2026 UTC",\
        "unixTime":1795860300,"epoch":0,"counter":1,"numerics":false,"action":"snapshot","snapshot":[{"enabled":"0"}]}
        {"name":"pack_other_processes","hostIdentifier":"old-imac","unixTime":1795860300,"action":"snapshot","snapshot":[]}
        not json at all
        """

    func write(_ text: String, name: String = "osqueryd.results.log") throws -> String {
        let path = TestTemporary.directory.appendingPathComponent("tg-osq-\(UUID())-\(name)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the results log: snapshots and differential events per host, posture findings")
    func resultsLog() async throws {
        let path = try write(Self.log)
        let r = try await OsqueryCollector(path: path).collect(CollectContext(now: t0Real, run: 0))
        #expect(r.entities.map(\.id) == ["osquery:host/mbp-priya", "osquery:host/old-imac"])
        #expect(r.warnings == ["\(path):11: not valid JSON"])
        let snap = Snapshot.build(version: 1, now: t0Real, slices: [.init(source: "osq", entities: r.entities)])
        let mbp = try #require(snap["osquery:host/mbp-priya"])
        #expect(mbp.entity.name == "Priya's MacBook Pro")
        #expect(mbp.entity.kind == "laptop")
        #expect(mbp.entity.posture?.diskEncrypted == true)
        #expect(mbp.findings.map(\.rule) == ["DEV-MDM"])
        let imac = try #require(snap["osquery:host/old-imac"])
        #expect(imac.entity.posture?.diskEncrypted == false, "the removed/added pair replaced the row")
        #expect(Set(imac.findings.map(\.rule)) == ["DEV-ENC", "DEV-OS", "DEV-LOCK", "DEV-MDM"])
        #expect(imac.findings.first { $0.rule == "DEV-OS" }?.evidence == "macOS 12.6.1 is older than the minimum 14.0")
        #expect(imac.entity.lastSeen == Date(timeIntervalSince1970: 1_795_860_300))
        try await checkConformance { OsqueryCollector(path: path) }
    }

    @Test("a directory of osqueryi --json outputs, one folder per host")
    func directory() async throws {
        let dir = TestTemporary.directory.appendingPathComponent("tg-osqi-\(UUID())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("build-01"), withIntermediateDirectories: true)
        try #"[{"name":"Ubuntu","version":"20.04.6 LTS (Focal Fossa)"}]"#.write(
            to: dir.appendingPathComponent("build-01/os_version.json"), atomically: true, encoding: .utf8)
        try #"[{"name":"/dev/nvme0n1p3","encrypted":"0","type":""}]"#.write(
            to: dir.appendingPathComponent("build-01/disk_encryption.json"), atomically: true, encoding: .utf8)
        try "[oops".write(to: dir.appendingPathComponent("build-01/system_info.json"), atomically: true, encoding: .utf8)
        let r = try await OsqueryCollector(path: dir.path).collect(CollectContext(now: t0Real, run: 0))
        #expect(r.entities.map(\.id) == ["osquery:host/build-01"])
        #expect(r.entities[0].posture?.diskEncrypted == false)
        #expect(r.entities[0].posture?.osOutdated?.hasPrefix("Ubuntu 20.04.6") == true)
        #expect(r.warnings.count == 1)
    }
}
