//! Arithmetic: `memcached_increment`, `memcached_decrement` and their `_with_initial` and
//! `_by_key` forms.

use libc::{c_char, size_t, time_t};

use super::types::memcached_return_t::*;
use super::types::{memcached_return_t, memcached_st};
use super::{boundary, bytes, handle_of, write_out};
use crate::error::Error;

/// # Safety
/// `ptr` is NULL or a valid handle; keys are NULL or valid for their lengths; `value` is NULL
/// or writable.
#[allow(clippy::too_many_arguments)]
unsafe fn arithmetic(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    increment: bool,
    offset: u64,
    initial: Option<(u64, time_t)>,
    value: *mut u64,
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
    let (code, number) = crate::ops::arithmetic(h, group, key, increment, offset, initial);
    if let Some(number) = number {
        // SAFETY: caller contract.
        unsafe { write_out(value, number) };
    }
    code
}

/// Adds `offset` to a stored decimal number. `*value` (may be NULL) gets the new value, or
/// UINT64_MAX on failure (a rejected key leaves it unchanged, as in libmemcached). Returns SUCCESS, NOTFOUND (the key is not created), CLIENT_ERROR
/// (text) or UNKNOWN_READ_FAILURE (binary) for a non-numeric value, and the common errors.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` is valid for `key_length`; `value` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn memcached_increment(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    offset: u32,
    value: *mut u64,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe {
        arithmetic(
            ptr,
            std::ptr::null(),
            0,
            key,
            key_length,
            true,
            offset as u64,
            None,
            value,
        )
    })
}

/// Subtracts `offset` from a stored number (stopping at 0). As `memcached_increment`.
///
/// # Safety
/// As `memcached_increment`.
#[no_mangle]
pub unsafe extern "C" fn memcached_decrement(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    offset: u32,
    value: *mut u64,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe {
        arithmetic(
            ptr,
            std::ptr::null(),
            0,
            key,
            key_length,
            false,
            offset as u64,
            None,
            value,
        )
    })
}

/// As `memcached_increment`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_increment`; `group_key` is NULL or valid for `group_key_length`.
#[no_mangle]
pub unsafe extern "C" fn memcached_increment_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    offset: u64,
    value: *mut u64,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe {
        arithmetic(
            ptr,
            group_key,
            group_key_length,
            key,
            key_length,
            true,
            offset,
            None,
            value,
        )
    })
}

/// As `memcached_decrement`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_increment_by_key`.
#[no_mangle]
pub unsafe extern "C" fn memcached_decrement_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    offset: u64,
    value: *mut u64,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe {
        arithmetic(
            ptr,
            group_key,
            group_key_length,
            key,
            key_length,
            false,
            offset,
            None,
            value,
        )
    })
}

/// Increments, creating a missing key with `initial` (binary protocol only; the text protocol
/// gives INVALID_ARGUMENTS and sends nothing).
///
/// # Safety
/// As `memcached_increment`.
#[no_mangle]
pub unsafe extern "C" fn memcached_increment_with_initial(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    offset: u64,
    initial: u64,
    expiration: time_t,
    value: *mut u64,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            arithmetic(
                ptr,
                std::ptr::null(),
                0,
                key,
                key_length,
                true,
                offset,
                Some((initial, expiration)),
                value,
            )
        }
    })
}

/// Decrements, creating a missing key with `initial` (binary protocol only).
///
/// # Safety
/// As `memcached_increment`.
#[no_mangle]
pub unsafe extern "C" fn memcached_decrement_with_initial(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    offset: u64,
    initial: u64,
    expiration: time_t,
    value: *mut u64,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            arithmetic(
                ptr,
                std::ptr::null(),
                0,
                key,
                key_length,
                false,
                offset,
                Some((initial, expiration)),
                value,
            )
        }
    })
}

/// As `memcached_increment_with_initial`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_increment_by_key`.
#[no_mangle]
pub unsafe extern "C" fn memcached_increment_with_initial_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    offset: u64,
    initial: u64,
    expiration: time_t,
    value: *mut u64,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            arithmetic(
                ptr,
                group_key,
                group_key_length,
                key,
                key_length,
                true,
                offset,
                Some((initial, expiration)),
                value,
            )
        }
    })
}

/// As `memcached_decrement_with_initial`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_increment_by_key`.
#[no_mangle]
pub unsafe extern "C" fn memcached_decrement_with_initial_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    offset: u64,
    initial: u64,
    expiration: time_t,
    value: *mut u64,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            arithmetic(
                ptr,
                group_key,
                group_key_length,
                key,
                key_length,
                false,
                offset,
                Some((initial, expiration)),
                value,
            )
        }
    })
}
