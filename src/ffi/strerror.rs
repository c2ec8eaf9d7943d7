//! `memcached_strerror`.

use libc::c_char;

use super::types::{memcached_return_raw, memcached_st};

/// Returns the fixed text for a result code ("INVALID memcached_return_t" outside 0..48).
/// `ptr` is ignored and may be NULL. The string is static and never NULL.
#[no_mangle]
pub extern "C" fn memcached_strerror(
    ptr: *const memcached_st,
    rc: memcached_return_raw,
) -> *const c_char {
    let _ = ptr;
    crate::error::strerror_bytes(rc).as_ptr() as *const c_char
}
