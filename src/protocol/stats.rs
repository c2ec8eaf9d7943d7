//! The general statistics of `memcached_stat_st`, filled from `STAT <name> <value>` pairs of
//! either protocol and formatted back for `memcached_stat_get_value`.

use core::ffi::c_char;

use super::decimal::{parse_i64, parse_u64, push_i64, push_u64};
use crate::ffi::types::memcached_stat_st;

/// The statistics names stored in `memcached_stat_st`, in the order of
/// `memcached_stat_get_keys`.
pub const STAT_NAMES: [&str; 22] = [
    "pid",
    "uptime",
    "time",
    "version",
    "pointer_size",
    "rusage_user",
    "rusage_system",
    "curr_items",
    "total_items",
    "bytes",
    "curr_connections",
    "total_connections",
    "connection_structures",
    "cmd_get",
    "cmd_set",
    "get_hits",
    "get_misses",
    "evictions",
    "bytes_read",
    "bytes_written",
    "limit_maxbytes",
    "threads",
];

/// Stores one statistic from a server reply into `st`.
///
/// Numbers must be plain decimal. A value that does not parse or does not fit the field leaves
/// the field as it was, which is 0 (or -1 for `pid`) in a freshly initialised struct. Names
/// other than [`STAT_NAMES`] are ignored. `rusage_user` and `rusage_system` are split at their
/// first ASCII punctuation byte into seconds and microseconds, so memcached's `0.006443`
/// becomes 0 s and 6443 us. `version` is truncated to 23 bytes and always NUL-terminated.
pub fn apply_stat(st: &mut memcached_stat_st, name: &[u8], value: &[u8]) {
    match name {
        b"pid" => store_signed(&mut st.pid, value),
        b"uptime" => store_unsigned(&mut st.uptime, value),
        b"time" => store_unsigned(&mut st.time, value),
        b"version" => store_version(&mut st.version, value),
        b"pointer_size" => store_unsigned(&mut st.pointer_size, value),
        b"rusage_user" => store_rusage(
            &mut st.rusage_user_seconds,
            &mut st.rusage_user_microseconds,
            value,
        ),
        b"rusage_system" => store_rusage(
            &mut st.rusage_system_seconds,
            &mut st.rusage_system_microseconds,
            value,
        ),
        b"curr_items" => store_unsigned(&mut st.curr_items, value),
        b"total_items" => store_unsigned(&mut st.total_items, value),
        b"bytes" => store_unsigned(&mut st.bytes, value),
        b"curr_connections" => store_unsigned(&mut st.curr_connections, value),
        b"total_connections" => store_unsigned(&mut st.total_connections, value),
        b"connection_structures" => store_unsigned(&mut st.connection_structures, value),
        b"cmd_get" => store_unsigned(&mut st.cmd_get, value),
        b"cmd_set" => store_unsigned(&mut st.cmd_set, value),
        b"get_hits" => store_unsigned(&mut st.get_hits, value),
        b"get_misses" => store_unsigned(&mut st.get_misses, value),
        b"evictions" => store_unsigned(&mut st.evictions, value),
        b"bytes_read" => store_unsigned(&mut st.bytes_read, value),
        b"bytes_written" => store_unsigned(&mut st.bytes_written, value),
        b"limit_maxbytes" => store_unsigned(&mut st.limit_maxbytes, value),
        b"threads" => store_unsigned(&mut st.threads, value),
        _ => {}
    }
}

/// Appends the text `memcached_stat_get_value` returns for `name`, without a NUL.
///
/// `pid` is signed decimal, the rusage pair is `<seconds>.<microseconds>` with the
/// microseconds not zero-padded (0 s and 6443 us give `0.6443`, as libmemcached 1.1.4 prints
/// it), `version` is the stored bytes up to the first NUL, and every other field is unsigned
/// decimal. Returns false and appends nothing when `name` is not one of [`STAT_NAMES`].
pub fn format_stat(st: &memcached_stat_st, name: &[u8], out: &mut Vec<u8>) -> bool {
    match name {
        b"pid" => push_i64(out, i64::from(st.pid)),
        b"version" => {
            let stored = st.version.iter().take_while(|&&byte| byte != 0);
            out.extend(stored.map(|&byte| byte as u8));
        }
        b"rusage_user" => push_rusage(out, st.rusage_user_seconds, st.rusage_user_microseconds),
        b"rusage_system" => {
            push_rusage(out, st.rusage_system_seconds, st.rusage_system_microseconds)
        }
        _ => match unsigned_field(st, name) {
            Some(value) => push_u64(out, value),
            None => return false,
        },
    }
    true
}

