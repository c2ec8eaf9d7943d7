//! The remaining exports: memory allocators, SASL credentials, virtual buckets, value
//! encryption, `memcached_dump`, `memcached_analyze`, and the hashkit accessors this library
//! does not implement (`memcached_get_hashkit`, `memcached_set_hashkit`), which return
//! MEMCACHED_NOT_SUPPORTED (or NULL) and are listed under "Known gaps" in the README.

use libc::{c_char, c_void, size_t};

use super::types::memcached_behavior_t::MEMCACHED_BEHAVIOR_BINARY_PROTOCOL;
use super::types::memcached_return_t::*;
use super::types::*;
use super::{boundary, bytes, c_str, handle_of, write_out};
use crate::error::Error;
use crate::handle::Allocators;

/// Installs memory functions for everything the handle allocates; all four NULL restores the
/// C library's. Returns SUCCESS, or INVALID_ARGUMENTS when only some are NULL or for NULL.
///
/// # Safety
/// `ptr` is NULL or a valid handle; the functions follow their typedefs' contracts.
#[no_mangle]
pub unsafe extern "C" fn memcached_set_memory_allocators(
    ptr: *mut memcached_st,
    mem_malloc: memcached_malloc_fn,
    mem_free: memcached_free_fn,
    mem_realloc: memcached_realloc_fn,
    mem_calloc: memcached_calloc_fn,
    context: *mut c_void,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        let set = [
            mem_malloc.is_some(),
            mem_free.is_some(),
            mem_realloc.is_some(),
            mem_calloc.is_some(),
        ];
        if set.iter().all(|s| !s) {
            h.allocators = Allocators::default();
            return MEMCACHED_SUCCESS;
        }
        if !set.iter().all(|s| *s) {
            return h.fail(
                Error::new(
                    MEMCACHED_INVALID_ARGUMENTS,
                    "give all four memory functions or none",
                ),
                None,
            );
        }
        h.allocators = Allocators {
            malloc: mem_malloc,
            free: mem_free,
            realloc: mem_realloc,
            calloc: mem_calloc,
            context,
        };
        MEMCACHED_SUCCESS
    })
}

/// Reads the memory functions (NULL each when the C library's are in use).
///
/// # Safety
/// `ptr` is NULL or a valid handle; each out-pointer is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memcached_get_memory_allocators(
    ptr: *const memcached_st,
    mem_malloc: *mut memcached_malloc_fn,
    mem_free: *mut memcached_free_fn,
    mem_realloc: *mut memcached_realloc_fn,
    mem_calloc: *mut memcached_calloc_fn,
) {
    boundary(|| {
        // SAFETY: caller contract.
        let allocators = unsafe { handle_of(ptr) }
            .map(|h| h.allocators)
            .unwrap_or_default();
        // SAFETY: caller contract.
        unsafe {
            write_out(mem_malloc, allocators.malloc);
            write_out(mem_free, allocators.free);
            write_out(mem_realloc, allocators.realloc);
            write_out(mem_calloc, allocators.calloc);
        }
    })
}

/// Returns the context pointer given with the memory functions.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_get_memory_allocators_context(
    ptr: *const memcached_st,
) -> *mut c_void {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { handle_of(ptr) }
            .map(|h| h.allocators.context)
            .unwrap_or(std::ptr::null_mut())
    })
}

/// Stores SASL PLAIN credentials and turns on the binary protocol; every new connection
/// authenticates with them. Returns SUCCESS, or INVALID_ARGUMENTS for NULL arguments.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `username` and `password` are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn memcached_set_sasl_auth_data(
    ptr: *mut memcached_st,
    username: *const c_char,
    password: *const c_char,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        // SAFETY: caller contract.
        let (Some(user), Some(password)) = (unsafe { c_str(username) }, unsafe { c_str(password) })
        else {
            return h.fail(
                Error::new(
                    MEMCACHED_INVALID_ARGUMENTS,
                    "SASL user name and password are required",
                ),
                None,
            );
        };
        h.sasl = Some((user.to_vec(), password.to_vec()));
        // SASL needs the binary protocol; libmemcached switches it on here too (which also
        // clears VERIFY_KEY).
        super::behavior::set_behavior(h, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL as i32, 1)
    })
}

