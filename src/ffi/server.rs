//! Servers and server lists: `memcached_server_add*`, `memcached_server_push`,
//! `memcached_server_list_*`, `memcached_servers_parse`, and the instance accessors.

use libc::{c_char, c_void, size_t};

use super::types::memcached_connection_t::*;
use super::types::memcached_return_t::*;
use super::types::*;
use super::{boundary, bytes, c_str, handle_of, write_out};
use crate::error::Error;
use crate::server::{init_list_element, list_element_hostname, HOSTNAME_CAPACITY};

const DEFAULT_PORT: u16 = 11211;

fn is_socket_path(host: &[u8]) -> bool {
    host.first() == Some(&b'/')
}

/// # Safety
/// `ptr` is NULL or a valid handle; `hostname` is NULL or NUL-terminated.
unsafe fn add_server(
    ptr: *mut memcached_st,
    hostname: *const c_char,
    port: in_port_t,
    weight: u32,
) -> memcached_return_t {
    // SAFETY: caller contract.
    let Some(h) = (unsafe { handle_of(ptr) }) else {
        return MEMCACHED_INVALID_ARGUMENTS;
    };
    // SAFETY: caller contract.
    let host = match unsafe { c_str(hostname) } {
        None | Some(b"") => &b"localhost"[..],
        Some(host) => host,
    };
    if host.len() >= HOSTNAME_CAPACITY {
        return h.fail(
            Error::new(
                MEMCACHED_INVALID_ARGUMENTS,
                "host name is longer than 1024 bytes",
            ),
            None,
        );
    }
    let port = if port == 0 { DEFAULT_PORT } else { port };
    let kind = if is_socket_path(host) {
        MEMCACHED_CONNECTION_UNIX_SOCKET
    } else {
        MEMCACHED_CONNECTION_TCP
    };
    h.add_server(host, port, weight, kind);
    MEMCACHED_SUCCESS
}

/// Adds a TCP server (port 0 means 11211, NULL or "" means "localhost", a name starting with
/// '/' a Unix socket). No name lookup or connect happens here.
/// Returns SUCCESS, or INVALID_ARGUMENTS for a NULL handle or a host name over 1024 bytes.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `hostname` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_add(
    ptr: *mut memcached_st,
    hostname: *const c_char,
    port: in_port_t,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe { add_server(ptr, hostname, port, 0) })
}

/// As `memcached_server_add`, with a weight (0 means 1).
///
/// # Safety
/// `ptr` is NULL or a valid handle; `hostname` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_add_with_weight(
    ptr: *mut memcached_st,
    hostname: *const c_char,
    port: in_port_t,
    weight: u32,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe { add_server(ptr, hostname, port, weight) })
}

/// Adds a Unix-socket server. Returns SUCCESS, FAILURE for a NULL handle (as libmemcached),
/// or INVALID_ARGUMENTS for a NULL, empty or over-long path.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `filename` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_add_unix_socket_with_weight(
    ptr: *mut memcached_st,
    filename: *const c_char,
    weight: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_FAILURE;
        };
        // SAFETY: caller contract.
        let path = match unsafe { c_str(filename) } {
            Some(path) if !path.is_empty() && path.len() < HOSTNAME_CAPACITY => path,
            _ => {
                return h.fail(
                    Error::new(MEMCACHED_INVALID_ARGUMENTS, "invalid unix socket path"),
                    None,
                )
            }
        };
        h.add_server(path, 0, weight, MEMCACHED_CONNECTION_UNIX_SOCKET);
        MEMCACHED_SUCCESS
    })
}

/// As `memcached_server_add_unix_socket_with_weight` with weight 1.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `filename` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_add_unix_socket(
    ptr: *mut memcached_st,
    filename: *const c_char,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    unsafe { memcached_server_add_unix_socket_with_weight(ptr, filename, 0) }
}

