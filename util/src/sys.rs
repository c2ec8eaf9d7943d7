//! The part of libmemcached's public C API that libmemcachedutil calls.
//!
//! These are hand-written declarations, not bindings generated from a header: the utility
//! library must link against any libmemcached.so.11 (this project's or the original one), so it
//! depends only on the exported functions and never on the layout of `memcached_st`.
//! `memcached_return_t` and `memcached_behavior_t` are C enums, which are `int`-sized on every
//! platform libmemcached supports; they cross this boundary as `c_int`.

use std::ffi::{c_char, c_int, c_ulong, c_void};
use std::marker::{PhantomData, PhantomPinned};

/// `memcached_return_t` as its numeric value.
pub type memcached_return_t = c_int;

/// `memcached_behavior_t` as its numeric value.
pub type memcached_behavior_t = c_int;

/// `in_port_t`: a TCP port in host byte order, as libmemcached's server functions take it.
pub type in_port_t = u16;

/// `pid_t`.
pub type pid_t = libc::pid_t;

pub const MEMCACHED_SUCCESS: memcached_return_t = 0;
pub const MEMCACHED_FAILURE: memcached_return_t = 1;
pub const MEMCACHED_NOTFOUND: memcached_return_t = 16;
pub const MEMCACHED_MEMORY_ALLOCATION_FAILURE: memcached_return_t = 17;
pub const MEMCACHED_SOME_ERRORS: memcached_return_t = 19;
pub const MEMCACHED_ERRNO: memcached_return_t = 26;
pub const MEMCACHED_TIMEOUT: memcached_return_t = 31;
pub const MEMCACHED_UNKNOWN_STAT_KEY: memcached_return_t = 36;
pub const MEMCACHED_INVALID_ARGUMENTS: memcached_return_t = 38;

/// The opaque client handle. Only ever used behind a pointer.
#[repr(C)]
pub struct memcached_st {
    _opaque: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// One server of a handle, as the cursor and `memcached_server_instance_by_position` give it.
#[repr(C)]
pub struct memcached_instance_st {
    _opaque: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The leading fields of `memcached_stat_st`, up to the one this library reads.
///
/// The real struct is 224 bytes; it is only ever read through a pointer the library returned,
/// so declaring its prefix is enough.
#[repr(C)]
pub struct memcached_stat_st {
    pub connection_structures: c_ulong,
    pub curr_connections: c_ulong,
    pub curr_items: c_ulong,
    pub pid: pid_t,
}

/// `memcached_server_fn`: called by `memcached_server_cursor` once per server.
pub type memcached_server_fn = Option<
    unsafe extern "C" fn(
        ptr: *const memcached_st,
        server: *const memcached_instance_st,
        context: *mut c_void,
    ) -> memcached_return_t,
>;

#[link(name = "memcached")]
extern "C" {
    pub fn memcached(string: *const c_char, string_length: usize) -> *mut memcached_st;
    pub fn memcached_create(ptr: *mut memcached_st) -> *mut memcached_st;
    pub fn memcached_clone(clone: *mut memcached_st, ptr: *const memcached_st)
        -> *mut memcached_st;
    pub fn memcached_free(ptr: *mut memcached_st);

    pub fn memcached_behavior_get(ptr: *mut memcached_st, flag: memcached_behavior_t) -> u64;
    pub fn memcached_behavior_set(
        ptr: *mut memcached_st,
        flag: memcached_behavior_t,
        data: u64,
    ) -> memcached_return_t;

    pub fn memcached_server_add(
        ptr: *mut memcached_st,
        hostname: *const c_char,
        port: in_port_t,
    ) -> memcached_return_t;
    pub fn memcached_server_cursor(
        ptr: *const memcached_st,
        callback: *const memcached_server_fn,
        context: *mut c_void,
        number_of_callbacks: u32,
    ) -> memcached_return_t;
    pub fn memcached_server_instance_by_position(
        ptr: *const memcached_st,
        server_key: u32,
    ) -> *const memcached_instance_st;
    pub fn memcached_server_error(ptr: *const memcached_instance_st) -> *const c_char;
    pub fn memcached_server_error_return(ptr: *const memcached_instance_st) -> memcached_return_t;
    pub fn memcached_server_major_version(ptr: *const memcached_instance_st) -> u8;
    pub fn memcached_server_minor_version(ptr: *const memcached_instance_st) -> u8;
    pub fn memcached_server_micro_version(ptr: *const memcached_instance_st) -> u8;

    pub fn memcached_set_sasl_auth_data(
        ptr: *mut memcached_st,
        username: *const c_char,
        password: *const c_char,
    ) -> memcached_return_t;

    pub fn memcached_version(ptr: *mut memcached_st) -> memcached_return_t;
    pub fn memcached_flush(ptr: *mut memcached_st, expiration: libc::time_t) -> memcached_return_t;
    pub fn memcached_stat(
        ptr: *mut memcached_st,
        args: *mut c_char,
        error: *mut memcached_return_t,
    ) -> *mut memcached_stat_st;
    pub fn memcached_stat_free(ptr: *const memcached_st, stat: *mut memcached_stat_st);
}

/// True for the codes libmemcached counts as success (`memcached_success()` in its headers).
pub fn succeeded(rc: memcached_return_t) -> bool {
    // SUCCESS, STORED (15), END (21), DELETED (22), VALUE (23), STAT (24), ITEM (25),
    // BUFFERED (32).
    matches!(rc, 0 | 15 | 21..=25 | 32)
}