/// Forgets the SASL credentials. Returns SUCCESS, or INVALID_ARGUMENTS for NULL.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_destroy_sasl_auth_data(
    ptr: *mut memcached_st,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        h.sasl = None;
        MEMCACHED_SUCCESS
    })
}

/// SASL callbacks (libsasl2 structures) are not used by this library: ignored.
///
/// # Safety
/// No pointer is dereferenced.
#[no_mangle]
pub unsafe extern "C" fn memcached_set_sasl_callbacks(
    ptr: *mut memcached_st,
    callbacks: *const c_void,
) {
    let _ = (ptr, callbacks);
}

/// Returns NULL: libsasl2 callbacks are not used by this library.
///
/// # Safety
/// No pointer is dereferenced.
#[no_mangle]
pub unsafe extern "C" fn memcached_get_sasl_callbacks(ptr: *mut memcached_st) -> *mut c_void {
    let _ = ptr;
    std::ptr::null_mut()
}

/// Switches to the VIRTUAL_BUCKET distribution with `buckets` entries of `host_map` (and of
/// `forward_map` when given). Returns SUCCESS, or INVALID_ARGUMENTS for NULL `host_map`,
/// 0 buckets or a NULL handle.
///
/// # Safety
/// `self_` is NULL or a valid handle; the maps are NULL or hold `buckets` entries.
#[no_mangle]
pub unsafe extern "C" fn memcached_bucket_set(
    self_: *mut memcached_st,
    host_map: *const u32,
    forward_map: *const u32,
    buckets: u32,
    replicas: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(self_) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        if host_map.is_null() || buckets == 0 {
            return h.fail(
                Error::new(
                    MEMCACHED_INVALID_ARGUMENTS,
                    "a bucket map needs at least one bucket",
                ),
                None,
            );
        }
        // SAFETY: caller contract: `buckets` entries.
        let hosts = unsafe { std::slice::from_raw_parts(host_map, buckets as usize) };
        // SAFETY: caller contract: NULL or `buckets` entries.
        let forward = (!forward_map.is_null())
            .then(|| unsafe { std::slice::from_raw_parts(forward_map, buckets as usize) });
        match h.selector.set_buckets(hosts, forward, replicas) {
            Ok(()) => MEMCACHED_SUCCESS,
            Err(()) => h.fail(
                Error::new(MEMCACHED_INVALID_ARGUMENTS, "invalid bucket map"),
                None,
            ),
        }
    })
}

fn not_supported(h: Option<&mut crate::handle::Handle>, what: &str) -> memcached_return_t {
    match h {
        Some(h) => h.fail(
            Error::new(
                MEMCACHED_NOT_SUPPORTED,
                format!("{what} is not implemented by libmemcached-rs"),
            ),
            None,
        ),
        None => MEMCACHED_NOT_SUPPORTED,
    }
}

/// Summarises a stats array from `memcached_stat` (one element per server of `memc`).
///
/// Returns a new memcached_analysis_st (free it with `memcached_analyze_free`) and leaves
/// `*error` as SUCCESS; NULL for a NULL handle or stats array, or a handle without servers
/// (where libmemcached corrupts memory).
///
/// # Safety
/// `memc` is NULL or a valid handle; `memc_stat` is NULL or an array of one element per server
/// of `memc`; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memcached_analyze(
    memc: *mut memcached_st,
    memc_stat: *mut memcached_stat_st,
    error: *mut memcached_return_t,
) -> *mut memcached_analysis_st {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(memc) }) else {
            return std::ptr::null_mut();
        };
        if memc_stat.is_null() || h.servers.is_empty() {
            return std::ptr::null_mut();
        }
        // SAFETY: caller contract: one element per server.
        let stats = unsafe { std::slice::from_raw_parts(memc_stat, h.servers.len()) };
        let mut analysis = crate::analyze::analyze(stats);
        analysis.root = memc;
        let block = libc_box(analysis);
        // SAFETY: caller contract.
        unsafe { write_out(error, if block.is_null() { MEMCACHED_MEMORY_ALLOCATION_FAILURE } else { MEMCACHED_SUCCESS }) };
        block
    })
}

