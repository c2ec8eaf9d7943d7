//! `memcached_behavior_set` / `memcached_behavior_get` and the distribution and hash helpers.

use libc::c_char;

use super::types::memcached_behavior_t::*;
use super::types::memcached_return_t::*;
use super::types::*;
use super::{boundary, handle_of};
use crate::error::Error;
use crate::handle::Handle;

fn behavior_from_raw(raw: memcached_behavior_raw) -> Option<memcached_behavior_t> {
    if (0..=37).contains(&raw) {
        // SAFETY: memcached_behavior_t is a fieldless #[repr(C)] enum with discriminants
        // 0..=38 without gaps, and raw was checked to be in 0..=37.
        Some(unsafe { std::mem::transmute::<i32, memcached_behavior_t>(raw) })
    } else {
        None
    }
}

fn deprecated(h: &mut Handle, what: &str) -> memcached_return_t {
    h.fail(
        Error::new(
            MEMCACHED_DEPRECATED,
            format!("{what} is deprecated and has no effect"),
        ),
        None,
    )
}

fn invalid(h: &mut Handle, what: &str) -> memcached_return_t {
    h.fail(
        Error::new(MEMCACHED_INVALID_ARGUMENTS, what.to_owned()),
        None,
    )
}

/// Applies one behavior to a handle (the body of memcached_behavior_set).
pub fn set_behavior(h: &mut Handle, flag: memcached_behavior_raw, data: u64) -> memcached_return_t {
    let Some(behavior) = behavior_from_raw(flag) else {
        return invalid(h, &format!("unknown behavior {flag}"));
    };
    let on = data != 0;
    let b = &mut h.behaviors;
    match behavior {
        MEMCACHED_BEHAVIOR_NO_BLOCK => {
            b.no_block = on;
            h.reconnect_all();
        }
        MEMCACHED_BEHAVIOR_TCP_NODELAY => {
            b.tcp_nodelay = on;
            h.reconnect_all();
        }
        MEMCACHED_BEHAVIOR_HASH => {
            if h.selector.set_key_hash(data).is_err() {
                return invalid(h, "this hash algorithm is not available");
            }
        }
        MEMCACHED_BEHAVIOR_KETAMA => {
            let points = Handle::points_of(
                &h.servers,
                h.behaviors.auto_eject,
                crate::handle::now_seconds(),
            );
            h.selector.set_ketama(data, &points);
        }
        MEMCACHED_BEHAVIOR_SOCKET_SEND_SIZE => {
            b.send_size = data as i32;
            h.reconnect_all();
        }
        MEMCACHED_BEHAVIOR_SOCKET_RECV_SIZE => {
            b.recv_size = data as i32;
            h.reconnect_all();
        }
        MEMCACHED_BEHAVIOR_CACHE_LOOKUPS => {
            return deprecated(h, "MEMCACHED_BEHAVIOR_CACHE_LOOKUPS")
        }
        MEMCACHED_BEHAVIOR_SUPPORT_CAS => b.support_cas = on,
        MEMCACHED_BEHAVIOR_POLL_TIMEOUT => b.poll_timeout = data as i32,
        MEMCACHED_BEHAVIOR_DISTRIBUTION => {
            let points = Handle::points_of(
                &h.servers,
                h.behaviors.auto_eject,
                crate::handle::now_seconds(),
            );
            if h.selector.set_distribution(data, &points).is_err() {
                return invalid(h, &format!("unknown distribution {data}"));
            }
        }
        MEMCACHED_BEHAVIOR_BUFFER_REQUESTS => {
            if b.use_udp {
                return invalid(h, "BUFFER_REQUESTS cannot be used with UDP");
            }
            b.buffer_requests = on;
            h.reconnect_all();
        }
        MEMCACHED_BEHAVIOR_USER_DATA => return deprecated(h, "MEMCACHED_BEHAVIOR_USER_DATA"),
        MEMCACHED_BEHAVIOR_SORT_HOSTS => {
            b.sort_hosts = on;
            h.rebuild();
        }
        MEMCACHED_BEHAVIOR_VERIFY_KEY => {
            if b.binary {
                return invalid(h, "VERIFY_KEY cannot be set with the binary protocol");
            }
            b.verify_key = on;
        }
        MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT => b.connect_timeout = data as i32,
        MEMCACHED_BEHAVIOR_RETRY_TIMEOUT => b.retry_timeout = data as i32,
        MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED => {
            let points = Handle::points_of(
                &h.servers,
                h.behaviors.auto_eject,
                crate::handle::now_seconds(),
            );
            h.selector.set_ketama_weighted(data, &points);
        }
        MEMCACHED_BEHAVIOR_KETAMA_HASH => {
            if h.selector.set_distribution_hash(data).is_err() {
                return invalid(h, "this hash algorithm is not available");
            }
        }
        MEMCACHED_BEHAVIOR_BINARY_PROTOCOL => {
            h.reconnect_all();
            let b = &mut h.behaviors;
            if on {
                b.verify_key = false;
            }
            b.binary = on;
        }
        MEMCACHED_BEHAVIOR_SND_TIMEOUT => b.snd_timeout = data as i32,
        MEMCACHED_BEHAVIOR_RCV_TIMEOUT => b.rcv_timeout = data as i32,
        MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT => {
            if data == 0 {
                return invalid(h, "SERVER_FAILURE_LIMIT must be at least 1");
            }
            b.server_failure_limit = data as u32;
        }
        MEMCACHED_BEHAVIOR_IO_MSG_WATERMARK => b.io_msg_watermark = data as u32,
        MEMCACHED_BEHAVIOR_IO_BYTES_WATERMARK => b.io_bytes_watermark = data as u32,
        MEMCACHED_BEHAVIOR_IO_KEY_PREFETCH => b.io_key_prefetch = data as u32,
        MEMCACHED_BEHAVIOR_HASH_WITH_PREFIX_KEY => b.hash_with_namespace = on,
        MEMCACHED_BEHAVIOR_NOREPLY => {
            if !on && b.use_udp {
                return invalid(h, "NOREPLY cannot be turned off with UDP");
            }
            b.noreply = on;
        }
        MEMCACHED_BEHAVIOR_USE_UDP => {
            // The flags change as in libmemcached; requests then fail with NOT_SUPPORTED,
            // because this library has no UDP transport.
            b.use_udp = on;
            b.noreply = on;
            if on {
                b.buffer_requests = false;
            }
            h.reconnect_all();
        }
        MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS | MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS => {
            b.auto_eject = on
        }
        MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS => b.number_of_replicas = data as u32,
        MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ => b.randomize_replica_read = on,
        MEMCACHED_BEHAVIOR_CORK => return deprecated(h, "MEMCACHED_BEHAVIOR_CORK"),
        MEMCACHED_BEHAVIOR_TCP_KEEPALIVE => {
            b.tcp_keepalive = on;
            h.reconnect_all();
        }
        MEMCACHED_BEHAVIOR_TCP_KEEPIDLE => {
            b.tcp_keepidle = data as u32;
            h.reconnect_all();
        }
        MEMCACHED_BEHAVIOR_LOAD_FROM_FILE => return invalid(h, "LOAD_FROM_FILE cannot be set"),
        MEMCACHED_BEHAVIOR_DEAD_TIMEOUT => b.dead_timeout = data as i32,
        MEMCACHED_BEHAVIOR_SERVER_TIMEOUT_LIMIT => b.server_timeout_limit = data as u32,
        MEMCACHED_BEHAVIOR_MAX => return invalid(h, "unknown behavior 38"),
    }
    MEMCACHED_SUCCESS
}

