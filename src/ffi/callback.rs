//! `memcached_callback_set` / `memcached_callback_get`.

use std::ffi::CString;

use libc::c_void;

use super::types::memcached_return_t::*;
use super::types::*;
use super::{boundary, c_str, handle_of, write_out};
use crate::error::Error;
use crate::protocol::key::check_namespace;

/// Sets a callback slot or the namespace (`MEMCACHED_CALLBACK_PREFIX_KEY`, copied).
///
/// Returns SUCCESS; for the namespace BAD_KEY_PROVIDED (bad characters in the text protocol),
/// KEY_TOO_BIG (over 127 bytes) or INVALID_ARGUMENTS (empty string); INVALID_ARGUMENTS for a
/// NULL handle, `MEMCACHED_CALLBACK_MAX`, or a delete trigger while buffering or NOREPLY is on.
/// Undefined slots 4, 5 and 6 are accepted and ignored, as libmemcached does.
///
/// # Safety
/// `ptr` is NULL or a valid handle; for PREFIX_KEY, `data` is NULL or a NUL-terminated string;
/// for function slots, `data` is NULL or a function of the slot's type.
#[no_mangle]
pub unsafe extern "C" fn memcached_callback_set(
    ptr: *mut memcached_st,
    flag: memcached_callback_raw,
    data: *const c_void,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        let code = set_callback(h, flag, data);
        h.publish();
        code
    })
}

/// The body of memcached_callback_set.
fn set_callback(
    h: &mut crate::handle::Handle,
    flag: memcached_callback_raw,
    data: *const c_void,
) -> memcached_return_t {
    match flag {
        0 => {
            // SAFETY: caller contract: NULL or a NUL-terminated string.
            let Some(ns) = (unsafe { c_str(data as *const libc::c_char) }) else {
                h.namespace = None;
                return MEMCACHED_SUCCESS;
            };
            if let Err(code) = check_namespace(ns, h.behaviors.binary) {
                return h.fail(Error::new(code, "invalid namespace"), None);
            }
            h.namespace = CString::new(ns).ok();
            MEMCACHED_SUCCESS
        }
        1 => {
            h.user_data = data as *mut c_void;
            MEMCACHED_SUCCESS
        }
        2 => {
            // SAFETY: caller passes a memcached_cleanup_fn (or NULL) through the void pointer;
            // function and data pointers have the same size on the supported platforms.
            h.callbacks.on_cleanup =
                unsafe { std::mem::transmute::<*const c_void, memcached_cleanup_fn>(data) };
            MEMCACHED_SUCCESS
        }
        3 => {
            // SAFETY: as above, for memcached_clone_fn.
            h.callbacks.on_clone =
                unsafe { std::mem::transmute::<*const c_void, memcached_clone_fn>(data) };
            MEMCACHED_SUCCESS
        }
        7 => {
            // SAFETY: as above, for memcached_trigger_key_fn.
            h.callbacks.get_failure =
                unsafe { std::mem::transmute::<*const c_void, memcached_trigger_key_fn>(data) };
            MEMCACHED_SUCCESS
        }
        8 => {
            if !data.is_null() && (h.behaviors.buffer_requests || h.behaviors.noreply) {
                return h.fail(
                    Error::new(
                        MEMCACHED_INVALID_ARGUMENTS,
                        "a delete trigger needs replies (no buffering, no NOREPLY)",
                    ),
                    None,
                );
            }
            // SAFETY: as above, for memcached_trigger_delete_key_fn.
            h.callbacks.delete_trigger = unsafe {
                std::mem::transmute::<*const c_void, memcached_trigger_delete_key_fn>(data)
            };
            MEMCACHED_SUCCESS
        }
        4..=6 => MEMCACHED_SUCCESS,
        _ => h.fail(
            Error::new(
                MEMCACHED_INVALID_ARGUMENTS,
                format!("unknown callback {flag}"),
            ),
            None,
        ),
    }
}

/// Reads a callback slot or the namespace. `*error` gets SUCCESS, FAILURE for an empty
/// function or user-data slot, or INVALID_ARGUMENTS for a NULL handle or unknown slot (where
/// libmemcached aborts).
///
/// # Safety
/// `ptr` is NULL or a valid handle; `error` is NULL or writable.
/// Ownership: the namespace string belongs to the handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_callback_get(
    ptr: *mut memcached_st,
    flag: memcached_callback_raw,
    error: *mut memcached_return_t,
) -> *mut c_void {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            // SAFETY: caller contract for `error`.
            unsafe { write_out(error, MEMCACHED_INVALID_ARGUMENTS) };
            return std::ptr::null_mut();
        };
        let value: *mut c_void = match flag {
            0 => {
                let ns = h
                    .namespace
                    .as_ref()
                    .map(|n| n.as_ptr() as *mut c_void)
                    .unwrap_or(std::ptr::null_mut());
                // SAFETY: caller contract for `error`.
                unsafe { write_out(error, MEMCACHED_SUCCESS) };
                return ns;
            }
            1 => h.user_data,
            2 => h
                .callbacks
                .on_cleanup
                .map(|f| f as *mut c_void)
                .unwrap_or(std::ptr::null_mut()),
            3 => h
                .callbacks
                .on_clone
                .map(|f| f as *mut c_void)
                .unwrap_or(std::ptr::null_mut()),
            7 => h
                .callbacks
                .get_failure
                .map(|f| f as *mut c_void)
                .unwrap_or(std::ptr::null_mut()),
            8 => h
                .callbacks
                .delete_trigger
                .map(|f| f as *mut c_void)
                .unwrap_or(std::ptr::null_mut()),
            _ => {
                let code = h.fail(
                    Error::new(
                        MEMCACHED_INVALID_ARGUMENTS,
                        format!("unknown callback {flag}"),
                    ),
                    None,
                );
                // SAFETY: caller contract for `error`.
                unsafe { write_out(error, code) };
                return std::ptr::null_mut();
            }
        };
        let code = if value.is_null() {
            MEMCACHED_FAILURE
        } else {
            MEMCACHED_SUCCESS
        };
        // SAFETY: caller contract for `error`.
        unsafe { write_out(error, code) };
        value
    })
}
