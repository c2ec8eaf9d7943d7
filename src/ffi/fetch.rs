//! Multi-key retrieval: `memcached_mget*`, `memcached_fetch`, `memcached_fetch_result`,
//! `memcached_fetch_execute`, `memcached_mget_execute*`.

use libc::{c_char, c_void, size_t};

use super::result::memcached_result_create;
use super::types::memcached_return_t::*;
use super::types::*;
use super::{boundary, bytes, handle_of, write_out};
use crate::error::Error;
use crate::handle::Handle;
use crate::{ops, result};

/// # Safety
/// `keys` and `key_length` are NULL or arrays of `count` entries, each key valid for its length.
unsafe fn key_list<'a>(
    keys: *const *const c_char,
    key_length: *const size_t,
    count: size_t,
) -> Option<Vec<&'a [u8]>> {
    if keys.is_null() || key_length.is_null() || count > isize::MAX as usize / 8 {
        return None;
    }
    // SAFETY: caller contract: both arrays have `count` entries.
    let (keys, lengths) = unsafe {
        (
            std::slice::from_raw_parts(keys, count),
            std::slice::from_raw_parts(key_length, count),
        )
    };
    let mut list = Vec::with_capacity(count);
    for (&key, &len) in keys.iter().zip(lengths) {
        // SAFETY: caller contract: each key is valid for its length.
        list.push(unsafe { bytes(key, len) }?);
    }
    Some(list)
}

/// # Safety
/// As `memcached_mget_by_key`.
unsafe fn mget(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    keys: *const *const c_char,
    key_length: *const size_t,
    number_of_keys: size_t,
) -> memcached_return_t {
    // SAFETY: caller contract.
    let Some(h) = (unsafe { handle_of(ptr) }) else {
        return MEMCACHED_INVALID_ARGUMENTS;
    };
    if number_of_keys == 0 {
        h.begin();
        return h.fail(
            Error::new(MEMCACHED_INVALID_ARGUMENTS, "no keys given"),
            None,
        );
    }
    // SAFETY: caller contract.
    let Some(list) = (unsafe { key_list(keys, key_length, number_of_keys) }) else {
        h.begin();
        return h.fail(
            Error::new(MEMCACHED_BAD_KEY_PROVIDED, "the key array or a key is NULL"),
            None,
        );
    };
    // SAFETY: caller contract.
    let group = unsafe { bytes(group_key, group_key_length) }.filter(|g| !g.is_empty());
    ops::mget(h, group, &list)
}

/// Requests several keys at once; read the results with `memcached_fetch_result`.
/// Returns SUCCESS, SOME_ERRORS (some servers failed), a connection error (all failed),
/// INVALID_ARGUMENTS (no keys, NULL handle), BAD_KEY_PROVIDED, NO_SERVERS.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `keys`/`key_length` are arrays of `number_of_keys`.
#[no_mangle]
pub unsafe extern "C" fn memcached_mget(
    ptr: *mut memcached_st,
    keys: *const *const c_char,
    key_length: *const size_t,
    number_of_keys: size_t,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe { mget(ptr, std::ptr::null(), 0, keys, key_length, number_of_keys) })
}

/// As `memcached_mget`, sending every key to the server of `group_key`.
///
/// # Safety
/// As `memcached_mget`; `group_key` is NULL or valid for `group_key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_mget_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    keys: *const *const c_char,
    key_length: *const size_t,
    number_of_keys: size_t,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    boundary(|| unsafe {
        mget(
            ptr,
            group_key,
            group_key_length,
            keys,
            key_length,
            number_of_keys,
        )
    })
}

/// Reads the next result into `r`; Err(code) at the end or on failure.
fn next_into(h: &mut Handle, r: &mut memcached_result_st) -> Result<(), memcached_return_t> {
    match ops::fetch_next(h, r) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ops::end_of_fetch(h, r)),
        Err(error) => Err(h.fail(error, None)),
    }
}

