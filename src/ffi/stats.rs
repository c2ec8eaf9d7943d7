//! Statistics: `memcached_stat`, `memcached_stat_free`, `memcached_stat_get_value`,
//! `memcached_stat_get_keys`, `memcached_stat_servername`, `memcached_stat_execute`.

use libc::{c_char, c_void};

use super::types::memcached_return_t::*;
use super::types::*;
use super::{boundary, c_str, handle_of, memory_of_handle, memory_of_root, write_out};
use crate::error::Error;
use crate::protocol::{format_stat, STAT_NAMES};

/// The 22 names of `memcached_stat_get_keys`, NUL-terminated.
static STAT_KEY_STRINGS: [&str; 22] = [
    "pid\0",
    "uptime\0",
    "time\0",
    "version\0",
    "pointer_size\0",
    "rusage_user\0",
    "rusage_system\0",
    "curr_items\0",
    "total_items\0",
    "bytes\0",
    "curr_connections\0",
    "total_connections\0",
    "connection_structures\0",
    "cmd_get\0",
    "cmd_set\0",
    "get_hits\0",
    "get_misses\0",
    "evictions\0",
    "bytes_read\0",
    "bytes_written\0",
    "limit_maxbytes\0",
    "threads\0",
];

fn empty_stat(root: *mut memcached_st) -> memcached_stat_st {
    // SAFETY: memcached_stat_st is a plain C struct for which all-zero bytes are valid.
    let mut st: memcached_stat_st = unsafe { std::mem::zeroed() };
    st.pid = -1;
    st.root = root;
    st
}

/// Fetches the general statistics (or the group named by `args`) of every server.
///
/// Returns an array with one element per server (element i for server i), `*error` SUCCESS,
/// or SOME_ERRORS when a server failed (the array is still returned); NULL with NO_SERVERS,
/// BAD_KEY_PROVIDED (args with spaces in the text protocol) or INVALID_ARGUMENTS (NULL handle).
///
/// # Safety
/// `ptr` is NULL or a valid handle; `args` is NULL or NUL-terminated; `error` is NULL or
/// writable. Ownership: release the array with `memcached_stat_free`.
#[no_mangle]
pub unsafe extern "C" fn memcached_stat(
    ptr: *mut memcached_st,
    args: *mut c_char,
    error: *mut memcached_return_t,
) -> *mut memcached_stat_st {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_INVALID_ARGUMENTS) };
            return std::ptr::null_mut();
        };
        h.begin();
        if let Err(failure) = crate::ops::check_servers(h) {
            let code = h.fail(failure, None);
            // SAFETY: caller contract.
            unsafe { write_out(error, code) };
            return std::ptr::null_mut();
        }
        // SAFETY: caller contract.
        let args = unsafe { c_str(args) };
        if let Some(args) = args {
            if let Err(code) = crate::protocol::key::check_stat_args(
                args,
                !h.behaviors.binary,
                h.behaviors.verify_key,
            ) {
                let code = h.fail(Error::new(code, "invalid statistics group name"), None);
                // SAFETY: caller contract.
                unsafe { write_out(error, code) };
                return std::ptr::null_mut();
            }
        }
        let count = h.servers.len();
        let memory = memory_of_handle(h);
        let array = memory.calloc(count, std::mem::size_of::<memcached_stat_st>())
            as *mut memcached_stat_st;
        if array.is_null() {
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_MEMORY_ALLOCATION_FAILURE) };
            return std::ptr::null_mut();
        }
        // SAFETY: the allocation holds `count` elements; each is initialised here.
        let stats = unsafe {
            for i in 0..count {
                array.add(i).write(empty_stat(ptr));
            }
            std::slice::from_raw_parts_mut(array, count)
        };
        let code = crate::ops::stat_each(h, args, |index, name, value| {
            crate::protocol::apply_stat(&mut stats[index], name, value);
        });
        // SAFETY: caller contract.
        unsafe { write_out(error, code) };
        array
    })
}

/// Frees an array from `memcached_stat` (NULL ignored); the first argument is not used.
///
/// # Safety
/// `memc_stat` is NULL or an array from `memcached_stat`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn memcached_stat_free(
    ptr: *const memcached_st,
    memc_stat: *mut memcached_stat_st,
) {
    boundary(|| {
        let _ = ptr;
        if memc_stat.is_null() {
            return;
        }
        // SAFETY: caller contract: element 0 exists; its root names the allocating handle,
        // which must still be alive (as with libmemcached).
        let memory = unsafe { memory_of_root((*memc_stat).root) };
        // SAFETY: allocated by this memory in memcached_stat.
        unsafe { memory.free(memc_stat as *mut c_void) };
    })
}

/// Formats one statistic of `*memc_stat` as a string the caller frees with free(3).
/// NULL with INVALID_ARGUMENTS for an unknown name or a NULL statistics pointer.
///
/// # Safety
/// `memc_stat` is NULL or an element of an array from `memcached_stat`; `key` is NULL or
/// NUL-terminated; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memcached_stat_get_value(
    ptr: *const memcached_st,
    memc_stat: *mut memcached_stat_st,
    key: *const c_char,
    error: *mut memcached_return_t,
) -> *mut c_char {
    boundary(|| {
        // SAFETY: caller contract.
        let (Some(st), Some(name)) = (unsafe { memc_stat.as_ref() }, unsafe { c_str(key) }) else {
            // SAFETY: caller contract.
            if let Some(h) = unsafe { handle_of(ptr) } {
                h.fail(
                    Error::new(
                        MEMCACHED_INVALID_ARGUMENTS,
                        "the statistics array or the name is NULL",
                    ),
                    None,
                );
            }
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_INVALID_ARGUMENTS) };
            return std::ptr::null_mut();
        };
        let mut text = Vec::with_capacity(32);
        if !format_stat(st, name, &mut text) {
            // SAFETY: caller contract.
            if let Some(h) = unsafe { handle_of(ptr) } {
                let text = String::from_utf8_lossy(name);
                h.fail(
                    Error::new(
                        MEMCACHED_INVALID_ARGUMENTS,
                        format!("unknown statistic name \"{text}\""),
                    ),
                    None,
                );
            }
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_INVALID_ARGUMENTS) };
            return std::ptr::null_mut();
        }
        let copy = crate::alloc::Memory::libc().copy_with_nul(&text);
        let code = if copy.is_null() {
            MEMCACHED_MEMORY_ALLOCATION_FAILURE
        } else {
            MEMCACHED_SUCCESS
        };
        // SAFETY: caller contract.
        unsafe { write_out(error, code) };
        copy
    })
}