/// Reads one behavior (the body of memcached_behavior_get).
pub fn get_behavior(h: &mut Handle, flag: memcached_behavior_raw) -> u64 {
    let Some(behavior) = behavior_from_raw(flag) else {
        invalid(h, &format!("unknown behavior {flag}"));
        return 0;
    };
    let b = &h.behaviors;
    match behavior {
        MEMCACHED_BEHAVIOR_NO_BLOCK => b.no_block as u64,
        MEMCACHED_BEHAVIOR_TCP_NODELAY => b.tcp_nodelay as u64,
        MEMCACHED_BEHAVIOR_HASH => h.selector.key_hash() as u64,
        MEMCACHED_BEHAVIOR_KETAMA => h.selector.is_consistent() as u64,
        MEMCACHED_BEHAVIOR_SOCKET_SEND_SIZE => h.socket_buffer_size(libc::SO_SNDBUF),
        MEMCACHED_BEHAVIOR_SOCKET_RECV_SIZE => h.socket_buffer_size(libc::SO_RCVBUF),
        MEMCACHED_BEHAVIOR_CACHE_LOOKUPS => 1,
        MEMCACHED_BEHAVIOR_SUPPORT_CAS => b.support_cas as u64,
        MEMCACHED_BEHAVIOR_POLL_TIMEOUT => b.poll_timeout as u64,
        MEMCACHED_BEHAVIOR_DISTRIBUTION => h.selector.distribution() as u64,
        MEMCACHED_BEHAVIOR_BUFFER_REQUESTS => b.buffer_requests as u64,
        MEMCACHED_BEHAVIOR_USER_DATA => {
            deprecated(h, "MEMCACHED_BEHAVIOR_USER_DATA");
            0
        }
        MEMCACHED_BEHAVIOR_SORT_HOSTS => b.sort_hosts as u64,
        MEMCACHED_BEHAVIOR_VERIFY_KEY => b.verify_key as u64,
        MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT => b.connect_timeout as u64,
        MEMCACHED_BEHAVIOR_RETRY_TIMEOUT => b.retry_timeout as u64,
        MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED => {
            (h.selector.is_weighted() && h.selector.is_consistent()) as u64
        }
        MEMCACHED_BEHAVIOR_KETAMA_HASH => h.selector.distribution_hash() as u64,
        MEMCACHED_BEHAVIOR_BINARY_PROTOCOL => b.binary as u64,
        MEMCACHED_BEHAVIOR_SND_TIMEOUT => b.snd_timeout as u64,
        MEMCACHED_BEHAVIOR_RCV_TIMEOUT => b.rcv_timeout as u64,
        MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT => b.server_failure_limit as u64,
        MEMCACHED_BEHAVIOR_IO_MSG_WATERMARK => b.io_msg_watermark as u64,
        MEMCACHED_BEHAVIOR_IO_BYTES_WATERMARK => b.io_bytes_watermark as u64,
        MEMCACHED_BEHAVIOR_IO_KEY_PREFETCH => b.io_key_prefetch as u64,
        MEMCACHED_BEHAVIOR_HASH_WITH_PREFIX_KEY => b.hash_with_namespace as u64,
        MEMCACHED_BEHAVIOR_NOREPLY => b.noreply as u64,
        MEMCACHED_BEHAVIOR_USE_UDP => b.use_udp as u64,
        MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS | MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS => {
            b.auto_eject as u64
        }
        MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS => b.number_of_replicas as u64,
        MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ => b.randomize_replica_read as u64,
        MEMCACHED_BEHAVIOR_CORK => 1,
        MEMCACHED_BEHAVIOR_TCP_KEEPALIVE => b.tcp_keepalive as u64,
        MEMCACHED_BEHAVIOR_TCP_KEEPIDLE => b.tcp_keepidle as u64,
        MEMCACHED_BEHAVIOR_LOAD_FROM_FILE => h.config_file.is_some() as u64,
        MEMCACHED_BEHAVIOR_DEAD_TIMEOUT => b.dead_timeout as u64,
        MEMCACHED_BEHAVIOR_SERVER_TIMEOUT_LIMIT => b.server_timeout_limit as u64,
        MEMCACHED_BEHAVIOR_MAX => 0,
    }
}

