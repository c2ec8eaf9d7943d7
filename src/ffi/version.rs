//! `memcached_lib_version`, `memcached_version`, `memcached_verbosity`, `memcached_flush`,
//! `memcached_flush_buffers`.

use libc::c_char;

use super::types::memcached_return_t::*;
use super::types::{memcached_return_t, memcached_st};
use super::{boundary, handle_of};

/// Returns "1.1.4", the same string as LIBMEMCACHED_VERSION_STRING. Static.
#[no_mangle]
pub extern "C" fn memcached_lib_version() -> *const c_char {
    c"1.1.4".as_ptr()
}

/// Asks every server whose version is unknown for its version.
/// Returns SUCCESS, SOME_ERRORS, NO_SERVERS, or INVALID_ARGUMENTS for NULL.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_version(ptr: *mut memcached_st) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => crate::ops::version(h),
            None => MEMCACHED_INVALID_ARGUMENTS,
        }
    })
}

/// Sends `verbosity <level>` to every server.
/// Returns SUCCESS, SOME_ERRORS, NO_SERVERS, or INVALID_ARGUMENTS for NULL.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_verbosity(
    ptr: *mut memcached_st,
    verbosity: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => crate::ops::verbosity(h, verbosity),
            None => MEMCACHED_INVALID_ARGUMENTS,
        }
    })
}

/// Empties every server (after `expiration` seconds when non-zero).
/// Returns SUCCESS, SOME_ERRORS, NO_SERVERS, or INVALID_ARGUMENTS for NULL.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_flush(
    ptr: *mut memcached_st,
    expiration: libc::time_t,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => crate::ops::flush(h, expiration),
            None => MEMCACHED_INVALID_ARGUMENTS,
        }
    })
}

/// Sends the commands queued with BUFFER_REQUESTS.
/// Returns SUCCESS, SOME_ERRORS, or INVALID_ARGUMENTS for NULL.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_flush_buffers(ptr: *mut memcached_st) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => crate::ops::flush_buffers(h),
            None => MEMCACHED_INVALID_ARGUMENTS,
        }
    })
}
