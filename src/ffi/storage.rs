//! Storage: `memcached_set`, `add`, `replace`, `append`, `prepend`, `cas` and their `_by_key`
//! forms.

use libc::{c_char, size_t, time_t};

use super::types::memcached_return_t::*;
use super::types::{memcached_return_t, memcached_st};
use super::{boundary, bytes, handle_of};
use crate::error::Error;
use crate::ops::{self, Verb};

/// Values larger than this are refused before anything is read from the caller's buffer;
/// memcached's item size limit cannot exceed 1 GiB.
pub(crate) const MAX_VALUE_LENGTH: usize = 1 << 30;

/// # Safety
/// `ptr` is NULL or a valid handle; each buffer is NULL or valid for its length.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn store(
    ptr: *mut memcached_st,
    verb: Verb,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
    cas: u64,
    by_key: bool,
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
    let group = if by_key {
        // SAFETY: caller contract.
        match unsafe { bytes(group_key, group_key_length) } {
            Some(group) if !group.is_empty() => Some(group),
            _ => None,
        }
    } else {
        None
    };
    if value_length > MAX_VALUE_LENGTH {
        h.begin();
        let error = Error::new(
            MEMCACHED_E2BIG,
            format!("the value is {value_length} bytes long, more than memcached can store"),
        );
        return h.fail(error, None);
    }
    // SAFETY: caller contract.
    let Some(value) = (unsafe { bytes(value, value_length) }) else {
        h.begin();
        return h.fail(
            Error::new(MEMCACHED_INVALID_ARGUMENTS, "the value pointer is NULL"),
            None,
        );
    };
    ops::store(h, verb, group, key, value, expiration, flags, cas)
}

/// Stores a value, replacing any existing one.
///
/// Returns SUCCESS; NOTSTORED, DATA_EXISTS or NOTFOUND as the server decides (they differ by
/// protocol, as in libmemcached); E2BIG; BUFFERED with BUFFER_REQUESTS; BAD_KEY_PROVIDED;
/// NO_SERVERS; a connection error; INVALID_ARGUMENTS for a NULL handle or value.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` and `value` are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn memcached_set(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Set,
                std::ptr::null(),
                0,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                false,
            )
        }
    })
}

/// As `memcached_set`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_set`; `group_key` is NULL or valid for `group_key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_set_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Set,
                group_key,
                group_key_length,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                true,
            )
        }
    })
}

/// Stores a value only if the key is missing.
///
/// Returns SUCCESS; NOTSTORED, DATA_EXISTS or NOTFOUND as the server decides (they differ by
/// protocol, as in libmemcached); E2BIG; BUFFERED with BUFFER_REQUESTS; BAD_KEY_PROVIDED;
/// NO_SERVERS; a connection error; INVALID_ARGUMENTS for a NULL handle or value.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` and `value` are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn memcached_add(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Add,
                std::ptr::null(),
                0,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                false,
            )
        }
    })
}

/// As `memcached_add`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_add`; `group_key` is NULL or valid for `group_key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_add_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Add,
                group_key,
                group_key_length,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                true,
            )
        }
    })
}

/// Stores a value only if the key exists.
///
/// Returns SUCCESS; NOTSTORED, DATA_EXISTS or NOTFOUND as the server decides (they differ by
/// protocol, as in libmemcached); E2BIG; BUFFERED with BUFFER_REQUESTS; BAD_KEY_PROVIDED;
/// NO_SERVERS; a connection error; INVALID_ARGUMENTS for a NULL handle or value.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` and `value` are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn memcached_replace(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Replace,
                std::ptr::null(),
                0,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                false,
            )
        }
    })
}

/// As `memcached_replace`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_replace`; `group_key` is NULL or valid for `group_key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_replace_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Replace,
                group_key,
                group_key_length,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                true,
            )
        }
    })
}

/// Appends to an existing value.
///
/// Returns SUCCESS; NOTSTORED, DATA_EXISTS or NOTFOUND as the server decides (they differ by
/// protocol, as in libmemcached); E2BIG; BUFFERED with BUFFER_REQUESTS; BAD_KEY_PROVIDED;
/// NO_SERVERS; a connection error; INVALID_ARGUMENTS for a NULL handle or value.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` and `value` are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn memcached_append(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Append,
                std::ptr::null(),
                0,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                false,
            )
        }
    })
}

/// As `memcached_append`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_append`; `group_key` is NULL or valid for `group_key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_append_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Append,
                group_key,
                group_key_length,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                true,
            )
        }
    })
}

/// Prepends to an existing value.
///
/// Returns SUCCESS; NOTSTORED, DATA_EXISTS or NOTFOUND as the server decides (they differ by
/// protocol, as in libmemcached); E2BIG; BUFFERED with BUFFER_REQUESTS; BAD_KEY_PROVIDED;
/// NO_SERVERS; a connection error; INVALID_ARGUMENTS for a NULL handle or value.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` and `value` are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn memcached_prepend(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Prepend,
                std::ptr::null(),
                0,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                false,
            )
        }
    })
}

/// As `memcached_prepend`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_prepend`; `group_key` is NULL or valid for `group_key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_prepend_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Prepend,
                group_key,
                group_key_length,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                0,
                true,
            )
        }
    })
}

/// Stores a value only if the item's CAS unique is still `cas`. Returns SUCCESS, DATA_EXISTS
/// (changed since), NOTFOUND (missing), or the errors of `memcached_set`.
///
/// # Safety
/// As `memcached_set`.
#[no_mangle]
pub unsafe extern "C" fn memcached_cas(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
    cas: u64,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Cas,
                std::ptr::null(),
                0,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                cas,
                false,
            )
        }
    })
}

/// As `memcached_cas`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_set_by_key`.
#[no_mangle]
pub unsafe extern "C" fn memcached_cas_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    value: *const c_char,
    value_length: size_t,
    expiration: time_t,
    flags: u32,
    cas: u64,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            store(
                ptr,
                Verb::Cas,
                group_key,
                group_key_length,
                key,
                key_length,
                value,
                value_length,
                expiration,
                flags,
                cas,
                true,
            )
        }
    })
}
