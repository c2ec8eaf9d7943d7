//! Handle life cycle: `memcached_create`, `memcached_free`, `memcached_clone`, `memcached_reset`,
//! `memcached_quit`, `memcached_servers_reset`, user data and `memcached_push`.

use libc::c_void;

use super::types::memcached_return_t::*;
use super::types::{memcached_return_t, memcached_st};
use super::{attach, boundary, detach, handle_of};
use crate::handle::Handle;

/// Bit 0 of `memcached_st.options`: the struct itself was allocated by the library.
const STRUCT_ALLOCATED: u8 = 0x01;

/// Initialises a handle, in `ptr`'s storage or (for NULL) in a new allocation.
///
/// Returns the handle, or NULL when memory ran out.
///
/// # Safety
/// `ptr` is NULL or points to writable storage of `sizeof(memcached_st)` bytes, aligned to 8.
/// Ownership: release with `memcached_free`.
#[no_mangle]
pub unsafe extern "C" fn memcached_create(ptr: *mut memcached_st) -> *mut memcached_st {
    boundary(|| {
        let (st, allocated) = if ptr.is_null() {
            // SAFETY: calloc has no preconditions; the result is checked.
            let fresh = unsafe { libc::calloc(1, std::mem::size_of::<memcached_st>()) }
                as *mut memcached_st;
            if fresh.is_null() {
                return std::ptr::null_mut();
            }
            (fresh, true)
        } else {
            (ptr, false)
        };
        // SAFETY: `st` is valid writable storage (caller contract or fresh allocation); the
        // previous content is ignored, as libmemcached ignores it.
        let st_ref = unsafe { &mut *st };
        st_ref.options = if allocated { STRUCT_ALLOCATED } else { 0 };
        attach(st_ref, Box::new(Handle::new(st)));
        st
    })
}

/// Frees a handle: sends quit to connected servers, closes them and releases everything the
/// handle owns, and the struct itself when `memcached_create(NULL)` allocated it. NULL is
/// ignored. Pointers obtained from the handle are dangling afterwards.
///
/// # Safety
/// `ptr` is NULL or a handle from `memcached_create`/`memcached_clone`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn memcached_free(ptr: *mut memcached_st) {
    boundary(|| {
        if ptr.is_null() {
            return;
        }
        // SAFETY: caller contract.
        let st = unsafe { &mut *ptr };
        let Some(mut handle) = detach(st) else {
            return;
        };
        handle.quit_all(false);
        if let Some(cleanup) = handle.callbacks.on_cleanup {
            // Reattach so the callback can still use the handle's accessors.
            let callback_handle = handle;
            attach(st, callback_handle);
            // SAFETY: user callback with the memcached_cleanup_fn contract.
            unsafe { cleanup(ptr) };
            match detach(st) {
                Some(h) => handle = h,
                None => return,
            }
        }
        drop(handle);
        if st.options & STRUCT_ALLOCATED != 0 {
            // SAFETY: the struct was allocated with calloc in memcached_create.
            unsafe { libc::free(ptr as *mut c_void) };
        }
    })
}

/// Copies a handle's configuration and servers into a new handle (unconnected).
///
/// Returns `clone` (initialised) or a new heap handle; NULL when `clone` is marked as allocated
/// (non-zeroed storage) or memory ran out. `memcached_clone(dst, NULL)` is `memcached_create(dst)`.
///
/// # Safety
/// `clone` is NULL or zeroed writable storage of `sizeof(memcached_st)`; `source` is NULL or a
/// valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_clone(
    clone: *mut memcached_st,
    source: *const memcached_st,
) -> *mut memcached_st {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(src) = (unsafe { handle_of(source) }) else {
            // SAFETY: forwarded caller contract.
            return unsafe { memcached_create(clone) };
        };
        if !clone.is_null() {
            // SAFETY: caller contract: readable storage.
            if unsafe { (*clone).options } & STRUCT_ALLOCATED != 0 {
                return std::ptr::null_mut();
            }
        }
        // SAFETY: forwarded caller contract.
        let st = unsafe { memcached_create(clone) };
        if st.is_null() {
            return st;
        }
        // SAFETY: memcached_create returned an initialised handle.
        let copy = src.clone_config(st);
        let on_clone = copy.callbacks.on_clone;
        // SAFETY: `st` was initialised by memcached_create above.
        let st_ref = unsafe { &mut *st };
        drop(detach(st_ref));
        attach(st_ref, Box::new(copy));
        if let Some(callback) = on_clone {
            // SAFETY: user callback with the memcached_clone_fn contract.
            unsafe { callback(st, source) };
        }
        st
    })
}

