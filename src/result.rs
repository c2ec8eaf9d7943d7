//! `memcached_result_st`: one fetched item, kept in libmemcached's public layout. The value
//! buffer comes from the owning handle's allocators, so `memcached_result_take_value` can hand
//! it to the caller.

use libc::{c_char, c_void};

use crate::alloc::Memory;
use crate::ffi::types::{memcached_result_st, memcached_st, memcached_string_st};

/// Bit 0 of `options`: the library allocated the struct itself.
pub const RESULT_ALLOCATED: u8 = 0x01;
/// Bit 1 of `options`: the struct was initialised by memcached_result_create.
pub const RESULT_INITIALIZED: u8 = 0x02;

/// Puts a fresh, empty result into `r` (caller storage or a new allocation).
pub fn init(r: &mut memcached_result_st, root: *mut memcached_st, allocated: bool) {
    r.item_flags = 0;
    r.item_expiration = 0;
    r.key_length = 0;
    r.item_cas = 0;
    r.root = root;
    r.value = memcached_string_st {
        end: std::ptr::null_mut(),
        string: std::ptr::null_mut(),
        current_size: 0,
        root,
        options: RESULT_INITIALIZED,
    };
    r.numeric_value = 0;
    r.count = 0;
    r.item_key = [0; 251];
    r.options = RESULT_INITIALIZED | if allocated { RESULT_ALLOCATED } else { 0 };
}

/// A result owned by a handle (its fetch result), never handed to memcached_result_free.
pub fn new_result(root: *mut memcached_st, allocated: bool) -> Box<memcached_result_st> {
    // SAFETY: memcached_result_st is a plain C struct; all-zero bytes are a valid value.
    let mut r: Box<memcached_result_st> = Box::new(unsafe { std::mem::zeroed() });
    init(&mut r, root, allocated);
    r
}

/// The allocators of the result's handle (the C library's when it has none).
pub fn memory_of(r: &memcached_result_st) -> Memory {
    // SAFETY: `root` is NULL or the handle the result was created for; a result must not
    // outlive its handle (the same rule as in libmemcached).
    unsafe { crate::ffi::memory_of_root(r.root) }
}

pub fn value_len(r: &memcached_result_st) -> usize {
    if r.value.string.is_null() {
        0
    } else {
        r.value.end as usize - r.value.string as usize
    }
}

/// Empties key, value, flags, cas and expiration, keeping the value buffer for reuse.
pub fn reset(r: &mut memcached_result_st) {
    r.key_length = 0;
    r.item_key[0] = 0;
    r.item_flags = 0;
    r.item_cas = 0;
    r.item_expiration = 0;
    r.numeric_value = 0;
    r.value.end = r.value.string;
}

/// Frees the value buffer.
pub fn free_value(r: &mut memcached_result_st) {
    let memory = memory_of(r);
    // SAFETY: the buffer was allocated by this result's allocators (or is NULL).
    unsafe { memory.free(r.value.string as *mut c_void) };
    r.value.string = std::ptr::null_mut();
    r.value.end = std::ptr::null_mut();
    r.value.current_size = 0;
}

/// Stores the key (truncated to the 250 bytes the struct holds), NUL-terminated.
pub fn set_key(r: &mut memcached_result_st, key: &[u8]) {
    let len = key.len().min(250);
    // SAFETY: item_key is an array of c_char, which has the size and alignment of u8; the
    // slice covers exactly that array.
    let item_key = unsafe {
        std::slice::from_raw_parts_mut(r.item_key.as_mut_ptr() as *mut u8, r.item_key.len())
    };
    item_key[..len].copy_from_slice(&key[..len]);
    item_key[len] = 0;
    r.key_length = len;
}

/// Appends bytes to the value, keeping a NUL after the last byte. Returns false when memory
/// ran out (the value is then unchanged).
pub fn append_value(r: &mut memcached_result_st, data: &[u8]) -> bool {
    let used = value_len(r);
    let Some(needed) = used.checked_add(data.len()).and_then(|n| n.checked_add(1)) else {
        return false;
    };
    if needed > r.value.current_size || r.value.string.is_null() {
        let capacity = needed.max(r.value.current_size.saturating_mul(2)).max(32);
        let memory = memory_of(r);
        // SAFETY: the old buffer (or NULL) came from the same allocators.
        let grown =
            unsafe { memory.realloc(r.value.string as *mut c_void, capacity) } as *mut c_char;
        if grown.is_null() {
            return false;
        }
        r.value.string = grown;
        r.value.current_size = capacity;
    }
    // SAFETY: the buffer holds at least used + data.len() + 1 bytes (ensured above) and
    // `data` does not overlap it.
    unsafe {
        let start = r.value.string.add(used) as *mut u8;
        std::ptr::copy_nonoverlapping(data.as_ptr(), start, data.len());
        *start.add(data.len()) = 0;
        r.value.end = r.value.string.add(used + data.len());
    }
    true
}

/// Replaces the value with `data`.
pub fn set_value(r: &mut memcached_result_st, data: &[u8]) -> bool {
    r.value.end = r.value.string;
    append_value(r, data)
}

/// The value bytes.
pub fn value(r: &memcached_result_st) -> &[u8] {
    let len = value_len(r);
    if len == 0 {
        return &[];
    }
    // SAFETY: string..end is the initialised value range of the buffer this result owns.
    unsafe { std::slice::from_raw_parts(r.value.string as *const u8, len) }
}

/// The key bytes.
pub fn key(r: &memcached_result_st) -> &[u8] {
    let len = r.key_length.min(250);
    // SAFETY: item_key is a 251-byte array; len <= 250 and c_char has the size of u8.
    unsafe { std::slice::from_raw_parts(r.item_key.as_ptr() as *const u8, len) }
}
