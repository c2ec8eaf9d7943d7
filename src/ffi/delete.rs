//! `memcached_delete`, `memcached_exist`, `memcached_touch` and their `_by_key` forms.

use libc::{c_char, size_t, time_t};

use super::types::memcached_return_t::*;
use super::types::{memcached_return_t, memcached_st};
use super::{boundary, bytes, handle_of};
use crate::error::Error;
use crate::handle::Handle;

type KeyedOp<'k> = &'k mut dyn FnMut(&mut Handle, Option<&[u8]>, &[u8]) -> memcached_return_t;

/// # Safety
/// `ptr` is NULL or a valid handle; keys are NULL or valid for their lengths.
unsafe fn keyed(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    op: KeyedOp<'_>,
) -> memcached_return_t {
    // SAFETY: caller contract.
    let Some(h) = (unsafe { handle_of(ptr) }) else {
        return MEMCACHED_INVALID_ARGUMENTS;
    };
    // SAFETY: caller contract.
    let Some(key) = (unsafe { bytes(key, key_length) }) else {
        h.begin();
        return h.fail(
            Error::new(MEMCACHED_BAD_KEY_PROVIDED, "the key pointer is NULL"),
            None,
        );
    };
    // SAFETY: caller contract.
    let group = unsafe { bytes(group_key, group_key_length) }.filter(|g| !g.is_empty());
    op(h, group, key)
}

/// Deletes a key. `expiration` must be 0 (memcached has no delayed delete): otherwise
/// INVALID_ARGUMENTS and nothing is sent. Returns SUCCESS, NOTFOUND, BUFFERED with
/// BUFFER_REQUESTS, and the common errors.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` is NULL or valid for `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_delete(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    expiration: time_t,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            keyed(ptr, std::ptr::null(), 0, key, key_length, &mut |h, g, k| {
                crate::ops::delete(h, g, k, expiration)
            })
        }
    })
}

/// As `memcached_delete`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_delete`; `group_key` is NULL or valid for `group_key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_delete_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    expiration: time_t,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            keyed(
                ptr,
                group_key,
                group_key_length,
                key,
                key_length,
                &mut |h, g, k| crate::ops::delete(h, g, k, expiration),
            )
        }
    })
}

/// Checks whether a key exists without fetching it. Returns SUCCESS (exists), NOTFOUND, and
/// the common errors. Unlike libmemcached the key is validated first.
///
/// # Safety
/// As `memcached_delete`.
#[no_mangle]
pub unsafe extern "C" fn memcached_exist(
    memc: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe {
        keyed(
            memc,
            std::ptr::null(),
            0,
            key,
            key_length,
            &mut crate::ops::exist,
        )
    })
}

/// As `memcached_exist`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_delete_by_key`.
#[no_mangle]
pub unsafe extern "C" fn memcached_exist_by_key(
    memc: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe {
        keyed(
            memc,
            group_key,
            group_key_length,
            key,
            key_length,
            &mut crate::ops::exist,
        )
    })
}

/// Sets a new expiration on a key. Returns SUCCESS, NOTFOUND, and the common errors.
///
/// # Safety
/// As `memcached_delete`.
#[no_mangle]
pub unsafe extern "C" fn memcached_touch(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    expiration: time_t,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            keyed(ptr, std::ptr::null(), 0, key, key_length, &mut |h, g, k| {
                crate::ops::touch(h, g, k, expiration)
            })
        }
    })
}

/// As `memcached_touch`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_delete_by_key`.
#[no_mangle]
pub unsafe extern "C" fn memcached_touch_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    expiration: time_t,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            keyed(
                ptr,
                group_key,
                group_key_length,
                key,
                key_length,
                &mut |h, g, k| crate::ops::touch(h, g, k, expiration),
            )
        }
    })
}
