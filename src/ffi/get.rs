//! Single-key retrieval: `memcached_get`, `memcached_get_by_key`.

use libc::{c_char, size_t};

use super::types::memcached_return_t::*;
use super::types::{memcached_return_t, memcached_st};
use super::{boundary, bytes, handle_of, write_out};
use crate::error::Error;
use crate::handle::Handle;
use crate::ops;

/// Calls the GET_FAILURE callback for a missing key; when it supplies a value, stores it and
/// returns a copy for the caller (NULL value for an empty one).
fn read_through(
    h: &mut Handle,
    group: Option<&[u8]>,
    key: &[u8],
) -> Option<(memcached_return_t, ops::Found)> {
    let callback = h.callbacks.get_failure?;
    let mut r = crate::result::new_result(h.owner, false);
    // SAFETY: user callback with the memcached_trigger_key_fn contract; key and result are
    // valid for the call.
    let rc = unsafe { callback(h.owner, key.as_ptr() as *const c_char, key.len(), &mut *r) };
    let accepted = rc == MEMCACHED_SUCCESS as i32 || rc == MEMCACHED_BUFFERED as i32;
    let outcome = if accepted {
        let value = crate::result::value(&r).to_vec();
        let flags = r.item_flags;
        let stored = ops::store(h, ops::Verb::Set, group, key, &value, 0, flags, 0);
        let memory = super::memory_of_handle(h);
        let copy = if value.is_empty() {
            std::ptr::null_mut()
        } else {
            memory.copy_with_nul(&value)
        };
        let _ = stored;
        Some((
            MEMCACHED_SUCCESS,
            ops::Found {
                value: copy,
                length: value.len(),
                flags,
                cas: 0,
            },
        ))
    } else {
        None
    };
    crate::result::free_value(&mut r);
    outcome
}

/// # Safety
/// As `memcached_get_by_key`.
#[allow(clippy::too_many_arguments)]
unsafe fn get(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    value_length: *mut size_t,
    flags: *mut u32,
    error: *mut memcached_return_t,
    by_key: bool,
) -> *mut c_char {
    // SAFETY: caller contract for the out-pointers.
    unsafe { write_out(value_length, 0) };
    // SAFETY: caller contract.
    let Some(h) = (unsafe { handle_of(ptr) }) else {
        // SAFETY: caller contract.
        unsafe { write_out(error, MEMCACHED_INVALID_ARGUMENTS) };
        return std::ptr::null_mut();
    };
    // SAFETY: caller contract.
    let Some(key) = (unsafe { bytes(key, key_length) }) else {
        h.begin();
        let code = h.fail(
            Error::new(MEMCACHED_BAD_KEY_PROVIDED, "the key pointer is NULL"),
            None,
        );
        // SAFETY: caller contract.
        unsafe { write_out(error, code) };
        return std::ptr::null_mut();
    };
    let group = if by_key {
        // SAFETY: caller contract.
        unsafe { bytes(group_key, group_key_length) }.filter(|g| !g.is_empty())
    } else {
        None
    };
    let (mut code, mut found) = ops::get(h, group, key);
    if code == MEMCACHED_NOTFOUND {
        if let Some((rc, value)) = read_through(h, group, key) {
            code = rc;
            found = Some(value);
        }
    }
    // SAFETY: caller contract.
    unsafe { write_out(error, code) };
    match found {
        Some(found) => {
            // SAFETY: caller contract.
            unsafe {
                write_out(value_length, found.length);
                write_out(flags, found.flags);
            }
            found.value
        }
        None => std::ptr::null_mut(),
    }
}

/// Fetches one value.
///
/// Returns a buffer of `*value_length` bytes plus a NUL, from the handle's allocator (default
/// malloc): the caller frees it with free(3). NULL with `*error` NOTFOUND for a miss, NULL
/// with SUCCESS for an empty stored value (as libmemcached), NULL with an error code otherwise
/// (BAD_KEY_PROVIDED, NO_SERVERS, a connection error, INVALID_ARGUMENTS for a NULL handle).
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` is NULL or valid for `key_length` bytes; the three
/// out-pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memcached_get(
    ptr: *mut memcached_st,
    key: *const c_char,
    key_length: size_t,
    value_length: *mut size_t,
    flags: *mut u32,
    error: *mut memcached_return_t,
) -> *mut c_char {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            get(
                ptr,
                std::ptr::null(),
                0,
                key,
                key_length,
                value_length,
                flags,
                error,
                false,
            )
        }
    })
}

/// As `memcached_get`, choosing the server by `group_key`.
///
/// # Safety
/// As `memcached_get`; `group_key` is NULL or valid for `group_key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_get_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    key: *const c_char,
    key_length: size_t,
    value_length: *mut size_t,
    flags: *mut u32,
    error: *mut memcached_return_t,
) -> *mut c_char {
    boundary(|| {
        // SAFETY: forwarded caller contract.
        unsafe {
            get(
                ptr,
                group_key,
                group_key_length,
                key,
                key_length,
                value_length,
                flags,
                error,
                true,
            )
        }
    })
}