/// Sets a behavior.
///
/// Returns SUCCESS; INVALID_ARGUMENTS for a NULL handle, an unknown behavior number (where
/// libmemcached aborts) or a refused value; DEPRECATED for CACHE_LOOKUPS, USER_DATA and CORK.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_behavior_set(
    ptr: *mut memcached_st,
    flag: memcached_behavior_raw,
    data: u64,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => {
                let code = set_behavior(h, flag, data);
                h.publish();
                code
            }
            None => MEMCACHED_INVALID_ARGUMENTS,
        }
    })
}

/// Reads a behavior. A NULL handle gives 38 (the value of INVALID_ARGUMENTS, as libmemcached
/// returns); an unknown behavior number gives 0 and records INVALID_ARGUMENTS.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_behavior_get(
    ptr: *mut memcached_st,
    flag: memcached_behavior_raw,
) -> u64 {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => get_behavior(h, flag),
            None => MEMCACHED_INVALID_ARGUMENTS as u64,
        }
    })
}

/// Same as setting MEMCACHED_BEHAVIOR_DISTRIBUTION.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_behavior_set_distribution(
    ptr: *mut memcached_st,
    kind: memcached_server_distribution_raw,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    unsafe { memcached_behavior_set(ptr, MEMCACHED_BEHAVIOR_DISTRIBUTION as i32, kind as u64) }
}

