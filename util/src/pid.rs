//! `libmemcached_util_getpid` and `libmemcached_util_getpid2` (`libmemcachedutil-1.0/pid.h`).

use std::ffi::c_char;

use crate::boundary::{guard, write_out};
use crate::handle::OwnedHandle;
use crate::sys::{self, in_port_t, memcached_return_t, pid_t};

/// Asks one memcached server for its process id (the `pid` line of `stats`).
///
/// A temporary handle with the one server is created, asked for statistics and freed.
///
/// # Returns
/// The server's pid, or -1. `*ret` (when `ret` is not NULL) receives `MEMCACHED_SUCCESS`, or
/// the reason for -1: `MEMCACHED_UNKNOWN_STAT_KEY` when the reply had no pid,
/// `MEMCACHED_CONNECTION_FAILURE`, `MEMCACHED_HOST_LOOKUP_FAILURE`,
/// `MEMCACHED_MEMORY_ALLOCATION_FAILURE`, or `MEMCACHED_FAILURE` after an internal error.
///
/// # Safety
/// - `hostname` is NULL (meaning "localhost") or a NUL-terminated string.
/// - `ret` is NULL or valid for writing one `memcached_return_t`.
#[no_mangle]
pub extern "C" fn libmemcached_util_getpid(
    hostname: *const c_char,
    port: in_port_t,
    ret: *mut memcached_return_t,
) -> pid_t {
    let (pid, rc) = guard((-1, sys::MEMCACHED_FAILURE), || {
        // SAFETY: `hostname` per this function's contract.
        unsafe { query_pid(hostname, port, None) }
    });
    // SAFETY: `ret` per this function's contract.
    unsafe { write_out(ret, rc) };
    pid
}

/// Like `libmemcached_util_getpid`, authenticating with SASL first when `username` is given.
///
/// With `username` NULL this is exactly `libmemcached_util_getpid`.
///
/// # Returns
/// The server's pid, or -1 with the reason in `*ret` as for `libmemcached_util_getpid`, plus
/// the codes of `memcached_set_sasl_auth_data` (for example `MEMCACHED_INVALID_ARGUMENTS` for
/// a NULL password) and `MEMCACHED_AUTH_FAILURE`.
///
/// # Safety
/// - `hostname` is NULL (meaning "localhost") or a NUL-terminated string.
/// - `username` and `password` are each NULL or a NUL-terminated string.
/// - `ret` is NULL or valid for writing one `memcached_return_t`.
#[no_mangle]
pub extern "C" fn libmemcached_util_getpid2(
    hostname: *const c_char,
    port: in_port_t,
    username: *const c_char,
    password: *const c_char,
    ret: *mut memcached_return_t,
) -> pid_t {
    let credentials = (!username.is_null()).then_some((username, password));
    let (pid, rc) = guard((-1, sys::MEMCACHED_FAILURE), || {
        // SAFETY: the pointers per this function's contract.
        unsafe { query_pid(hostname, port, credentials) }
    });
    // SAFETY: `ret` per this function's contract.
    unsafe { write_out(ret, rc) };
    pid
}

/// Queries `hostname:port` for its pid with one `stats` request on a temporary handle.
///
/// # Safety
/// `hostname` and the credential strings are NULL or NUL-terminated.
unsafe fn query_pid(
    hostname: *const c_char,
    port: in_port_t,
    credentials: Option<(*const c_char, *const c_char)>,
) -> (pid_t, memcached_return_t) {
    let Some(handle) = OwnedHandle::create() else {
        return (-1, sys::MEMCACHED_MEMORY_ALLOCATION_FAILURE);
    };

    // SAFETY: `hostname` per this function's contract.
    let mut rc = unsafe { handle.add_server(hostname, port) };
    if let (true, Some((username, password))) = (sys::succeeded(rc), credentials) {
        // SAFETY: the credential strings per this function's contract.
        rc = unsafe { handle.set_credentials(username, password) };
    }
    if !sys::succeeded(rc) {
        return (-1, rc);
    }

    match handle.first_server_pid() {
        Ok(pid) => (pid, sys::MEMCACHED_SUCCESS),
        Err(rc) => (-1, handle.explain_some_errors(rc)),
    }
}
