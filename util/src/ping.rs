//! `libmemcached_util_ping` and `libmemcached_util_ping2` (`libmemcachedutil-1.0/ping.h`).

use std::ffi::c_char;

use crate::boundary::{guard, write_out};
use crate::handle::OwnedHandle;
use crate::sys::{self, in_port_t, memcached_return_t};

/// Checks that a memcached server replies to a version request.
///
/// A temporary handle with the one server is created, asked for the server's version and
/// freed. The ASCII protocol is used.
///
/// Unlike libmemcached 1.1.4, which raises the temporary handle's connect timeout to 400000 ms,
/// this leaves it at the handle default of 4000 ms. So a server that never completes the TCP
/// handshake makes the call fail after about 4 seconds with `MEMCACHED_TIMEOUT`. libmemcached
/// 1.1.4 waits until the kernel gives up instead (134 s and `MEMCACHED_ERRNO` on Linux with
/// the default `tcp_syn_retries` of 6, measured against a listener with a full backlog).
///
/// # Returns
/// true when the server replied. `*ret` (when `ret` is not NULL) receives `MEMCACHED_SUCCESS`,
/// or the reason for failure: `MEMCACHED_CONNECTION_FAILURE` for a refused or unreachable port,
/// `MEMCACHED_HOST_LOOKUP_FAILURE` for a name that does not resolve, `MEMCACHED_TIMEOUT`,
/// `MEMCACHED_MEMORY_ALLOCATION_FAILURE`, or `MEMCACHED_FAILURE` after an internal error.
///
/// # Safety
/// - `hostname` is NULL (meaning "localhost") or a NUL-terminated string.
/// - `ret` is NULL or valid for writing one `memcached_return_t`.
#[no_mangle]
pub extern "C" fn libmemcached_util_ping(
    hostname: *const c_char,
    port: in_port_t,
    ret: *mut memcached_return_t,
) -> bool {
    let rc = guard(sys::MEMCACHED_FAILURE, || {
        // SAFETY: `hostname` per this function's contract.
        unsafe { ping_once(hostname, port, None) }
    });
    // SAFETY: `ret` per this function's contract.
    unsafe { write_out(ret, rc) };
    sys::succeeded(rc)
}

/// Like `libmemcached_util_ping`, authenticating with SASL first when `username` is given.
///
/// With `username` NULL this is exactly `libmemcached_util_ping`. Otherwise the temporary
/// handle gets the credentials through `memcached_set_sasl_auth_data` before the version
/// request. In both cases the connect timeout stays at the handle default of 4000 ms.
///
/// # Returns
/// true when the server replied. `*ret` (when not NULL) receives `MEMCACHED_SUCCESS` or the
/// reason for failure, as for `libmemcached_util_ping`, plus the codes of
/// `memcached_set_sasl_auth_data` (for example `MEMCACHED_INVALID_ARGUMENTS` for a NULL
/// password) and `MEMCACHED_AUTH_FAILURE`.
///
/// # Safety
/// - `hostname` is NULL (meaning "localhost") or a NUL-terminated string.
/// - `username` and `password` are each NULL or a NUL-terminated string.
/// - `ret` is NULL or valid for writing one `memcached_return_t`.
#[no_mangle]
pub extern "C" fn libmemcached_util_ping2(
    hostname: *const c_char,
    port: in_port_t,
    username: *const c_char,
    password: *const c_char,
    ret: *mut memcached_return_t,
) -> bool {
    let credentials = (!username.is_null()).then_some((username, password));
    let rc = guard(sys::MEMCACHED_FAILURE, || {
        // SAFETY: the pointers per this function's contract.
        unsafe { ping_once(hostname, port, credentials) }
    });
    // SAFETY: `ret` per this function's contract.
    unsafe { write_out(ret, rc) };
    sys::succeeded(rc)
}

/// Sends one version request to `hostname:port` on a temporary handle.
///
/// # Safety
/// `hostname` and the credential strings are NULL or NUL-terminated.
unsafe fn ping_once(
    hostname: *const c_char,
    port: in_port_t,
    credentials: Option<(*const c_char, *const c_char)>,
) -> memcached_return_t {
    let Some(handle) = OwnedHandle::create() else {
        return sys::MEMCACHED_MEMORY_ALLOCATION_FAILURE;
    };

    // SAFETY: `hostname` per this function's contract.
    let mut rc = unsafe { handle.add_server(hostname, port) };
    if let (true, Some((username, password))) = (sys::succeeded(rc), credentials) {
        // SAFETY: the credential strings per this function's contract.
        rc = unsafe { handle.set_credentials(username, password) };
    }

    if sys::succeeded(rc) {
        rc = handle.request_versions();
    }
    handle.explain_some_errors(rc)
}