/// Returns the distribution (CONSISTENT_MAX for NULL).
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_behavior_get_distribution(
    ptr: *mut memcached_st,
) -> memcached_server_distribution_t {
    use memcached_server_distribution_t::*;
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_DISTRIBUTION_CONSISTENT_MAX;
        };
        match h.selector.distribution() {
            0 => MEMCACHED_DISTRIBUTION_MODULA,
            1 => MEMCACHED_DISTRIBUTION_CONSISTENT,
            2 => MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA,
            3 => MEMCACHED_DISTRIBUTION_RANDOM,
            4 => MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA_SPY,
            5 => MEMCACHED_DISTRIBUTION_CONSISTENT_WEIGHTED,
            6 => MEMCACHED_DISTRIBUTION_VIRTUAL_BUCKET,
            _ => MEMCACHED_DISTRIBUTION_CONSISTENT_MAX,
        }
    })
}

fn hash_from_number(value: u32) -> memcached_hash_t {
    use memcached_hash_t::*;
    match value {
        0 => MEMCACHED_HASH_DEFAULT,
        1 => MEMCACHED_HASH_MD5,
        2 => MEMCACHED_HASH_CRC,
        3 => MEMCACHED_HASH_FNV1_64,
        4 => MEMCACHED_HASH_FNV1A_64,
        5 => MEMCACHED_HASH_FNV1_32,
        6 => MEMCACHED_HASH_FNV1A_32,
        7 => MEMCACHED_HASH_HSIEH,
        8 => MEMCACHED_HASH_MURMUR,
        9 => MEMCACHED_HASH_JENKINS,
        10 => MEMCACHED_HASH_MURMUR3,
        11 => MEMCACHED_HASH_CUSTOM,
        _ => MEMCACHED_HASH_MAX,
    }
}

/// Same as setting MEMCACHED_BEHAVIOR_HASH.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_behavior_set_key_hash(
    ptr: *mut memcached_st,
    kind: memcached_hash_raw,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    unsafe { memcached_behavior_set(ptr, MEMCACHED_BEHAVIOR_HASH as i32, kind as u64) }
}

/// Returns the key hash (MAX for NULL).
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_behavior_get_key_hash(
    ptr: *mut memcached_st,
) -> memcached_hash_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => hash_from_number(h.selector.key_hash()),
            None => memcached_hash_t::MEMCACHED_HASH_MAX,
        }
    })
}

/// Same as setting MEMCACHED_BEHAVIOR_KETAMA_HASH.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_behavior_set_distribution_hash(
    ptr: *mut memcached_st,
    kind: memcached_hash_raw,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    unsafe { memcached_behavior_set(ptr, MEMCACHED_BEHAVIOR_KETAMA_HASH as i32, kind as u64) }
}

/// Returns the KEY hash, as libmemcached 1.1.4 does (MAX for NULL).
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_behavior_get_distribution_hash(
    ptr: *mut memcached_st,
) -> memcached_hash_t {
    // SAFETY: forwarded caller contract.
    unsafe { memcached_behavior_get_key_hash(ptr) }
}

macro_rules! names_table {
    ($($name:literal),* $(,)?) => { &[$(concat!($name, "\0")),*] };
}

