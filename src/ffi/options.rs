//! Configuration strings: `memcached()` and `libmemcached_check_configuration`.

use std::ffi::CString;

use libc::{c_char, size_t};

use super::memcached::{memcached_create, memcached_free};
use super::types::memcached_connection_t::*;
use super::types::memcached_return_t::*;
use super::types::{memcached_return_t, memcached_st};
use super::{boundary, bytes, handle_of};
use crate::config::{self, Action, ParseErrorKind};
use crate::error::Error;
use crate::handle::Handle;

/// Reads a file named by `INCLUDE` or `--CONFIGURE-FILE`. A directory reads as empty, as
/// libmemcached's line reader sees it.
fn read_config_file(name: &[u8]) -> Result<Vec<u8>, String> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::path::Path::new(std::ffi::OsStr::from_bytes(name));
    match std::fs::read(path) {
        Ok(contents) => Ok(contents),
        Err(error) if error.raw_os_error() == Some(libc::EISDIR) => Ok(Vec::new()),
        Err(error) => Err(error.to_string()),
    }
}

fn parse_code(kind: ParseErrorKind) -> memcached_return_t {
    match kind {
        ParseErrorKind::Parse => MEMCACHED_PARSE_ERROR,
        ParseErrorKind::ConfigureFileUnreadable => MEMCACHED_ERRNO,
        ParseErrorKind::ConfigureFileEmpty => MEMCACHED_INVALID_ARGUMENTS,
    }
}

/// Applies parsed configuration actions to a fresh handle.
fn apply(h: &mut Handle, actions: &[Action]) -> Result<(), Error> {
    for action in actions {
        match action {
            Action::Server { host, port, weight } => {
                let kind = if host.first() == Some(&b'/') {
                    MEMCACHED_CONNECTION_UNIX_SOCKET
                } else {
                    MEMCACHED_CONNECTION_TCP
                };
                h.add_server(host, *port, *weight, kind);
            }
            Action::Socket { path, weight } => {
                h.add_server(path, 0, *weight, MEMCACHED_CONNECTION_UNIX_SOCKET)
            }
            Action::Behavior { behavior, value } => {
                let code = super::behavior::set_behavior(h, *behavior as i32, *value);
                if code != MEMCACHED_SUCCESS {
                    let name = super::behavior::behavior_name(*behavior as i32);
                    return Err(Error::new(
                        MEMCACHED_PARSE_ERROR,
                        format!("Could not set: {name}"),
                    ));
                }
            }
            Action::Namespace(ns) => {
                h.namespace = Some(
                    CString::new(ns.clone())
                        .map_err(|_| Error::code(MEMCACHED_BAD_KEY_PROVIDED))?,
                )
            }
            Action::ConfigureFile(name) => h.config_file = CString::new(name.clone()).ok(),
            Action::PoolMin(n) => h.pool_min = *n,
            Action::PoolMax(n) => h.pool_max = *n,
            Action::Reset => {
                h.quit_all(false);
                let (owner, query_id) = (h.owner, h.query_id);
                *h = Handle::new(owner);
                h.query_id = query_id;
            }
            Action::FetchVersion => {}
        }
    }
    Ok(())
}

/// Parses `text` and applies it to the handle `st`.
///
/// # Safety
/// `st` is a valid handle.
unsafe fn configure(st: *mut memcached_st, text: &[u8]) -> Result<(), Error> {
    let actions = config::parse(text, &mut read_config_file)
        .map_err(|error| Error::new(parse_code(error.kind), error.message))?;
    // SAFETY: caller contract.
    let h = unsafe { handle_of(st) }.expect("a handle created by the caller");
    apply(h, &actions)
}

/// Builds a handle from a configuration string such as
/// `--SERVER=10.0.0.1:11211 --BINARY-PROTOCOL --NAMESPACE="app:"`.
///
/// Returns the handle, or NULL when the string does not parse or an option is rejected (use
/// `libmemcached_check_configuration` to see why). With `string` NULL and `length` 0 the
/// environment variable LIBMEMCACHED is used when set, else a plain handle is returned.
///
/// # Safety
/// `string` is NULL or valid for `length` bytes. Ownership: release with `memcached_free`.
#[no_mangle]
pub unsafe extern "C" fn memcached(
    string: *const c_char,
    string_length: size_t,
) -> *mut memcached_st {
    boundary(|| {
        let text: Vec<u8> = match (string.is_null(), string_length) {
            (true, 0) => match std::env::var_os("LIBMEMCACHED") {
                Some(value) => std::os::unix::ffi::OsStrExt::as_bytes(value.as_os_str()).to_vec(),
                // SAFETY: NULL asks for a new heap handle.
                None => return unsafe { memcached_create(std::ptr::null_mut()) },
            },
            (false, 0) | (true, _) => return std::ptr::null_mut(),
            // SAFETY: caller contract.
            (false, _) => match unsafe { bytes(string, string_length) } {
                Some(text) => text.to_vec(),
                None => return std::ptr::null_mut(),
            },
        };
        // SAFETY: NULL asks for a new heap handle.
        let st = unsafe { memcached_create(std::ptr::null_mut()) };
        if st.is_null() {
            return st;
        }
        // SAFETY: `st` was just created.
        match unsafe { configure(st, &text) } {
            Ok(()) => st,
            Err(_) => {
                // SAFETY: `st` was created above and is not used afterwards.
                unsafe { memcached_free(st) };
                std::ptr::null_mut()
            }
        }
    })
}

/// Checks a configuration string without keeping the handle.
///
/// Returns SUCCESS; PARSE_ERROR for a syntax error or a rejected option; ERRNO when a
/// `--CONFIGURE-FILE` cannot be read; INVALID_ARGUMENTS for NULL or empty input. On failure
/// the message is copied into `error_buffer` (truncated, always NUL-terminated when
/// `error_buffer_size` > 0).
///
/// # Safety
/// `option_string` is NULL or valid for `length` bytes; `error_buffer` is NULL or writable for
/// `error_buffer_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn libmemcached_check_configuration(
    option_string: *const c_char,
    length: size_t,
    error_buffer: *mut c_char,
    error_buffer_size: size_t,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let text = match unsafe { bytes(option_string, length) } {
            Some(text) if !text.is_empty() => text,
            _ => return MEMCACHED_INVALID_ARGUMENTS,
        };
        // SAFETY: zeroed storage for a temporary handle in this frame.
        let mut storage: memcached_st = unsafe { std::mem::zeroed() };
        // SAFETY: `storage` is valid writable memory of the right size.
        let st = unsafe { memcached_create(&mut storage) };
        // SAFETY: `st` was just created.
        let outcome = unsafe { configure(st, text) };
        // SAFETY: `st` lives in `storage` and is freed once.
        unsafe { memcached_free(st) };
        match outcome {
            Ok(()) => MEMCACHED_SUCCESS,
            Err(error) => {
                if !error_buffer.is_null() && error_buffer_size > 0 {
                    let message = error.detail.as_bytes();
                    let n = message.len().min(error_buffer_size - 1);
                    // SAFETY: caller contract: the buffer holds error_buffer_size >= n + 1 bytes.
                    unsafe {
                        std::ptr::copy_nonoverlapping(message.as_ptr(), error_buffer as *mut u8, n);
                        *error_buffer.add(n) = 0;
                    }
                }
                error.code
            }
        }
    })
}
