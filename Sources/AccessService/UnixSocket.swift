import Access
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The few socket calls the service and its clients need, on Unix stream sockets.
enum UnixSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ what: String, _ path: String, _ err: Int32 = errno) {
            description = "\(path): \(what): \(String(cString: strerror(err)))"
        }
    }

    static func address(_ path: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { throw Failure("the socket path is longer than \(capacity - 1) bytes", path, ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return addr
    }

    /// Readies `path` for a new listener: refuses a file that isn't a socket and a socket a live service answers on;
    /// removes a stale socket (one that refuses connections).
    static func prepare(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw Failure("exists and is not a socket; refusing to replace it", path, EEXIST) }
        do {
            let fd = try connect(path)
            close(fd)
            throw Failure("another access service is already listening here", path, EADDRINUSE)
        } catch let f as Failure where f.description.contains(String(cString: strerror(ECONNREFUSED))) {
            unlink(path)
        }
    }

    static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket", path) }
        var addr = try address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let err = errno
            close(fd)
            throw Failure("can't connect", path, err)
        }
        return fd
    }

    /// `struct ucred` as Linux lays it out (Glibc hides it behind _GNU_SOURCE).
    struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Who is at the other end, as the kernel saw them connect: the uid in the service's own user namespace.
    static func peer(_ fd: Int32) -> PeerCredentials? {
        var cred = PeerCredentials()
        var len = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0, len == socklen_t(MemoryLayout<PeerCredentials>.size) else {
            return nil
        }
        return cred
    }

    /// The user name the password database gives `uid`; nil when it gives none (a connection is then refused: a
    /// made-up name could match nobody's requests and pass a self-approval check).
    static func userName(_ uid: UInt32) -> String? {
        var size = 4096
        while size <= 1 << 20 {
            var pw = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getpwuid_r(uid, &pw, &buffer, buffer.count, &result)
            if rc == ERANGE {
                size *= 4
                continue
            }
            if rc == 0, result != nil, let name = pw.pw_name {
                // A name shaped like a reported or the system's name ("x (reported)", "trustgap (system)") is refused:
                // those marks must always mean what they say.
                let user = String(cString: name)
                return Analyst.isReservedShape(user) ? nil : user
            }
            return nil
        }
        return nil
    }

    /// Refuses a folder that someone other than this user (or root) owns or may write: a socket, store, key or
    /// anchor in it could be swapped or read behind the service's back.
    static func checkPrivateFolder(_ path: String, what: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let ownerOK = st.st_uid == getuid() || st.st_uid == 0
        let sticky = st.st_mode & S_ISVTX != 0
        if !ownerOK || (st.st_mode & 0o022 != 0 && !(sticky && st.st_uid == 0)) {
            throw Failure(
                "\(what) folder is owned by uid \(st.st_uid) with mode \(String(st.st_mode & 0o7777, radix: 8)); "
                    + "it must be owned by the service's user (or root) and writable by no one else", path, EPERM)
        }
    }

    static func groupID(_ name: String) -> gid_t? {
        var gr = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getgrnam_r(name, &gr, &buffer, buffer.count, &result) == 0, result != nil { return gr.gr_gid }
        return gid_t(name)
    }

    /// Writes all of `data`, or fails (a peer that went away, or that stopped reading past the send timeout).
    static func send(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            var off = 0
            while off < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return false }
                off += n
            }
            return true
        }
    }

}

/// Reads newline-terminated lines from a socket, at most `max` bytes each: the client's side (the service frames
/// requests with `LineFrameDecoder`). A longer line is reported once as
/// `.tooLong` and the rest of it skipped, so the connection stays usable.
final class LineReader {
    enum Line {
        case line(Data)
        case tooLong
    }

    let fd: Int32
    let max: Int
    private var buffer = Data()
    private var skipping = false
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    init(fd: Int32, max: Int) {
        self.fd = fd
        self.max = max
    }

    /// The next line, or nil at end of stream (or on an error).
    func next() -> Line? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<nl]
                buffer.removeSubrange(buffer.startIndex...nl)
                if skipping {
                    skipping = false
                    continue
                }
                if line.count > max { return .tooLong }
                return .line(Data(line))
            }
            if buffer.count > max {
                // Too long already: say so once, and drop what comes until the next newline.
                buffer.removeAll(keepingCapacity: true)
                if !skipping {
                    skipping = true
                    return .tooLong
                }
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