/// Returns the next fetched item into `result` (a new result object when NULL).
///
/// Returns the result with `*error` SUCCESS; at the end NULL with END (this result object
/// received items) or NOTFOUND, or with CONNECTION_FAILURE/TIMEOUT when a server failed during the fetch. At
/// the end a heap-allocated `result` passed in is freed, as libmemcached does; one in caller
/// storage is emptied.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `result` is NULL or initialised by
/// `memcached_result_create`; `error` is NULL or writable. Ownership: a result created here is
/// the caller's, freed with `memcached_result_free`.
#[no_mangle]
pub unsafe extern "C" fn memcached_fetch_result(
    ptr: *mut memcached_st,
    result: *mut memcached_result_st,
    error: *mut memcached_return_t,
) -> *mut memcached_result_st {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_INVALID_ARGUMENTS) };
            return std::ptr::null_mut();
        };
        let created = result.is_null();
        let r = if created {
            // SAFETY: `ptr` is a valid handle.
            unsafe { memcached_result_create(ptr, std::ptr::null_mut()) }
        } else {
            result
        };
        if r.is_null() {
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_MEMORY_ALLOCATION_FAILURE) };
            return std::ptr::null_mut();
        }
        // SAFETY: `r` is an initialised result (caller contract or created above).
        let r_ref = unsafe { &mut *r };
        match next_into(h, r_ref) {
            Ok(()) => {
                // SAFETY: caller contract.
                unsafe { write_out(error, MEMCACHED_SUCCESS) };
                r
            }
            Err(code) => {
                // SAFETY: caller contract.
                unsafe { write_out(error, code) };
                if created || r_ref.options & result::RESULT_ALLOCATED != 0 {
                    // SAFETY: `r` is a heap result (created here or marked allocated).
                    unsafe { super::result::memcached_result_free(r) };
                } else {
                    result::reset(r_ref);
                }
                std::ptr::null_mut()
            }
        }
    })
}

/// Returns the next fetched value as a buffer the caller frees with free(3) (handle allocator),
/// copying the key into `key` (at least 251 bytes; no NUL is added, as libmemcached does).
/// NULL with END/NOTFOUND at the end; NULL with SUCCESS for an empty value.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `key` is NULL or writable for 251 bytes; the other
/// out-pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memcached_fetch(
    ptr: *mut memcached_st,
    key: *mut c_char,
    key_length: *mut size_t,
    value_length: *mut size_t,
    flags: *mut u32,
    error: *mut memcached_return_t,
) -> *mut c_char {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { write_out(value_length, 0) };
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_INVALID_ARGUMENTS) };
            return std::ptr::null_mut();
        };
        let mut r = std::mem::replace(
            &mut h.result,
            result::new_result(std::ptr::null_mut(), false),
        );
        r.root = h.owner;
        r.value.root = h.owner;
        let outcome = next_into(h, &mut r);
        let value = match outcome {
            Ok(()) => {
                let found_key = result::key(&r);
                if !key.is_null() {
                    // SAFETY: caller contract: `key` holds 251 bytes; found_key has at most 250.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            found_key.as_ptr(),
                            key as *mut u8,
                            found_key.len(),
                        )
                    };
                }
                let data = result::value(&r);
                // SAFETY: caller contract.
                unsafe {
                    write_out(key_length, found_key.len());
                    write_out(value_length, data.len());
                    write_out(flags, r.item_flags);
                }
                if data.is_empty() {
                    // SAFETY: caller contract.
                    unsafe { write_out(error, MEMCACHED_SUCCESS) };
                    std::ptr::null_mut()
                } else {
                    let copy = super::memory_of_handle(h).copy_with_nul(data);
                    let code = if copy.is_null() {
                        MEMCACHED_MEMORY_ALLOCATION_FAILURE
                    } else {
                        MEMCACHED_SUCCESS
                    };
                    // SAFETY: caller contract.
                    unsafe { write_out(error, code) };
                    copy
                }
            }
            Err(code) => {
                // SAFETY: caller contract.
                unsafe { write_out(error, code) };
                std::ptr::null_mut()
            }
        };
        let spare = std::mem::replace(&mut h.result, r);
        drop(spare);
        value
    })
}