/// Returns a NULL-terminated array of the 22 statistic names (static strings); the caller frees
/// only the array, with free(3). NULL for a NULL handle.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memcached_stat_get_keys(
    ptr: *mut memcached_st,
    memc_stat: *mut memcached_stat_st,
    error: *mut memcached_return_t,
) -> *mut *mut c_char {
    boundary(|| {
        let _ = memc_stat;
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_INVALID_ARGUMENTS) };
            return std::ptr::null_mut();
        };
        debug_assert_eq!(STAT_NAMES.len(), STAT_KEY_STRINGS.len());
        let memory = memory_of_handle(h);
        let count = STAT_KEY_STRINGS.len() + 1;
        let array = memory.malloc(count * std::mem::size_of::<*mut c_char>()) as *mut *mut c_char;
        if array.is_null() {
            // SAFETY: caller contract.
            unsafe { write_out(error, MEMCACHED_MEMORY_ALLOCATION_FAILURE) };
            return std::ptr::null_mut();
        }
        // SAFETY: the array holds `count` pointers; the strings are static.
        unsafe {
            for (i, name) in STAT_KEY_STRINGS.iter().enumerate() {
                *array.add(i) = name.as_ptr() as *mut c_char;
            }
            *array.add(count - 1) = std::ptr::null_mut();
            write_out(error, MEMCACHED_SUCCESS);
        }
        array
    })
}

/// Fills `*memc_stat` from one server, using a temporary handle. Returns the stat result.
///
/// # Safety
/// `memc_stat` is NULL or writable; `args` and `hostname` are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn memcached_stat_servername(
    memc_stat: *mut memcached_stat_st,
    args: *mut c_char,
    hostname: *const c_char,
    port: in_port_t,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: zeroed storage for a temporary handle in this frame.
        let mut storage: memcached_st = unsafe { std::mem::zeroed() };
        // SAFETY: `storage` is valid writable memory of the right size.
        let mc = unsafe { super::memcached::memcached_create(&mut storage) };
        // SAFETY: `mc` is the handle created above.
        let mut rc = unsafe { super::server::memcached_server_add(mc, hostname, port) };
        if rc == MEMCACHED_SUCCESS {
            // SAFETY: `mc` is valid; args is forwarded under the caller contract.
            let stats = unsafe { memcached_stat(mc, args, &mut rc) };
            if !stats.is_null() {
                if !memc_stat.is_null() {
                    // SAFETY: `memc_stat` is writable (caller contract); `stats` has one
                    // element, copied bit for bit (plain C data).
                    unsafe {
                        let mut copy = std::ptr::read(stats);
                        copy.root = std::ptr::null_mut();
                        memc_stat.write(copy);
                    }
                }
                // SAFETY: array from memcached_stat above.
                unsafe { memcached_stat_free(mc, stats) };
            }
        }
        // SAFETY: `mc` lives in `storage`, freed once here.
        unsafe { super::memcached::memcached_free(mc) };
        rc
    })
}

/// Calls `func` for every statistic line of every server.
/// Returns SUCCESS, SOME_ERRORS, or the version step's error.
///
/// # Safety
/// `memc` is NULL or a valid handle; `args` is NULL or NUL-terminated; `func` follows the
/// memcached_stat_fn contract.
#[no_mangle]
pub unsafe extern "C" fn memcached_stat_execute(
    memc: *mut memcached_st,
    args: *const c_char,
    func: memcached_stat_fn,
    context: *mut c_void,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(memc) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        let Some(func) = func else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        // SAFETY: caller contract.
        let args = unsafe { c_str(args) };
        h.begin();
        if let Err(error) = crate::ops::check_servers(h) {
            return h.fail(error, None);
        }
        let instances: Vec<*const memcached_instance_st> =
            h.servers.iter().map(|s| &**s as *const _).collect();
        let mut failed = false;
        // Callers (php-memcached among them) treat the key and value as C strings, so each is
        // passed NUL-terminated, as libmemcached does.
        let mut key_copy: Vec<u8> = Vec::with_capacity(64);
        let mut value_copy: Vec<u8> = Vec::with_capacity(64);
        let code = crate::ops::stat_each(h, args, |index, name, value| {
            key_copy.clear();
            key_copy.extend_from_slice(name);
            key_copy.push(0);
            value_copy.clear();
            value_copy.extend_from_slice(value);
            value_copy.push(0);
            // SAFETY: user callback with the memcached_stat_fn contract; both copies are
            // NUL-terminated and live for the call.
            let rc = unsafe {
                func(
                    instances[index],
                    key_copy.as_ptr() as *const c_char,
                    name.len(),
                    value_copy.as_ptr() as *const c_char,
                    value.len(),
                    context,
                )
            };
            failed |= rc != MEMCACHED_SUCCESS as i32;
        });
        if failed {
            MEMCACHED_SOME_ERRORS
        } else {
            code
        }
    })
}
