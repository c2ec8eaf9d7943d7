//! `memcached_last_error*`, `memcached_error`, `memcached_error_print`, and the per-server
//! error accessors.

use libc::c_char;

use super::types::memcached_return_t::*;
use super::types::{memcached_instance_st, memcached_return_t, memcached_st};
use super::{boundary, handle_of};

/// Returns the code of the newest error record: SUCCESS if none, INVALID_ARGUMENTS for NULL.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_last_error(ptr: *const memcached_st) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => h.error.code.unwrap_or(MEMCACHED_SUCCESS),
            None => MEMCACHED_INVALID_ARGUMENTS,
        }
    })
}

/// Returns the text of the newest error record: "SUCCESS" if none, "INVALID ARGUMENTS" for
/// NULL. Ownership: the handle's; valid until its next operation or memcached_free.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_last_error_message(ptr: *const memcached_st) -> *const c_char {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => match &h.error.message {
                Some(message) => message.as_ptr(),
                None => c"SUCCESS".as_ptr(),
            },
            None => c"INVALID ARGUMENTS".as_ptr(),
        }
    })
}

/// Alias of `memcached_last_error_message`.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_error(ptr: *const memcached_st) -> *const c_char {
    // SAFETY: forwarded caller contract.
    unsafe { memcached_last_error_message(ptr) }
}

/// Returns the errno saved with the newest error record (0 if none or for NULL).
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_last_error_errno(ptr: *const memcached_st) -> libc::c_int {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { handle_of(ptr) }
            .map(|h| h.error.errno)
            .unwrap_or(0)
    })
}

/// Writes the handle's error record and each server's last error to stderr; the only function
/// of this library that writes to a standard stream, because the caller asked for it.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_error_print(ptr: *const memcached_st) {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return;
        };
        if let Some(message) = &h.error.message {
            eprintln!("{}", message.to_string_lossy());
        }
        for server in &h.servers {
            if let Some((_, text)) = &server.error {
                eprintln!(
                    "{}:{}: {}",
                    server.name(),
                    server.port,
                    text.to_string_lossy()
                );
            }
        }
    })
}

/// Returns the last error text recorded on a server: "SUCCESS" if none, NULL for NULL.
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_error(
    server: *const memcached_instance_st,
) -> *const c_char {
    boundary(|| {
        if server.is_null() {
            return std::ptr::null();
        }
        // SAFETY: caller contract.
        let server = unsafe { &*server };
        match &server.error {
            Some((_, text)) => text.as_ptr(),
            None => c"SUCCESS".as_ptr(),
        }
    })
}

/// Returns the last error code recorded on a server: SUCCESS if none, INVALID_ARGUMENTS for
/// NULL.
///
/// # Safety
/// `server` is NULL or an instance pointer from a live handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_server_error_return(
    server: *const memcached_instance_st,
) -> memcached_return_t {
    boundary(|| {
        if server.is_null() {
            return MEMCACHED_INVALID_ARGUMENTS;
        }
        // SAFETY: caller contract.
        let server = unsafe { &*server };
        server
            .error
            .as_ref()
            .map(|(code, _)| *code)
            .unwrap_or(MEMCACHED_SUCCESS)
    })
}
