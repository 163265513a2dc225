import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What to tell an analyst refused a shared file, socket or folder: which group would let them in, and whether they
/// are already in it but their login session predates it (then: log in again).
public enum GroupAdvice {
    /// The advice for this user about `path`, or nil when no group's permissions would help.
    /// `path` itself is looked at when it can be, else the nearest folder above it that can be.
    public static func advice(for path: String, user: uid_t = getuid()) -> String? {
        var candidate = URL(fileURLWithPath: path).standardizedFileURL
        var st = stat()
        var isTarget = true
        for _ in 0..<32 {
            if stat(candidate.path, &st) == 0 { break }
            let parent = candidate.deletingLastPathComponent()
            guard parent.path != candidate.path else { return nil }
            candidate = parent
            isTarget = false
        }
        // What the group would need: to enter a folder on the way; to read and write the file or socket itself.
        let isDir = st.st_mode & S_IFMT == S_IFDIR
        let needed: mode_t = isDir && !isTarget ? S_IXGRP : isDir ? S_IXGRP | S_IRGRP : S_IRGRP | S_IWGRP
        guard st.st_mode & needed == needed, st.st_gid != 0 || st.st_mode & S_IXGRP != 0 else { return nil }
        guard let gr = getgrgid(st.st_gid) else { return nil }
        let group = String(cString: gr.pointee.gr_name)
        let name = getpwuid(user).map { String(cString: $0.pointee.pw_name) } ?? "uid \(user)"
        var members: [String] = []
        var m = gr.pointee.gr_mem
        while let p = m?.pointee {
            members.append(String(cString: p))
            m = m?.advanced(by: 1)
        }
        let primary = getpwuid(user).map { $0.pointee.pw_gid == st.st_gid } ?? false
        if members.contains(name) || primary {
            return "\(name) is in group \(group), but this login session started before that: log in again (or run `newgrp \(group)`)"
        }
        return "add \(name) to group \(group) and log in again (an admin runs `usermod -aG \(group) \(name)`)"
    }
}