/// Fetches every pending result and calls each callback on each.
/// Returns SUCCESS when the stream ended normally, NOTFOUND when nothing was found,
/// SOME_ERRORS when a callback or a server failed, INVALID_ARGUMENTS for NULL.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `callback` is NULL or an array of `number_of_callbacks`.
#[no_mangle]
pub unsafe extern "C" fn memcached_fetch_execute(
    ptr: *mut memcached_st,
    callback: *const memcached_execute_fn,
    context: *mut c_void,
    number_of_callbacks: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        let callbacks: &[memcached_execute_fn] = if callback.is_null() {
            &[]
        } else {
            // SAFETY: caller contract.
            unsafe { std::slice::from_raw_parts(callback, number_of_callbacks as usize) }
        };
        let mut r = std::mem::replace(
            &mut h.result,
            result::new_result(std::ptr::null_mut(), false),
        );
        r.root = h.owner;
        r.value.root = h.owner;
        let mut failed = false;
        let end = loop {
            match next_into(h, &mut r) {
                Ok(()) => {
                    for f in callbacks.iter().flatten() {
                        // SAFETY: user callback with the memcached_execute_fn contract.
                        let rc = unsafe { f(ptr, &mut *r, context) };
                        if rc != MEMCACHED_SUCCESS as i32 {
                            failed = true;
                        }
                    }
                }
                Err(code) => break code,
            }
        };
        h.result = r;
        if failed || !matches!(end, MEMCACHED_END | MEMCACHED_NOTFOUND) {
            return MEMCACHED_SOME_ERRORS;
        }
        if end == MEMCACHED_END {
            MEMCACHED_SUCCESS
        } else {
            end
        }
    })
}

/// mget followed by `memcached_fetch_execute` (binary protocol only, as libmemcached).
///
/// # Safety
/// As `memcached_mget` and `memcached_fetch_execute`.
#[no_mangle]
pub unsafe extern "C" fn memcached_mget_execute(
    ptr: *mut memcached_st,
    keys: *const *const c_char,
    key_length: *const size_t,
    number_of_keys: size_t,
    callback: *const memcached_execute_fn,
    context: *mut c_void,
    number_of_callbacks: u32,
) -> memcached_return_t {
    // SAFETY: forwarded caller contract.
    unsafe {
        memcached_mget_execute_by_key(
            ptr,
            std::ptr::null(),
            0,
            keys,
            key_length,
            number_of_keys,
            callback,
            context,
            number_of_callbacks,
        )
    }
}

/// As `memcached_mget_execute`, sending every key to the server of `group_key`.
///
/// # Safety
/// As `memcached_mget_execute`.
#[no_mangle]
pub unsafe extern "C" fn memcached_mget_execute_by_key(
    ptr: *mut memcached_st,
    group_key: *const c_char,
    group_key_length: size_t,
    keys: *const *const c_char,
    key_length: *const size_t,
    number_of_keys: size_t,
    callback: *const memcached_execute_fn,
    context: *mut c_void,
    number_of_callbacks: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        if !h.behaviors.binary {
            h.begin();
            return h.fail(
                Error::new(
                    MEMCACHED_NOT_SUPPORTED,
                    "mget_execute needs the binary protocol",
                ),
                None,
            );
        }
        // SAFETY: forwarded caller contract.
        let rc = unsafe {
            mget(
                ptr,
                group_key,
                group_key_length,
                keys,
                key_length,
                number_of_keys,
            )
        };
        if rc != MEMCACHED_SUCCESS && rc != MEMCACHED_SOME_ERRORS {
            return rc;
        }
        // SAFETY: forwarded caller contract.
        unsafe { memcached_fetch_execute(ptr, callback, context, number_of_callbacks) };
        rc
    })
}