/// Releases everything the handle owns and returns it to the defaults of a fresh handle,
/// keeping its query id. Returns SUCCESS, or INVALID_ARGUMENTS for NULL.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_reset(ptr: *mut memcached_st) -> memcached_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(h) = (unsafe { handle_of(ptr) }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        h.quit_all(false);
        let query_id = h.query_id;
        *h = Handle::new(ptr);
        h.query_id = query_id;
        h.publish();
        MEMCACHED_SUCCESS
    })
}

/// Sends quit to every connected server and closes the connections; the next operation
/// reconnects. In a forked child, inherited connections are closed without sending anything,
/// so the parent's connections keep working.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_quit(ptr: *mut memcached_st) {
    boundary(|| {
        // SAFETY: caller contract.
        if let Some(h) = unsafe { handle_of(ptr) } {
            h.query_id += 1;
            h.quit_all(true);
        }
    })
}

/// Closes and removes every server, the continuum and the last-disconnect record; behaviors
/// stay. NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_servers_reset(ptr: *mut memcached_st) {
    boundary(|| {
        // SAFETY: caller contract.
        if let Some(h) = unsafe { handle_of(ptr) } {
            h.reset_servers();
        }
    })
}

/// Forgets the last-disconnect record (the pointer returned earlier becomes invalid).
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_reset_last_disconnected_server(ptr: *mut memcached_st) {
    boundary(|| {
        // SAFETY: caller contract.
        if let Some(h) = unsafe { handle_of(ptr) } {
            h.last_disconnect = None;
        }
    })
}

/// Returns the user data pointer (NULL for a NULL handle).
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_get_user_data(ptr: *const memcached_st) -> *mut c_void {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { handle_of(ptr) }
            .map(|h| h.user_data)
            .unwrap_or(std::ptr::null_mut())
    })
}

/// Sets the user data pointer and returns the previous one (NULL for a NULL handle).
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_set_user_data(
    ptr: *mut memcached_st,
    data: *mut c_void,
) -> *mut c_void {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { handle_of(ptr) } {
            Some(h) => {
                let previous = std::mem::replace(&mut h.user_data, data);
                h.publish();
                previous
            }
            None => std::ptr::null_mut(),
        }
    })
}

/// Appends copies of `source`'s servers to `destination` and rebuilds its distribution.
/// Returns SUCCESS, or INVALID_ARGUMENTS when either handle is NULL.
///
/// # Safety
/// Both are NULL or valid, distinct handles.
#[no_mangle]
pub unsafe extern "C" fn memcached_push(
    destination: *mut memcached_st,
    source: *const memcached_st,
) -> memcached_return_t {
    boundary(|| {
        if std::ptr::eq(destination, source) {
            return MEMCACHED_INVALID_ARGUMENTS;
        }
        // SAFETY: caller contract; the two handles are distinct (checked above).
        let (Some(dst), Some(src)) = (unsafe { handle_of(destination) }, unsafe {
            handle_of(source)
        }) else {
            return MEMCACHED_INVALID_ARGUMENTS;
        };
        let servers: Vec<_> = src
            .servers
            .iter()
            .map(|s| (s.hostname.as_bytes().to_vec(), s.port, s.weight, s.kind))
            .collect();
        dst.push_servers(servers.into_iter());
        MEMCACHED_SUCCESS
    })
}

/// Returns the query counter (0 for NULL).
///
/// # Safety
/// `ptr` is NULL or a valid handle.
#[no_mangle]
pub unsafe extern "C" fn memcached_query_id(ptr: *const memcached_st) -> u64 {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { handle_of(ptr) }.map(|h| h.query_id).unwrap_or(0)
    })
}
