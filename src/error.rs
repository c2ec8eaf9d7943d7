//! Result codes, their texts, and the error record a handle keeps for
//! `memcached_last_error_message`.

use std::ffi::CString;
use std::fmt::Write as _;

use crate::ffi::types::memcached_return_t;
use crate::ffi::types::memcached_return_t::*;

/// A failure with its code, the errno of the failing system call (0 if none) and a detail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: memcached_return_t,
    pub errno: i32,
    pub detail: String,
}

impl Error {
    pub fn new(code: memcached_return_t, detail: impl Into<String>) -> Error {
        Error {
            code,
            errno: 0,
            detail: detail.into(),
        }
    }

    pub fn code(code: memcached_return_t) -> Error {
        Error {
            code,
            errno: 0,
            detail: String::new(),
        }
    }

    /// Builds the error for a failed system call from `errno`, mapping the errno values that
    /// libmemcached maps (ENOMEM, ECONNREFUSED, ENOTCONN, ECONNRESET, EINVAL) to their codes.
    pub fn from_errno(errno: i32, what: &str) -> Error {
        let code = match errno {
            libc::ENOMEM => MEMCACHED_MEMORY_ALLOCATION_FAILURE,
            libc::ECONNREFUSED | libc::ENOTCONN | libc::ECONNRESET | libc::EPIPE => {
                MEMCACHED_CONNECTION_FAILURE
            }
            libc::EINVAL => MEMCACHED_INVALID_ARGUMENTS,
            _ => MEMCACHED_ERRNO,
        };
        let mut detail = String::from(what);
        let _ = write!(detail, ": {}", std::io::Error::from_raw_os_error(errno));
        Error {
            code,
            errno,
            detail,
        }
    }
}

/// Returns true for the codes libmemcached's inline `memcached_fatal()` treats as fatal.
pub fn is_fatal(rc: memcached_return_t) -> bool {
    !matches!(
        rc,
        MEMCACHED_AUTH_CONTINUE
            | MEMCACHED_BUFFERED
            | MEMCACHED_CLIENT_ERROR
            | MEMCACHED_DATA_EXISTS
            | MEMCACHED_DELETED
            | MEMCACHED_E2BIG
            | MEMCACHED_END
            | MEMCACHED_ITEM
            | MEMCACHED_ERROR
            | MEMCACHED_NOTFOUND
            | MEMCACHED_NOTSTORED
            | MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE
            | MEMCACHED_STAT
            | MEMCACHED_STORED
            | MEMCACHED_SUCCESS
            | MEMCACHED_VALUE
    )
}

/// Returns true for the codes libmemcached's inline `memcached_success()` accepts.
pub fn is_success(rc: memcached_return_t) -> bool {
    matches!(
        rc,
        MEMCACHED_BUFFERED
            | MEMCACHED_DELETED
            | MEMCACHED_END
            | MEMCACHED_ITEM
            | MEMCACHED_STAT
            | MEMCACHED_STORED
            | MEMCACHED_SUCCESS
            | MEMCACHED_VALUE
    )
}

/// Returns true for codes a caller should read as "the server could not be used".
pub fn is_connection_class(rc: memcached_return_t) -> bool {
    matches!(
        rc,
        MEMCACHED_CONNECTION_FAILURE
            | MEMCACHED_HOST_LOOKUP_FAILURE
            | MEMCACHED_TIMEOUT
            | MEMCACHED_SERVER_MARKED_DEAD
            | MEMCACHED_SERVER_TEMPORARILY_DISABLED
            | MEMCACHED_WRITE_FAILURE
            | MEMCACHED_READ_FAILURE
            | MEMCACHED_UNKNOWN_READ_FAILURE
            | MEMCACHED_ERRNO
            | MEMCACHED_FAIL_UNIX_SOCKET
            | MEMCACHED_PROTOCOL_ERROR
    )
}

/// Converts a raw integer to the enum, or None when it is outside 0..=49.
pub fn return_from_raw(raw: i32) -> Option<memcached_return_t> {
    if (0..=49).contains(&raw) {
        // SAFETY: memcached_return_t is a fieldless #[repr(C)] enum whose discriminants are
        // exactly 0..=49 with no gaps, and `raw` was checked to be in that range.
        Some(unsafe { std::mem::transmute::<i32, memcached_return_t>(raw) })
    } else {
        None
    }
}