/// UDP servers: returns DEPRECATED, as libmemcached 1.1.4 does.
///
/// # Safety
/// No pointer is dereferenced.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_add_udp(
    ptr: *mut memcached_st,
    hostname: *const c_char,
    port: in_port_t,
) -> memcached_return_t {
    let _ = (ptr, hostname, port);
    MEMCACHED_DEPRECATED
}

/// UDP servers: returns DEPRECATED, as libmemcached 1.1.4 does.
///
/// # Safety
/// No pointer is dereferenced.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_add_udp_with_weight(
    ptr: *mut memcached_st,
    hostname: *const c_char,
    port: in_port_t,
    weight: u32,
) -> memcached_return_t {
    let _ = (ptr, hostname, port, weight);
    MEMCACHED_DEPRECATED
}

/// Reads the elements of a server list (the count lives in element 0).
///
/// # Safety
/// `list` is NULL or a server list from this library.
unsafe fn list_elements<'a>(list: *const memcached_server_st) -> &'a [memcached_server_st] {
    if list.is_null() {
        return &[];
    }
    // SAFETY: caller contract: element 0 exists.
    let count = unsafe { (*list).number_of_hosts } as usize;
    // SAFETY: a list is one allocation of `count` elements.
    unsafe { std::slice::from_raw_parts(list, count) }
}

/// Appends copies of the list's servers. The list stays the caller's.
/// Returns SUCCESS (also for a NULL list), or INVALID_ARGUMENTS for a NULL handle.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `list` is NULL or a server list from this library.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_push(
    ptr: *mut memcached_st,
    list: *const memcached_server_st,
) -> memcached_return_t {
    boundary(|| {
        if list.is_null() {
            return MEMCACHED_SUCCESS;
        }
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        // SAFETY: caller contract.
        let elements = unsafe { list_elements(list) };
        h.push_servers(elements.iter().map(|e| {
            let mut host = list_element_hostname(e);
            if host.is_empty() {
                host = b"localhost".to_vec();
            }
            let kind = if is_socket_path(&host) {
                MEMCACHED_CONNECTION_UNIX_SOCKET
            } else {
                e.r#type
            };
            (host, e.port, e.weight, kind)
        }));
        MEMCACHED_SUCCESS
    })
}

/// Grows a list by one element (realloc); NULL on failure, leaving `list` valid.
///
/// # Safety
/// `list` is NULL or a server list from this library.
unsafe fn list_append(
    list: *mut memcached_server_st,
    host: &[u8],
    port: u16,
    weight: u32,
) -> *mut memcached_server_st {
    if host.len() >= HOSTNAME_CAPACITY {
        return std::ptr::null_mut();
    }
    // SAFETY: caller contract.
    let count = unsafe { list_elements(list) }.len();
    let size = std::mem::size_of::<memcached_server_st>();
    let Some(bytes) = (count + 1).checked_mul(size) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `list` is NULL or a block from malloc/realloc (caller contract).
    let grown = unsafe { libc::realloc(list as *mut c_void, bytes) } as *mut memcached_server_st;
    if grown.is_null() {
        return std::ptr::null_mut();
    }
    let (port, kind) = if is_socket_path(host) {
        (0, MEMCACHED_CONNECTION_UNIX_SOCKET)
    } else {
        (
            if port == 0 { DEFAULT_PORT } else { port },
            MEMCACHED_CONNECTION_TCP,
        )
    };
    let weight = if weight == 0 { 1 } else { weight };
    // SAFETY: the block now holds count + 1 elements; the new one is initialised here.
    unsafe {
        let element = grown.add(count);
        element.write(std::mem::zeroed());
        init_list_element(&mut *element, host, port, weight, kind);
        (*grown).number_of_hosts = (count + 1) as u32;
    }
    grown
}