/// Returns the value of an unsigned statistic, or None for other names.
// `unsigned long` is u64 on LP64 targets but u32 on 32-bit ones, so the conversions are kept.
#[allow(clippy::useless_conversion)]
fn unsigned_field(st: &memcached_stat_st, name: &[u8]) -> Option<u64> {
    let value = match name {
        b"uptime" => u64::from(st.uptime),
        b"time" => u64::from(st.time),
        b"pointer_size" => u64::from(st.pointer_size),
        b"curr_items" => u64::from(st.curr_items),
        b"total_items" => u64::from(st.total_items),
        b"bytes" => st.bytes,
        b"curr_connections" => u64::from(st.curr_connections),
        b"total_connections" => u64::from(st.total_connections),
        b"connection_structures" => u64::from(st.connection_structures),
        b"cmd_get" => st.cmd_get,
        b"cmd_set" => st.cmd_set,
        b"get_hits" => st.get_hits,
        b"get_misses" => st.get_misses,
        b"evictions" => st.evictions,
        b"bytes_read" => st.bytes_read,
        b"bytes_written" => st.bytes_written,
        b"limit_maxbytes" => st.limit_maxbytes,
        b"threads" => u64::from(st.threads),
        _ => return None,
    };
    Some(value)
}

fn push_rusage<T: Into<u64>>(out: &mut Vec<u8>, seconds: T, microseconds: T) {
    push_u64(out, seconds.into());
    out.push(b'.');
    push_u64(out, microseconds.into());
}

/// Generic over the field type because `unsigned long` is 32 bits on some targets.
fn store_unsigned<T: TryFrom<u64>>(field: &mut T, value: &[u8]) {
    if let Some(parsed) = parse_u64(value).ok().and_then(|n| T::try_from(n).ok()) {
        *field = parsed;
    }
}

fn store_signed<T: TryFrom<i64>>(field: &mut T, value: &[u8]) {
    if let Some(parsed) = parse_i64(value).ok().and_then(|n| T::try_from(n).ok()) {
        *field = parsed;
    }
}

fn store_rusage<T: TryFrom<u64>>(seconds: &mut T, microseconds: &mut T, value: &[u8]) {
    match value.iter().position(u8::is_ascii_punctuation) {
        Some(split) => {
            store_unsigned(seconds, &value[..split]);
            store_unsigned(microseconds, &value[split + 1..]);
        }
        None => store_unsigned(seconds, value),
    }
}