/// The texts of `memcached_strerror`, NUL-terminated, indexed by code; libmemcached 1.1.4
/// prints these exact strings.
static STRERROR: [&str; 50] = [
    "SUCCESS\0",
    "FAILURE\0",
    "getaddrinfo() or getnameinfo() HOSTNAME LOOKUP FAILURE\0",
    "CONNECTION FAILURE\0",
    "CONNECTION BIND FAILURE\0",
    "WRITE FAILURE\0",
    "READ FAILURE\0",
    "UNKNOWN READ FAILURE\0",
    "PROTOCOL ERROR\0",
    "CLIENT ERROR\0",
    "SERVER ERROR\0",
    "ERROR was returned by server\0",
    "CONNECTION DATA EXISTS\0",
    "CONNECTION DATA DOES NOT EXIST\0",
    "NOT STORED\0",
    "STORED\0",
    "NOT FOUND\0",
    "MEMORY ALLOCATION FAILURE\0",
    "PARTIAL READ\0",
    "SOME ERRORS WERE REPORTED\0",
    "NO SERVERS DEFINED\0",
    "SERVER END\0",
    "SERVER DELETE\0",
    "SERVER VALUE\0",
    "STAT VALUE\0",
    "ITEM VALUE\0",
    "SYSTEM ERROR\0",
    "COULD NOT OPEN UNIX SOCKET\0",
    "ACTION NOT SUPPORTED\0",
    "A KEY LENGTH OF ZERO WAS PROVIDED\0",
    "FETCH WAS NOT COMPLETED\0",
    "A TIMEOUT OCCURRED\0",
    "ACTION QUEUED\0",
    "A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE\0",
    "THE HOST TRANSPORT PROTOCOL DOES NOT MATCH THAT OF THE CLIENT\0",
    "SERVER IS MARKED DEAD\0",
    "ENCOUNTERED AN UNKNOWN STAT KEY\0",
    "ITEM TOO BIG\0",
    "INVALID ARGUMENTS\0",
    "KEY RETURNED FROM SERVER WAS TOO LARGE\0",
    "FAILED TO SEND AUTHENTICATION TO SERVER\0",
    "AUTHENTICATION FAILURE\0",
    "CONTINUE AUTHENTICATION\0",
    "ERROR OCCURED WHILE PARSING\0",
    "USER INITIATED ERROR OCCURED WHILE PARSING\0",
    "DEPRECATED\0",
    "OPERATION IN PROCESS\0",
    "SERVER HAS FAILED AND IS DISABLED UNTIL TIMED RETRY\0",
    "SERVER FAILED TO ALLOCATE OBJECT\0",
    "INVALID memcached_return_t\0",
];

/// Returns the NUL-terminated text for a raw code; out-of-range codes get
/// "INVALID memcached_return_t".
pub fn strerror_bytes(raw: i32) -> &'static str {
    let index = if (0..49).contains(&raw) {
        raw as usize
    } else {
        49
    };
    STRERROR[index]
}

/// Returns the text without its NUL terminator.
pub fn strerror(rc: memcached_return_t) -> &'static str {
    let text = strerror_bytes(rc as i32);
    &text[..text.len() - 1]
}

/// The newest error record of a handle (libmemcached keeps a stack; callers can only read
/// the newest entry, so one record is kept).
#[derive(Default)]
pub struct ErrorRecord {
    pub code: Option<memcached_return_t>,
    pub errno: i32,
    pub message: Option<CString>,
}

impl ErrorRecord {
    pub fn clear(&mut self) {
        self.code = None;
        self.errno = 0;
        self.message = None;
    }

    /// Stores `error` if libmemcached would record it (fatal codes and CLIENT_ERROR).
    /// `server` names the host the error came from, if any.
    pub fn record(&mut self, error: &Error, server: Option<(&str, u16)>) {
        if !is_fatal(error.code) && error.code != MEMCACHED_CLIENT_ERROR {
            return;
        }
        let mut text = String::with_capacity(64 + error.detail.len());
        text.push_str(strerror(error.code));
        if !error.detail.is_empty() {
            text.push_str(": ");
            text.push_str(&error.detail);
        }
        if let Some((host, port)) = server {
            let _ = write!(text, " (server {host}:{port})");
        }
        // A detail never contains NUL bytes from our own texts, but server messages might.
        let text = text.replace('\0', "\\0");
        self.code = Some(error.code);
        self.errno = error.errno;
        self.message = CString::new(text).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_table_matches_codes() {
        assert_eq!(strerror(MEMCACHED_SUCCESS), "SUCCESS");
        assert_eq!(strerror(MEMCACHED_NOTFOUND), "NOT FOUND");
        assert_eq!(
            strerror(MEMCACHED_BAD_KEY_PROVIDED),
            "A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE"
        );
        assert_eq!(
            strerror(MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE),
            "SERVER FAILED TO ALLOCATE OBJECT"
        );
        assert_eq!(strerror_bytes(49), "INVALID memcached_return_t\0");
        assert_eq!(strerror_bytes(-1), "INVALID memcached_return_t\0");
        assert_eq!(strerror_bytes(1000), "INVALID memcached_return_t\0");
    }

    #[test]
    fn raw_conversion_covers_all_codes() {
        for raw in 0..=49 {
            assert_eq!(return_from_raw(raw).map(|rc| rc as i32), Some(raw));
        }
        assert_eq!(return_from_raw(50), None);
        assert_eq!(return_from_raw(-1), None);
    }

    #[test]
    fn record_skips_non_fatal_codes() {
        let mut record = ErrorRecord::default();
        record.record(&Error::code(MEMCACHED_NOTFOUND), None);
        assert!(record.code.is_none());
        record.record(
            &Error::new(MEMCACHED_TIMEOUT, "read"),
            Some(("127.0.0.1", 11211)),
        );
        assert_eq!(record.code, Some(MEMCACHED_TIMEOUT));
        let text = record.message.as_ref().unwrap().to_str().unwrap();
        assert_eq!(text, "A TIMEOUT OCCURRED: read (server 127.0.0.1:11211)");
    }
}