/// Appends a server to a list (creating it for NULL) and returns the possibly moved list.
/// NULL host means "localhost". `*error` gets SUCCESS; on failure NULL is returned and `list`
/// is still valid and the caller's.
///
/// # Safety
/// `list` is NULL or a server list from this library; `hostname` is NULL or NUL-terminated;
/// `error` is NULL or writable. Ownership: free with `memcached_server_list_free`.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_list_append_with_weight(
    list: memcached_server_list_st,
    hostname: *const c_char,
    port: in_port_t,
    weight: u32,
    error: *mut memcached_return_t,
) -> memcached_server_list_st {
    boundary(|| {
        // SAFETY: caller contract.
        let host = unsafe { c_str(hostname) }.unwrap_or(b"localhost");
        // SAFETY: caller contract.
        let grown = unsafe { list_append(list, host, port, weight) };
        if !grown.is_null() {
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_SUCCESS) };
        }
        grown
    })
}

/// As `memcached_server_list_append_with_weight` with weight 1.
///
/// # Safety
/// As `memcached_server_list_append_with_weight`.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_list_append(
    list: memcached_server_list_st,
    hostname: *const c_char,
    port: in_port_t,
    error: *mut memcached_return_t,
) -> memcached_server_list_st {
    // SAFETY: forwarded caller contract.
    unsafe { memcached_server_list_append_with_weight(list, hostname, port, 0, error) }
}

/// Returns the number of entries (0 for NULL).
///
/// # Safety
/// `list` is NULL or a server list from this library.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_list_count(list: *const memcached_server_st) -> u32 {
    boundary(|| {
        if list.is_null() {
            0
        } else {
            // SAFETY: `list` is non-null here and, by the caller contract, a valid server list.
            unsafe { (*list).number_of_hosts }
        }
    })
}

/// Frees a server list (NULL ignored).
///
/// # Safety
/// `list` is NULL or a server list from this library, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_list_free(list: memcached_server_list_st) {
    // SAFETY: the list is one malloc/realloc block (caller contract).
    boundary(|| unsafe { libc::free(list as *mut c_void) })
}

/// Frees a server list, or a single element (libmemcached keeps both spellings).
///
/// # Safety
/// As `memcached_server_list_free`.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_free(ptr: *mut memcached_server_st) {
    // SAFETY: forwarded caller contract.
    unsafe { memcached_server_list_free(ptr) }
}

/// Clears the error records of a list element; list elements carry none in this library.
///
/// # Safety
/// No pointer is dereferenced.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_error_reset(ptr: *mut memcached_server_st) {
    let _ = ptr;
}

/// Parses "host[:port[:weight]], ..." into a new list; NULL for NULL or empty input, a number
/// out of range, an entry over 8196 bytes or a host name over 1024 bytes.
///
/// # Safety
/// `server_strings` is NULL or NUL-terminated. Ownership: free with `memcached_server_list_free`.
#[no_mangle]
pub unsafe extern "C" fn memcached_servers_parse(
    server_strings: *const c_char,
) -> memcached_server_list_st {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(input) = (unsafe { c_str(server_strings) }) else {
            return std::ptr::null_mut();
        };
        let Some(entries) = crate::parse::parse_servers(input) else {
            return std::ptr::null_mut();
        };
        if entries.is_empty() {
            return std::ptr::null_mut();
        }
        // One allocation for the whole list: growing it entry by entry is quadratic with
        // allocators that copy on every realloc.
        let size = std::mem::size_of::<memcached_server_st>();
        let Some(bytes) = entries.len().checked_mul(size) else {
            return std::ptr::null_mut();
        };
        // SAFETY: malloc has no preconditions; the result is checked.
        let list = unsafe { libc::malloc(bytes) } as *mut memcached_server_st;
        if list.is_null() {
            return std::ptr::null_mut();
        }
        for (i, entry) in entries.iter().enumerate() {
            let (port, kind) = if is_socket_path(&entry.host) {
                (0, MEMCACHED_CONNECTION_UNIX_SOCKET)
            } else {
                (if entry.port == 0 { DEFAULT_PORT } else { entry.port }, MEMCACHED_CONNECTION_TCP)
            };
            let weight = if entry.weight == 0 { 1 } else { entry.weight };
            // SAFETY: the block holds entries.len() elements; element i is initialised here.
            unsafe {
                let element = list.add(i);
                element.write(std::mem::zeroed());
                init_list_element(&mut *element, &entry.host, port, weight, kind);
            }
        }
        // SAFETY: the list has at least one element (checked above); element 0 holds the count.
        unsafe { (*list).number_of_hosts = entries.len() as u32 };
        list
    })
}

