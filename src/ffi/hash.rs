//! `memcached_generate_hash_value`, `memcached_generate_hash`, `memcached_autoeject`.

use libc::{c_char, size_t};

use super::types::{memcached_hash_raw, memcached_st};
use super::{boundary, bytes, handle_of};

/// Returns the raw 32-bit hash of a key with one algorithm; 1 for HSIEH (not offered, as in
/// Debian's build), CUSTOM and unknown values, as libmemcached returns.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_generate_hash_value(
    key: *const c_char,
    key_length: size_t,
    hash_algorithm: memcached_hash_raw,
) -> u32 {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(key) = (unsafe { bytes(key, key_length) }) else {
            return 1;
        };
        let Ok(algorithm) = u32::try_from(hash_algorithm) else {
            return 1;
        };
        crate::dist::hash::hash(algorithm, key).unwrap_or(1)
    })
}

/// Returns the index of the server `key` maps to; UINT32_MAX for a NULL handle or key, 0 for a
/// handle without servers (where libmemcached crashes).
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_generate_hash(
    ptr: *const memcached_st,
    key: *const c_char,
    key_length: size_t,
) -> u32 {
    boundary(|| {
        // SAFETY: caller contract.
        let (Some(h), Some(key)) = (unsafe { handle_of(ptr) }, unsafe { bytes(key, key_length) })
        else {
            return u32::MAX;
        };
        h.pick_server_no_rebuild(key) as u32
    })
}

/// Performs the pending auto-eject continuum rebuild, if one is due.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_autoeject(ptr: *mut memcached_st) {
    boundary(|| {
        // SAFETY: caller contract.
        if let Some(h) = unsafe { handle_of(ptr) } {
            if h.behaviors.auto_eject
                && h.next_rebuild
                    .is_some_and(|at| crate::handle::now_seconds() >= at)
            {
                h.rebuild();
            }
        }
    })
}
