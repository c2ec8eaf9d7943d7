//! The result API: `memcached_result_create`, `_free`, `_reset` and the accessors.

use libc::{c_char, c_void, size_t, time_t};

use super::types::memcached_return_t::*;
use super::types::{memcached_result_st, memcached_return_t, memcached_st};
use super::{boundary, bytes};
use crate::result::{self, RESULT_ALLOCATED, RESULT_INITIALIZED};

/// Initialises a result in `result`'s storage, or (for NULL) in a new allocation.
/// `ptr` (may be NULL) supplies the allocators of the value buffer.
/// Returns the result, or NULL when memory ran out.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `result` is NULL or writable storage of
/// `sizeof(memcached_result_st)`. Ownership: release with `memcached_result_free`.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_create(
    ptr: *const memcached_st,
    result: *mut memcached_result_st,
) -> *mut memcached_result_st {
    boundary(|| {
        let (r, allocated) = if result.is_null() {
            // SAFETY: calloc has no preconditions; the result is checked.
            let fresh = unsafe { libc::calloc(1, std::mem::size_of::<memcached_result_st>()) }
                as *mut memcached_result_st;
            if fresh.is_null() {
                return std::ptr::null_mut();
            }
            (fresh, true)
        } else {
            (result, false)
        };
        // SAFETY: `r` is writable storage of the right size (caller contract or calloc above).
        result::init(unsafe { &mut *r }, ptr as *mut memcached_st, allocated);
        r
    })
}

/// Frees the value buffer, and the result itself when the library allocated it. NULL ignored.
///
/// # Safety
/// `result` is NULL or initialised by `memcached_result_create`, not used afterwards when the
/// library allocated it.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_free(result: *mut memcached_result_st) {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(r) = (unsafe { result.as_mut() }) else {
            return;
        };
        if r.options & RESULT_INITIALIZED == 0 {
            return;
        }
        result::free_value(r);
        r.options &= !RESULT_INITIALIZED;
        if r.options & RESULT_ALLOCATED != 0 {
            // SAFETY: allocated with calloc in memcached_result_create.
            unsafe { libc::free(result as *mut c_void) };
        }
    })
}

/// Empties key, value, flags, cas and expiration.
///
/// # Safety
/// `result` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_reset(result: *mut memcached_result_st) {
    boundary(|| {
        // SAFETY: caller contract.
        if let Some(r) = unsafe { result.as_mut() } {
            result::reset(r)
        }
    })
}

/// Returns the key (NULL when empty). Not NUL-terminated by contract; use the length.
///
/// # Safety
/// `result` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_key_value(
    result: *const memcached_result_st,
) -> *const c_char {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { result.as_ref() } {
            Some(r) if r.key_length > 0 => r.item_key.as_ptr(),
            _ => std::ptr::null(),
        }
    })
}

/// Returns the key length (0 for NULL).
///
/// # Safety
/// `result` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_key_length(result: *const memcached_result_st) -> size_t {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { result.as_ref() }
            .map(|r| r.key_length)
            .unwrap_or(0)
    })
}

/// Returns the value bytes (NUL-terminated here, but use the length; NULL when empty).
///
/// # Safety
/// `result` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_value(
    result: *const memcached_result_st,
) -> *const c_char {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { result.as_ref() } {
            Some(r) if result::value_len(r) > 0 => r.value.string,
            _ => std::ptr::null(),
        }
    })
}

/// Returns the value length (0 for NULL).
///
/// # Safety
/// `result` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_length(result: *const memcached_result_st) -> size_t {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { result.as_ref() }
            .map(result::value_len)
            .unwrap_or(0)
    })
}

/// Hands the value buffer to the caller (NUL-terminated; free it with free(3), or the handle's
/// free function) and leaves the result empty. NULL when the value is empty.
///
/// # Safety
/// `result` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_take_value(
    result: *mut memcached_result_st,
) -> *mut c_char {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(r) = (unsafe { result.as_mut() }) else {
            return std::ptr::null_mut();
        };
        if result::value_len(r) == 0 {
            return std::ptr::null_mut();
        }
        let taken = r.value.string;
        r.value.string = std::ptr::null_mut();
        r.value.end = std::ptr::null_mut();
        r.value.current_size = 0;
        taken
    })
}

/// Returns the item flags (0 for NULL).
///
/// # Safety
/// `result` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_flags(result: *const memcached_result_st) -> u32 {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { result.as_ref() }
            .map(|r| r.item_flags)
            .unwrap_or(0)
    })
}

/// Returns the CAS unique (0 for NULL).
///
/// # Safety
/// `result` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_cas(result: *const memcached_result_st) -> u64 {
    // SAFETY: caller contract.
    boundary(|| unsafe { result.as_ref() }.map(|r| r.item_cas).unwrap_or(0))
}

/// Appends bytes to the result's value. Returns SUCCESS, MEMORY_ALLOCATION_FAILURE, or
/// INVALID_ARGUMENTS for NULL.
///
/// # Safety
/// `ptr` is NULL or an initialised result; `value` is NULL or valid for `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_set_value(
    ptr: *mut memcached_result_st,
    value: *const c_char,
    length: size_t,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let (Some(r), Some(data)) = (unsafe { ptr.as_mut() }, unsafe { bytes(value, length) })
        else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        if result::append_value(r, data) {
            MEMCACHED_SUCCESS
        } else {
            MEMCACHED_MEMORY_ALLOCATION_FAILURE
        }
    })
}

/// Sets the item flags.
///
/// # Safety
/// `self_` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_set_flags(self_: *mut memcached_result_st, flags: u32) {
    boundary(|| {
        // SAFETY: caller contract.
        if let Some(r) = unsafe { self_.as_mut() } {
            r.item_flags = flags
        }
    })
}

/// Sets the expiration.
///
/// # Safety
/// `self_` is NULL or an initialised result.
#[no_mangle]
pub unsafe extern "C" fn memcached_result_set_expiration(
    self_: *mut memcached_result_st,
    expiration: time_t,
) {
    boundary(|| {
        // SAFETY: caller contract.
        if let Some(r) = unsafe { self_.as_mut() } {
            r.item_expiration = expiration
        }
    })
}