/// Returns the number of servers of a handle (0 for NULL).
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_count(ptr: *const memcached_st) -> u32 {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { handle_of(ptr) }
            .map(|h| h.servers.len() as u32)
            .unwrap_or(0)
    })
}

/// Returns the server at `server_key` (array order), or NULL for a NULL handle or an index out
/// of range (libmemcached does not check the range). Valid until the server list changes.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_instance_by_position(
    ptr: *const memcached_st,
    server_key: u32,
) -> *const memcached_instance_st {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return std::ptr::null();
        };
        h.servers
            .get(server_key as usize)
            .map(|s| &**s as *const memcached_instance_st)
            .unwrap_or(std::ptr::null())
    })
}

/// Returns the server a key maps to, or NULL with `*error` set (NO_SERVERS, BAD_KEY_PROVIDED,
/// INVALID_ARGUMENTS). On success `*error` is left as it was, as libmemcached does.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` is valid for `key_length` bytes; `error` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_by_key(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    error: *mut memcached_return_t,
) -> *const memcached_instance_st {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_INVALID_ARGUMENTS) };
            return std::ptr::null();
        };
        if h.servers.is_empty() {
            let code = h.fail(Error::new(MEMCACHED_NO_SERVERS, "no servers defined"), None);
            // SAFETY: caller contract.
            unsafe { write_out(error, code) };
            return std::ptr::null();
        }
        // SAFETY: caller contract.
        let key = unsafe { bytes(key, key_length) };
        let checked = key.ok_or(MEMCACHED_BAD_KEY_PROVIDED).and_then(|k| {
            crate::protocol::key::check_key(
                k,
                h.namespace_bytes(),
                !h.behaviors.binary,
                h.behaviors.verify_key,
            )
            .map(|()| k)
        });
        match checked {
            Ok(key) => {
                let index = h.pick_server_no_rebuild(key);
                &*h.servers[index] as *const memcached_instance_st
            }
            Err(code) => {
                let code = h.fail(Error::new(code, "invalid key"), None);
                // SAFETY: caller contract.
                unsafe { write_out(error, code) };
                std::ptr::null()
            }
        }
    })
}

/// Calls each of `number_of_callbacks` functions for every server, in array order.
/// Returns SUCCESS, SOME_ERRORS when a callback failed, NO_SERVERS, or INVALID_ARGUMENTS.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `callback` is NULL or an array of that many functions.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_cursor(
    ptr: *const memcached_st,
    callback: *const memcached_server_fn,
    context: *mut c_void,
    number_of_callbacks: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        if h.servers.is_empty() {
            return MEMCACHED_NO_SERVERS;
        }
        if callback.is_null() {
            return MEMCACHED_INVALID_ARGUMENTS;
        }
        // SAFETY: caller contract: an array of number_of_callbacks function pointers.
        let callbacks =
            unsafe { std::slice::from_raw_parts(callback, number_of_callbacks as usize) };
        let servers: Vec<*const memcached_instance_st> =
            h.servers.iter().map(|s| &**s as *const _).collect();
        let mut failed = false;
        for server in servers {
            for f in callbacks.iter().flatten() {
                // SAFETY: user callback with the memcached_server_fn contract.
                let rc = unsafe { f(ptr, server, context) };
                if rc != MEMCACHED_SUCCESS as i32 {
                    failed = true;
                }
            }
        }
        if failed {
            MEMCACHED_SOME_ERRORS
        } else {
            MEMCACHED_SUCCESS
        }
    })
}