/// Moves `value` into a malloc block (NULL when memory ran out), so free(3) can release it.
fn libc_box<T>(value: T) -> *mut T {
    // SAFETY: malloc has no preconditions; the result is checked.
    let block = unsafe { libc::malloc(std::mem::size_of::<T>()) } as *mut T;
    if !block.is_null() {
        // SAFETY: the block is large enough and suitably aligned for T (malloc aligns to 16).
        unsafe { block.write(value) };
    }
    block
}

/// Frees a result of `memcached_analyze` (which never returns one here); NULL ignored.
///
/// # Safety
/// `ptr` is NULL or from malloc.
#[no_mangle]
pub unsafe extern "C" fn memcached_analyze_free(ptr: *mut memcached_analysis_st) {
    // SAFETY: caller contract.
    boundary(|| unsafe { libc::free(ptr as *mut c_void) })
}

/// Lists the keys stored on every server (`stats cachedump` over all slab classes) and calls
/// each of `number_of_callbacks` functions for each key. Text protocol only: the binary
/// protocol gives NOT_SUPPORTED. Returns SUCCESS, SOME_ERRORS when a callback returned a fatal
/// code, NO_SERVERS, INVALID_ARGUMENTS for NULL, or the error that ended the walk. NULL
/// entries of `function` are skipped.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `function` is NULL or an array of `number_of_callbacks`
/// functions.
#[no_mangle]
pub unsafe extern "C" fn memcached_dump(
    ptr: *mut memcached_st,
    function: *mut memcached_dump_fn,
    context: *mut c_void,
    number_of_callbacks: u32,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        let functions: Vec<_> = if function.is_null() {
            Vec::new()
        } else {
            // SAFETY: caller contract: an array of number_of_callbacks function pointers.
            unsafe { std::slice::from_raw_parts(function, number_of_callbacks as usize) }
                .iter()
                .flatten()
                .copied()
                .collect()
        };
        let mut callbacks: Vec<_> = functions
            .into_iter()
            .map(|f| {
                move |key: &std::ffi::CStr| {
                    let bytes = key.to_bytes();
                    // SAFETY: user callback with the memcached_dump_fn contract; the key is
                    // NUL-terminated and lives for the call.
                    let rc = unsafe { f(ptr, key.as_ptr(), bytes.len(), context) };
                    crate::error::return_from_raw(rc).unwrap_or(MEMCACHED_MAXIMUM_RETURN)
                }
            })
            .collect();
        crate::ops::dump(h, &mut callbacks)
    })
}

/// Sets the key that encrypts stored values (AES-256-CBC, compatible with libmemcached 1.1.4's
/// libhashkit, so either library reads what the other wrote). NULL turns encryption off.
/// While a key is set, append, prepend and the increment/decrement calls return
/// NOT_SUPPORTED. Returns SUCCESS, or INVALID_ARGUMENTS for a NULL handle.
///
/// # Safety
/// `ptr` is NULL or a valid handle; `str_` is NULL or valid for `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcached_set_encoding_key(
    ptr: *mut memcached_st,
    str_: *const c_char,
    length: size_t,
) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        if str_.is_null() {
            h.encoding = None;
            return MEMCACHED_SUCCESS;
        }
        // SAFETY: caller contract.
        let Some(key) = (unsafe { bytes(str_, length) }) else {
            return h.fail(Error::new(MEMCACHED_INVALID_ARGUMENTS, "invalid encoding key length"), None);
        };
        h.encoding = Some(crate::encoding::EncodingKey::new(key));
        MEMCACHED_SUCCESS
    })
}

/// Not implemented: returns NULL.
///
/// # Safety
/// No pointer is dereferenced.
#[no_mangle]
pub unsafe extern "C" fn memcached_get_hashkit(ptr: *const memcached_st) -> *const hashkit_st {
    let _ = ptr;
    std::ptr::null()
}

/// Not implemented: returns NOT_SUPPORTED.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_set_hashkit(
    ptr: *mut memcached_st,
    hashk: *mut hashkit_st,
) -> memcached_return_t {
    let _ = hashk;
    // SAFETY: caller contract.
    boundary(|| not_supported(unsafe { handle_of(ptr) }, "memcached_set_hashkit"))
}
