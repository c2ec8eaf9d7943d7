//! The C surface, one file per libmemcached header area, and the boundary helpers every
//! export goes through: panic catching, handle lookup, and out-parameter writes.

pub mod auto;
pub mod behavior;
pub mod callback;
pub mod constants;
pub mod delete;
pub mod error;
pub mod fetch;
pub mod get;
pub mod hash;
pub mod hashkit;
pub mod memcached;
pub mod options;
pub mod result;
pub mod server;
pub mod stats;
pub mod storage;
pub mod strerror;
pub mod types;
pub mod misc;
pub mod version;

use std::panic::{catch_unwind, AssertUnwindSafe};

use libc::{c_char, size_t};

use crate::alloc::Memory;
use crate::handle::Handle;
use types::memcached_return_t::*;
use types::{memcached_return_t, memcached_st};

/// Marks `private_state[1]` of a `memcached_st` the library initialised.
const HANDLE_MAGIC: u64 = 0x6c69_626d_6372_7331;

/// The value an export returns when a panic was caught.
pub trait PanicFallback {
    fn panic_fallback() -> Self;
}

impl PanicFallback for memcached_return_t {
    fn panic_fallback() -> Self {
        MEMCACHED_FAILURE
    }
}

impl<T> PanicFallback for *mut T {
    fn panic_fallback() -> Self {
        std::ptr::null_mut()
    }
}

impl<T> PanicFallback for *const T {
    fn panic_fallback() -> Self {
        std::ptr::null()
    }
}

macro_rules! fallback_value {
    ($($t:ty => $v:expr),* $(,)?) => {
        $(impl PanicFallback for $t {
            fn panic_fallback() -> Self {
                $v
            }
        })*
    };
}

fallback_value!(
    () => (),
    bool => false,
    u8 => u8::MAX,
    u16 => 0,
    u32 => 0,
    u64 => 0,
    usize => 0,
    i32 => -1,
    types::memcached_server_distribution_t => types::memcached_server_distribution_t::MEMCACHED_DISTRIBUTION_CONSISTENT_MAX,
    types::memcached_hash_t => types::memcached_hash_t::MEMCACHED_HASH_MAX,
);

/// Runs an export's body, turning a panic into the type's fallback value so no unwind crosses
/// into C.
pub fn boundary<T: PanicFallback>(body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| T::panic_fallback())
}

/// Returns the library state of `ptr`, or None for NULL or a struct this library did not
/// initialise (or already freed, when it lives in caller storage).
///
/// # Safety
/// `ptr` is NULL or points to a readable `memcached_st`, and no other reference to its state
/// is alive.
pub unsafe fn handle_of<'a>(ptr: *const memcached_st) -> Option<&'a mut Handle> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: caller guarantees `ptr` points to a readable memcached_st.
    let st = unsafe { &*ptr };
    if st.private_state[1] != HANDLE_MAGIC {
        return None;
    }
    let state = st.private_state[0] as *mut Handle;
    if state.is_null() {
        return None;
    }
    // SAFETY: private_state[0] holds the Box<Handle> pointer stored by memcached_create, kept
    // alive until memcached_free clears the magic; the caller guarantees exclusivity (a
    // handle must not be used by two threads at once, as with libmemcached).
    Some(unsafe { &mut *state })
}

/// Stores `handle` in `st`.
pub fn attach(st: &mut memcached_st, handle: Box<Handle>) {
    let options = st.options;
    // SAFETY: memcached_st is a plain C struct (integers, raw pointers, optional function
    // pointers and nested plain structs), for which all-zero bytes are valid.
    *st = unsafe { std::mem::zeroed() };
    st.options = options;
    handle.publish_into(st);
    st.private_state[0] = Box::into_raw(handle) as u64;
    st.private_state[1] = HANDLE_MAGIC;
}

/// Removes and returns the state of `st`, leaving it detached.
pub fn detach(st: &mut memcached_st) -> Option<Box<Handle>> {
    if st.private_state[1] != HANDLE_MAGIC {
        return None;
    }
    let state = st.private_state[0] as *mut Handle;
    st.private_state[0] = 0;
    st.private_state[1] = 0;
    if state.is_null() {
        return None;
    }
    // SAFETY: the pointer came from Box::into_raw in `attach` and is taken out exactly once
    // (the magic was cleared above).
    Some(unsafe { Box::from_raw(state) })
}

/// The allocators of the handle behind `root` (the C library's for NULL).
///
/// # Safety
/// `root` is NULL or points to a live `memcached_st`.
pub unsafe fn memory_of_root(root: *const memcached_st) -> Memory {
    // SAFETY: caller contract.
    match unsafe { handle_of(root) } {
        Some(h) => memory_of_handle(h),
        None => Memory::libc(),
    }
}

pub fn memory_of_handle(h: &Handle) -> Memory {
    Memory {
        allocators: h.allocators,
        owner: h.owner,
    }
}

/// Writes `value` through an optional out-pointer.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
pub unsafe fn write_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: caller contract.
        unsafe { out.write(value) };
    }
}

/// Borrows `len` bytes at `ptr`; None for NULL with a non-zero length.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` bytes for the returned lifetime.
pub unsafe fn bytes<'a>(ptr: *const c_char, len: size_t) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    if ptr.is_null() || len > isize::MAX as usize {
        return None;
    }
    // SAFETY: caller contract; ptr is non-null and len fits isize.
    Some(unsafe { std::slice::from_raw_parts(ptr as *const u8, len) })
}

/// Borrows a NUL-terminated string; None for NULL.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string.
pub unsafe fn c_str<'a>(ptr: *const c_char) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: caller contract.
    Some(unsafe { std::ffi::CStr::from_ptr(ptr) }.to_bytes())
}