fn store_version(field: &mut [c_char; 24], value: &[u8]) {
    // Keep the last byte for the terminating NUL.
    let copied = value.len().min(field.len() - 1);
    field.fill(0);
    for (slot, &byte) in field.iter_mut().zip(&value[..copied]) {
        *slot = byte as c_char;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr;

    fn fresh_stat() -> memcached_stat_st {
        memcached_stat_st {
            connection_structures: 0,
            curr_connections: 0,
            curr_items: 0,
            pid: -1,
            pointer_size: 0,
            rusage_system_microseconds: 0,
            rusage_system_seconds: 0,
            rusage_user_microseconds: 0,
            rusage_user_seconds: 0,
            threads: 0,
            time: 0,
            total_connections: 0,
            total_items: 0,
            uptime: 0,
            bytes: 0,
            bytes_read: 0,
            bytes_written: 0,
            cmd_get: 0,
            cmd_set: 0,
            evictions: 0,
            get_hits: 0,
            get_misses: 0,
            limit_maxbytes: 0,
            version: [0; 24],
            __future: ptr::null_mut(),
            root: ptr::null_mut(),
        }
    }

    fn formatted(st: &memcached_stat_st, name: &str) -> String {
        let mut out = Vec::new();
        assert!(format_stat(st, name.as_bytes(), &mut out), "{name}");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn apply_stat_fills_every_field() {
        let mut st = fresh_stat();
        let mut value = 1000u64;
        for name in STAT_NAMES {
            value += 1;
            let text = match name {
                "version" => "1.6.18".to_string(),
                "rusage_user" | "rusage_system" => format!("{value}.{:06}", value + 1),
                _ => value.to_string(),
            };
            apply_stat(&mut st, name.as_bytes(), text.as_bytes());
        }

        let mut expected = 1000u64;
        for name in STAT_NAMES {
            expected += 1;
            let want = match name {
                "version" => "1.6.18".to_string(),
                "rusage_user" | "rusage_system" => format!("{expected}.{}", expected + 1),
                _ => expected.to_string(),
            };
            assert_eq!(formatted(&st, name), want, "{name}");
        }
    }

    #[test]
    fn apply_stat_sample_server_reply() {
        let mut st = fresh_stat();
        let reply: [(&[u8], &[u8]); 6] = [
            (b"pid", b"4242"),
            (b"rusage_user", b"0.006443"),
            (b"rusage_system", b"12:000034"),
            (b"threads", b"4"),
            (b"limit_maxbytes", b"16777216"),
            (b"version", b"1.6.18"),
        ];
        for (name, value) in reply {
            apply_stat(&mut st, name, value);
        }
        assert_eq!(st.pid, 4242);
        assert_eq!(st.rusage_user_seconds, 0);
        assert_eq!(st.rusage_user_microseconds, 6443);
        assert_eq!(st.rusage_system_seconds, 12);
        assert_eq!(st.rusage_system_microseconds, 34);
        assert_eq!(st.threads, 4);
        assert_eq!(st.limit_maxbytes, 16_777_216);
        assert_eq!(formatted(&st, "rusage_user"), "0.6443");
        assert_eq!(formatted(&st, "version"), "1.6.18");
    }

    #[test]
    fn apply_stat_ignores_unknown_names() {
        let mut st = fresh_stat();
        apply_stat(&mut st, b"curr_itemsX", b"5");
        apply_stat(&mut st, b"", b"5");
        apply_stat(&mut st, b"reclaimed", b"5");
        assert_eq!(st.curr_items, 0);
        assert_eq!(st.pid, -1);
    }

    #[test]
    fn apply_stat_unparsable_leaves_field() {
        let mut st = fresh_stat();
        for bad in [&b""[..], b"abc", b"12 ", b"-3", b"18446744073709551616"] {
            apply_stat(&mut st, b"curr_items", bad);
            apply_stat(&mut st, b"bytes", bad);
        }
        apply_stat(&mut st, b"pid", b"99999999999");
        apply_stat(&mut st, b"pid", b"x");
        apply_stat(&mut st, b"rusage_user", b"x.y");
        assert_eq!(st.curr_items, 0);
        assert_eq!(st.bytes, 0);
        assert_eq!(st.pid, -1);
        assert_eq!(st.rusage_user_seconds, 0);
        assert_eq!(st.rusage_user_microseconds, 0);
    }

    #[test]
    fn apply_stat_rusage_without_punctuation() {
        let mut st = fresh_stat();
        apply_stat(&mut st, b"rusage_system", b"17");
        assert_eq!(st.rusage_system_seconds, 17);
        assert_eq!(st.rusage_system_microseconds, 0);
    }

    #[test]
    fn apply_stat_version_truncated() {
        let mut st = fresh_stat();
        apply_stat(&mut st, b"version", &[b'v'; 40]);
        assert_eq!(formatted(&st, "version"), "v".repeat(23));
        assert_eq!(st.version[23], 0);

        // A shorter version later must not leave bytes of the longer one behind.
        apply_stat(&mut st, b"version", b"1.6");
        assert_eq!(formatted(&st, "version"), "1.6");
        assert!(st.version[3..].iter().all(|&byte| byte == 0));
    }

    #[test]
    fn format_stat_unknown_name() {
        let st = fresh_stat();
        let mut out = b"keep".to_vec();
        assert!(!format_stat(&st, b"nope", &mut out));
        assert_eq!(out, b"keep");
    }

    #[test]
    fn format_stat_negative_pid() {
        assert_eq!(formatted(&fresh_stat(), "pid"), "-1");
    }
}
