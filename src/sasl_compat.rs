//! `sasl_client_init` and `sasl_done`, forwarded to Cyrus SASL when it is installed.
//!
//! Debian's libmemcached.so.11 depends on libsasl2.so.2, and some programs built against
//! SASL-enabled libmemcached headers call these two libsasl2 functions without linking
//! libsasl2 themselves (python3-pylibmc's `_pylibmc.so` does). This library needs no libsasl2
//! (it implements SASL PLAIN itself), so instead of a dependency it defines the two symbols:
//! each call loads libsasl2.so.2 if present and forwards to it, or, when libsasl2 is not
//! installed, does nothing and reports success.

use std::sync::OnceLock;

use libc::{c_char, c_int, c_void};

/// `SASL_OK` of `<sasl/sasl.h>`.
const SASL_OK: c_int = 0;

/// libsasl2's handle, opened once (NULL when it is not installed).
fn libsasl2() -> *mut c_void {
    static HANDLE: OnceLock<usize> = OnceLock::new();
    *HANDLE.get_or_init(|| {
        // SAFETY: dlopen with a NUL-terminated name; a NULL result is handled by callers.
        unsafe { libc::dlopen(c"libsasl2.so.2".as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) as usize }
    }) as *mut c_void
}

/// The function `name` of libsasl2 itself, never this library's forwarder: dlsym on
/// libsasl2's own handle searches only that library and its dependencies.
fn real_function(name: &std::ffi::CStr) -> *mut c_void {
    let handle = libsasl2();
    if handle.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `handle` is a live dlopen handle and `name` is NUL-terminated.
    unsafe { libc::dlsym(handle, name.as_ptr() as *const c_char) }
}

/// Forwards to libsasl2's `sasl_client_init`; returns SASL_OK when libsasl2 is absent.
///
/// # Safety
/// `callbacks` is what libsasl2's `sasl_client_init` accepts (NULL or a callback array).
#[no_mangle]
pub unsafe extern "C" fn sasl_client_init(callbacks: *const c_void) -> c_int {
    crate::ffi::boundary(|| {
        let function = real_function(c"sasl_client_init");
        if function.is_null() {
            return SASL_OK;
        }
        // SAFETY: the symbol is libsasl2's `int sasl_client_init(const sasl_callback_t *)`.
        let function: unsafe extern "C" fn(*const c_void) -> c_int = unsafe { std::mem::transmute(function) };
        // SAFETY: forwarded caller contract.
        unsafe { function(callbacks) }
    })
}

/// Forwards to libsasl2's `sasl_done`; does nothing when libsasl2 is absent.
///
/// # Safety
/// As libsasl2's `sasl_done`.
#[no_mangle]
pub unsafe extern "C" fn sasl_done() {
    crate::ffi::boundary(|| {
        let function = real_function(c"sasl_done");
        if function.is_null() {
            return;
        }
        // SAFETY: the symbol is libsasl2's `void sasl_done(void)`.
        let function: unsafe extern "C" fn() = unsafe { std::mem::transmute(function) };
        // SAFETY: forwarded caller contract.
        unsafe { function() }
    })
}
