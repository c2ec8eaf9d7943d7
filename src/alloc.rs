//! Memory handed to C callers: from the handle's allocators
//! (`memcached_set_memory_allocators`), or from the C library's malloc family by default, so
//! callers can release it with free(3).

use libc::{c_char, c_void, size_t};

use crate::ffi::types::memcached_st;
use crate::handle::Allocators;

/// The allocators to use and the handle pointer they receive.
#[derive(Clone, Copy)]
pub struct Memory {
    pub allocators: Allocators,
    pub owner: *const memcached_st,
}

impl Memory {
    /// The C library's allocator, for memory not tied to a handle.
    pub fn libc() -> Memory {
        Memory {
            allocators: Allocators::default(),
            owner: std::ptr::null(),
        }
    }

    pub fn malloc(&self, size: size_t) -> *mut c_void {
        match self.allocators.malloc {
            // SAFETY: a user allocator installed with memcached_set_memory_allocators is called
            // with the contract of memcached_malloc_fn.
            Some(f) => unsafe { f(self.owner, size, self.allocators.context) },
            // SAFETY: malloc has no preconditions; the result is checked by callers.
            None => unsafe { libc::malloc(size.max(1)) },
        }
    }

    pub fn calloc(&self, count: size_t, size: size_t) -> *mut c_void {
        match self.allocators.calloc {
            // SAFETY: as for malloc, with the contract of memcached_calloc_fn.
            Some(f) => unsafe { f(self.owner, count, size, self.allocators.context) },
            // SAFETY: calloc checks the multiplication for overflow itself.
            None => unsafe { libc::calloc(count.max(1), size.max(1)) },
        }
    }

    /// # Safety
    /// `mem` is NULL or was allocated by this `Memory`'s allocators.
    pub unsafe fn realloc(&self, mem: *mut c_void, size: size_t) -> *mut c_void {
        match self.allocators.realloc {
            // SAFETY: caller contract; memcached_realloc_fn contract for the user function.
            Some(f) => unsafe { f(self.owner, mem, size, self.allocators.context) },
            // SAFETY: caller guarantees `mem` came from malloc/realloc or is NULL.
            None => unsafe { libc::realloc(mem, size.max(1)) },
        }
    }

    /// # Safety
    /// `mem` is NULL or was allocated by this `Memory`'s allocators and not freed.
    pub unsafe fn free(&self, mem: *mut c_void) {
        if mem.is_null() {
            return;
        }
        match self.allocators.free {
            // SAFETY: caller contract; memcached_free_fn contract for the user function.
            Some(f) => unsafe { f(self.owner, mem, self.allocators.context) },
            // SAFETY: caller guarantees `mem` came from this allocator.
            None => unsafe { libc::free(mem) },
        }
    }

    /// Copies `data` into a new buffer with a NUL byte after it; NULL on allocation failure.
    pub fn copy_with_nul(&self, data: &[u8]) -> *mut c_char {
        let Some(size) = data.len().checked_add(1) else {
            return std::ptr::null_mut();
        };
        let buffer = self.malloc(size) as *mut u8;
        if buffer.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: `buffer` has room for data.len() + 1 bytes and does not overlap `data`.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), buffer, data.len());
            *buffer.add(data.len()) = 0;
        }
        buffer as *mut c_char
    }
}
