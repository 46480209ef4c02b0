import Foundation

/// File errors in words ("No space left on device"), never Foundation's domain and code: the
/// one place a run's file writes turn an error into what a user reads.
public enum FileFailure {
    /// A file error in words ("No space left on device"), never Foundation's domain and code.
    public static func describe(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return reason(Int32(posix.code))
        }
        if ns.domain == NSPOSIXErrorDomain { return reason(Int32(ns.code)) }
        guard ns.domain == NSCocoaErrorDomain else { return "\(error)" }  // our own errors say what they are
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileWriteOutOfSpace: return reason(ENOSPC)
        case .fileWriteNoPermission, .fileReadNoPermission: return reason(EACCES)
        case .fileNoSuchFile, .fileReadNoSuchFile: return reason(ENOENT)
        case .fileWriteVolumeReadOnly: return reason(EROFS)
        default: return ns.localizedDescription
        }
    }

    /// The C library's words for `code` (an errno value).
    public static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}