/// Returns the last server that failed to connect or was skipped by the retry logic, or NULL.
/// Ownership: the handle's; valid until another server is recorded or the handle is reset.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_get_last_disconnect(
    ptr: *const memcached_st,
) -> *const memcached_instance_st {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return std::ptr::null();
        };
        h.last_disconnect
            .as_deref()
            .map(|s| s as *const memcached_instance_st)
            .unwrap_or(std::ptr::null())
    })
}

/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
unsafe fn instance<'a>(server: *const memcached_instance_st) -> Option<&'a memcached_instance_st> {
    // SAFETY: caller contract.
    unsafe { server.as_ref() }
}

/// Returns the host name or socket path (NULL for NULL). Ownership: the handle's.
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_name(
    server: *const memcached_instance_st,
) -> *const c_char {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { instance(server) }
            .map(|s| s.hostname.as_ptr())
            .unwrap_or(std::ptr::null())
    })
}

/// Returns the port (0 for NULL).
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_port(server: *const memcached_instance_st) -> in_port_t {
    // SAFETY: caller contract.
    boundary(|| unsafe { instance(server) }.map(|s| s.port).unwrap_or(0))
}

/// Returns the local port of the open TCP connection (0 if none or a Unix socket).
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_srcport(
    server: *const memcached_instance_st,
) -> in_port_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(s) = (unsafe { instance(server) }) else {
            return 0;
        };
        if s.is_unix_socket() {
            return 0;
        }
        s.conn.as_ref().map(|c| c.local_port()).unwrap_or(0)
    })
}

/// Returns "TCP", "UDP", "SOCKET", or "UNKNOWN" for NULL. Static string.
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_type(
    server: *const memcached_instance_st,
) -> *const c_char {
    boundary(|| {
        // SAFETY: caller contract.
        let text = match unsafe { instance(server) } {
            None => c"UNKNOWN",
            Some(s) if s.is_unix_socket() => c"SOCKET",
            Some(s) if s.kind == MEMCACHED_CONNECTION_UDP => c"UDP",
            Some(_) => c"TCP",
        };
        text.as_ptr()
    })
}

/// Returns the server's major version from its last version reply (255 when unknown or NULL).
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_major_version(
    server: *const memcached_instance_st,
) -> u8 {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { instance(server) }
            .map(|s| s.major_version)
            .unwrap_or(u8::MAX)
    })
}

/// Returns the server's minor version (255 when unknown or NULL).
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_minor_version(
    server: *const memcached_instance_st,
) -> u8 {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { instance(server) }
            .map(|s| s.minor_version)
            .unwrap_or(u8::MAX)
    })
}

/// Returns the server's micro version (255 when unknown or NULL).
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_micro_version(
    server: *const memcached_instance_st,
) -> u8 {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { instance(server) }
            .map(|s| s.micro_version)
            .unwrap_or(u8::MAX)
    })
}

/// Returns how many replies the server still owes to the current mget (0 or 1 batches).
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_response_count(
    server: *const memcached_instance_st,
) -> u32 {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { instance(server) }
            .map(|s| s.fetch_terminators)
            .unwrap_or(0)
    })
}

/// Overwrites the server's retry time (seconds since the epoch).
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle that is not in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn memcached_instance_next_retry(
    server: *const memcached_instance_st,
    absolute_time: libc::time_t,
) {
    boundary(|| {
        if !server.is_null() {
            // SAFETY: caller contract: the instance is live and not borrowed elsewhere; the
            // library hands out const pointers to instances it owns mutably.
            unsafe { (*(server as *mut memcached_instance_st)).next_retry = absolute_time };
        }
    })
}
