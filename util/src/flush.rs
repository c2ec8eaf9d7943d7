//! `libmemcached_util_flush` (`libmemcachedutil-1.0/flush.h`).

use std::ffi::c_char;

use crate::boundary::{guard, write_out};
use crate::handle::OwnedHandle;
use crate::sys::{self, in_port_t, memcached_return_t};

/// Invalidates every item on one memcached server (`flush_all` with no delay).
///
/// A temporary handle with the one server is created, flushed and freed.
///
/// # Returns
/// true when the server confirmed the flush. `*ret` (when `ret` is not NULL) receives
/// `MEMCACHED_SUCCESS` or the reason for failure, for example `MEMCACHED_CONNECTION_FAILURE`,
/// `MEMCACHED_HOST_LOOKUP_FAILURE`, `MEMCACHED_MEMORY_ALLOCATION_FAILURE`, or
/// `MEMCACHED_FAILURE` after an internal error.
///
/// # Safety
/// - `hostname` is NULL (meaning "localhost") or a NUL-terminated string.
/// - `ret` is NULL or valid for writing one `memcached_return_t`.
#[no_mangle]
pub extern "C" fn libmemcached_util_flush(
    hostname: *const c_char,
    port: in_port_t,
    ret: *mut memcached_return_t,
) -> bool {
    let rc = guard(sys::MEMCACHED_FAILURE, || {
        let Some(handle) = OwnedHandle::create() else {
            return sys::MEMCACHED_MEMORY_ALLOCATION_FAILURE;
        };
        // SAFETY: `hostname` per this function's contract.
        let rc = unsafe { handle.add_server(hostname, port) };
        if sys::succeeded(rc) {
            handle.flush_now()
        } else {
            rc
        }
    });
    // SAFETY: `ret` per this function's contract.
    unsafe { write_out(ret, rc) };
    sys::succeeded(rc)
}