static BEHAVIOR_NAMES: &[&str] = names_table!(
    "MEMCACHED_BEHAVIOR_NO_BLOCK",
    "MEMCACHED_BEHAVIOR_TCP_NODELAY",
    "MEMCACHED_BEHAVIOR_HASH",
    "MEMCACHED_BEHAVIOR_KETAMA",
    "MEMCACHED_BEHAVIOR_SOCKET_SEND_SIZE",
    "MEMCACHED_BEHAVIOR_SOCKET_RECV_SIZE",
    "MEMCACHED_BEHAVIOR_CACHE_LOOKUPS",
    "MEMCACHED_BEHAVIOR_SUPPORT_CAS",
    "MEMCACHED_BEHAVIOR_POLL_TIMEOUT",
    "MEMCACHED_BEHAVIOR_DISTRIBUTION",
    "MEMCACHED_BEHAVIOR_BUFFER_REQUESTS",
    "MEMCACHED_BEHAVIOR_USER_DATA",
    "MEMCACHED_BEHAVIOR_SORT_HOSTS",
    "MEMCACHED_BEHAVIOR_VERIFY_KEY",
    "MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT",
    "MEMCACHED_BEHAVIOR_RETRY_TIMEOUT",
    "MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED",
    "MEMCACHED_BEHAVIOR_KETAMA_HASH",
    "MEMCACHED_BEHAVIOR_BINARY_PROTOCOL",
    "MEMCACHED_BEHAVIOR_SND_TIMEOUT",
    "MEMCACHED_BEHAVIOR_RCV_TIMEOUT",
    "MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT",
    "MEMCACHED_BEHAVIOR_IO_MSG_WATERMARK",
    "MEMCACHED_BEHAVIOR_IO_BYTES_WATERMARK",
    "MEMCACHED_BEHAVIOR_IO_KEY_PREFETCH",
    "MEMCACHED_BEHAVIOR_HASH_WITH_PREFIX_KEY",
    "MEMCACHED_BEHAVIOR_NOREPLY",
    "MEMCACHED_BEHAVIOR_USE_UDP",
    "MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS",
    "MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS",
    "MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ",
    "MEMCACHED_BEHAVIOR_CORK",
    "MEMCACHED_BEHAVIOR_TCP_KEEPALIVE",
    "MEMCACHED_BEHAVIOR_TCP_KEEPIDLE",
    "MEMCACHED_BEHAVIOR_LOAD_FROM_FILE",
    "MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS",
    "MEMCACHED_BEHAVIOR_DEAD_TIMEOUT",
    "MEMCACHED_BEHAVIOR_SERVER_TIMEOUT_LIMIT",
);

static DISTRIBUTION_NAMES: &[&str] = names_table!(
    "MEMCACHED_DISTRIBUTION_MODULA",
    "MEMCACHED_DISTRIBUTION_CONSISTENT",
    "MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA",
    "MEMCACHED_DISTRIBUTION_RANDOM",
    "MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA_SPY",
    "MEMCACHED_DISTRIBUTION_CONSISTENT_WEIGHTED",
    "MEMCACHED_DISTRIBUTION_VIRTUAL_BUCKET",
);

static HASH_NAMES: &[&str] = names_table!(
    "DEFAULT", "MD5", "CRC", "FNV1_64", "FNV1A_64", "FNV1_32", "FNV1A_32", "HSIEH", "MURMUR",
    "JENKINS", "MURMUR3", "CUSTOM",
);

/// The name of a behavior number without the NUL ("?" when unknown).
pub fn behavior_name(flag: memcached_behavior_raw) -> &'static str {
    usize::try_from(flag)
        .ok()
        .and_then(|i| BEHAVIOR_NAMES.get(i))
        .map(|n| &n[..n.len() - 1])
        .unwrap_or("?")
}

fn table_entry(table: &'static [&'static str], index: i32, invalid: &'static str) -> *const c_char {
    let text = usize::try_from(index)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
        .unwrap_or(invalid);
    text.as_ptr() as *const c_char
}

/// Returns the enumerator's name, or "INVALID memcached_behavior_t". Static string.
#[no_mangle]
pub extern "C" fn libmemcached_string_behavior(flag: memcached_behavior_raw) -> *const c_char {
    table_entry(BEHAVIOR_NAMES, flag, "INVALID memcached_behavior_t\0")
}

/// Returns the enumerator's name, or "INVALID memcached_server_distribution_t". Static string.
#[no_mangle]
pub extern "C" fn libmemcached_string_distribution(
    flag: memcached_server_distribution_raw,
) -> *const c_char {
    table_entry(
        DISTRIBUTION_NAMES,
        flag,
        "INVALID memcached_server_distribution_t\0",
    )
}

/// Returns the hash's name ("DEFAULT", "MD5", ...), or "INVALID". Static string.
#[no_mangle]
pub extern "C" fn libmemcached_string_hash(kind: memcached_hash_raw) -> *const c_char {
    table_entry(HASH_NAMES, kind, "INVALID\0")
}
