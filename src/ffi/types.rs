//! C types of the libmemcached 1.1.4 interface: enumerations, public structs and callback
//! typedefs, with the names, values and x86_64 layouts of the real headers.
//!
//! Enumerations exist twice. The `#[repr(C)] enum` is what the header shows and what this
//! library hands out. Values that arrive from C (a behavior number, a hash, a code returned by
//! a user callback) are read through the plain-integer `*_raw` aliases instead, because C may
//! pass any `int` and an out-of-range Rust enum is undefined behaviour. cbindgen renames each
//! raw alias to the enum's C name, so the header keeps the real signatures.

#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_ulong, c_ulonglong, c_void, size_t, time_t};

/// `in_port_t` from `<netinet/in.h>` (the header includes the system definition).
pub type in_port_t = u16;
/// `pid_t` from `<sys/types.h>` (the header includes the system definition).
pub type pid_t = c_int;

/// `memcached_return_t`: the result code of almost every call.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum memcached_return_t {
    MEMCACHED_SUCCESS = 0,
    MEMCACHED_FAILURE = 1,
    MEMCACHED_HOST_LOOKUP_FAILURE = 2,
    MEMCACHED_CONNECTION_FAILURE = 3,
    MEMCACHED_CONNECTION_BIND_FAILURE = 4,
    MEMCACHED_WRITE_FAILURE = 5,
    MEMCACHED_READ_FAILURE = 6,
    MEMCACHED_UNKNOWN_READ_FAILURE = 7,
    MEMCACHED_PROTOCOL_ERROR = 8,
    MEMCACHED_CLIENT_ERROR = 9,
    MEMCACHED_SERVER_ERROR = 10,
    /// Also spelled `MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE`.
    MEMCACHED_ERROR = 11,
    MEMCACHED_DATA_EXISTS = 12,
    MEMCACHED_DATA_DOES_NOT_EXIST = 13,
    MEMCACHED_NOTSTORED = 14,
    MEMCACHED_STORED = 15,
    MEMCACHED_NOTFOUND = 16,
    MEMCACHED_MEMORY_ALLOCATION_FAILURE = 17,
    MEMCACHED_PARTIAL_READ = 18,
    MEMCACHED_SOME_ERRORS = 19,
    MEMCACHED_NO_SERVERS = 20,
    MEMCACHED_END = 21,
    MEMCACHED_DELETED = 22,
    MEMCACHED_VALUE = 23,
    MEMCACHED_STAT = 24,
    MEMCACHED_ITEM = 25,
    MEMCACHED_ERRNO = 26,
    MEMCACHED_FAIL_UNIX_SOCKET = 27,
    MEMCACHED_NOT_SUPPORTED = 28,
    MEMCACHED_NO_KEY_PROVIDED = 29,
    MEMCACHED_FETCH_NOTFINISHED = 30,
    MEMCACHED_TIMEOUT = 31,
    MEMCACHED_BUFFERED = 32,
    MEMCACHED_BAD_KEY_PROVIDED = 33,
    MEMCACHED_INVALID_HOST_PROTOCOL = 34,
    MEMCACHED_SERVER_MARKED_DEAD = 35,
    MEMCACHED_UNKNOWN_STAT_KEY = 36,
    MEMCACHED_E2BIG = 37,
    MEMCACHED_INVALID_ARGUMENTS = 38,
    MEMCACHED_KEY_TOO_BIG = 39,
    MEMCACHED_AUTH_PROBLEM = 40,
    MEMCACHED_AUTH_FAILURE = 41,
    MEMCACHED_AUTH_CONTINUE = 42,
    MEMCACHED_PARSE_ERROR = 43,
    MEMCACHED_PARSE_USER_ERROR = 44,
    MEMCACHED_DEPRECATED = 45,
    MEMCACHED_IN_PROGRESS = 46,
    MEMCACHED_SERVER_TEMPORARILY_DISABLED = 47,
    MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE = 48,
    MEMCACHED_MAXIMUM_RETURN = 49,
}

/// A `memcached_return_t` as received from C (for example from a user callback).
pub type memcached_return_raw = c_int;

/// `memcached_behavior_t`: the options of `memcached_behavior_set` / `_get`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum memcached_behavior_t {
    MEMCACHED_BEHAVIOR_NO_BLOCK = 0,
    MEMCACHED_BEHAVIOR_TCP_NODELAY = 1,
    MEMCACHED_BEHAVIOR_HASH = 2,
    MEMCACHED_BEHAVIOR_KETAMA = 3,
    MEMCACHED_BEHAVIOR_SOCKET_SEND_SIZE = 4,
    MEMCACHED_BEHAVIOR_SOCKET_RECV_SIZE = 5,
    MEMCACHED_BEHAVIOR_CACHE_LOOKUPS = 6,
    MEMCACHED_BEHAVIOR_SUPPORT_CAS = 7,
    MEMCACHED_BEHAVIOR_POLL_TIMEOUT = 8,
    MEMCACHED_BEHAVIOR_DISTRIBUTION = 9,
    MEMCACHED_BEHAVIOR_BUFFER_REQUESTS = 10,
    MEMCACHED_BEHAVIOR_USER_DATA = 11,
    MEMCACHED_BEHAVIOR_SORT_HOSTS = 12,
    MEMCACHED_BEHAVIOR_VERIFY_KEY = 13,
    MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT = 14,
    MEMCACHED_BEHAVIOR_RETRY_TIMEOUT = 15,
    MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED = 16,
    MEMCACHED_BEHAVIOR_KETAMA_HASH = 17,
    MEMCACHED_BEHAVIOR_BINARY_PROTOCOL = 18,
    MEMCACHED_BEHAVIOR_SND_TIMEOUT = 19,
    MEMCACHED_BEHAVIOR_RCV_TIMEOUT = 20,
    MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT = 21,
    MEMCACHED_BEHAVIOR_IO_MSG_WATERMARK = 22,
    MEMCACHED_BEHAVIOR_IO_BYTES_WATERMARK = 23,
    MEMCACHED_BEHAVIOR_IO_KEY_PREFETCH = 24,
    MEMCACHED_BEHAVIOR_HASH_WITH_PREFIX_KEY = 25,
    MEMCACHED_BEHAVIOR_NOREPLY = 26,
    MEMCACHED_BEHAVIOR_USE_UDP = 27,
    MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS = 28,
    MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS = 29,
    MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ = 30,
    MEMCACHED_BEHAVIOR_CORK = 31,
    MEMCACHED_BEHAVIOR_TCP_KEEPALIVE = 32,
    MEMCACHED_BEHAVIOR_TCP_KEEPIDLE = 33,
    MEMCACHED_BEHAVIOR_LOAD_FROM_FILE = 34,
    MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS = 35,
    MEMCACHED_BEHAVIOR_DEAD_TIMEOUT = 36,
    MEMCACHED_BEHAVIOR_SERVER_TIMEOUT_LIMIT = 37,
    MEMCACHED_BEHAVIOR_MAX = 38,
}

/// A `memcached_behavior_t` as received from C.
pub type memcached_behavior_raw = c_int;

/// `memcached_server_distribution_t`: how keys are mapped to servers.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum memcached_server_distribution_t {
    MEMCACHED_DISTRIBUTION_MODULA = 0,
    MEMCACHED_DISTRIBUTION_CONSISTENT = 1,
    MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA = 2,
    MEMCACHED_DISTRIBUTION_RANDOM = 3,
    MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA_SPY = 4,
    MEMCACHED_DISTRIBUTION_CONSISTENT_WEIGHTED = 5,
    MEMCACHED_DISTRIBUTION_VIRTUAL_BUCKET = 6,
    MEMCACHED_DISTRIBUTION_CONSISTENT_MAX = 7,
}

/// A `memcached_server_distribution_t` as received from C.
pub type memcached_server_distribution_raw = c_int;

/// `memcached_hash_t`: the key hash functions.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum memcached_hash_t {
    MEMCACHED_HASH_DEFAULT = 0,
    MEMCACHED_HASH_MD5 = 1,
    MEMCACHED_HASH_CRC = 2,
    MEMCACHED_HASH_FNV1_64 = 3,
    MEMCACHED_HASH_FNV1A_64 = 4,
    MEMCACHED_HASH_FNV1_32 = 5,
    MEMCACHED_HASH_FNV1A_32 = 6,
    MEMCACHED_HASH_HSIEH = 7,
    MEMCACHED_HASH_MURMUR = 8,
    MEMCACHED_HASH_JENKINS = 9,
    MEMCACHED_HASH_MURMUR3 = 10,
    MEMCACHED_HASH_CUSTOM = 11,
    MEMCACHED_HASH_MAX = 12,
}

/// A `memcached_hash_t` as received from C.
pub type memcached_hash_raw = c_int;

/// `memcached_callback_t`: the slots of `memcached_callback_set` / `_get`.
/// `MEMCACHED_CALLBACK_NAMESPACE` is an alias of `MEMCACHED_CALLBACK_PREFIX_KEY`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum memcached_callback_t {
    MEMCACHED_CALLBACK_PREFIX_KEY = 0,
    MEMCACHED_CALLBACK_USER_DATA = 1,
    MEMCACHED_CALLBACK_CLEANUP_FUNCTION = 2,
    MEMCACHED_CALLBACK_CLONE_FUNCTION = 3,
    MEMCACHED_CALLBACK_GET_FAILURE = 7,
    MEMCACHED_CALLBACK_DELETE_TRIGGER = 8,
    MEMCACHED_CALLBACK_MAX = 9,
}

/// A `memcached_callback_t` as received from C.
pub type memcached_callback_raw = c_int;

/// `memcached_connection_t`: the transport of a server.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum memcached_connection_t {
    MEMCACHED_CONNECTION_TCP = 0,
    MEMCACHED_CONNECTION_UDP = 1,
    MEMCACHED_CONNECTION_UNIX_SOCKET = 2,
}

/// `memcached_server_state_t`: the connection state of a server.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum memcached_server_state_t {
    MEMCACHED_SERVER_STATE_NEW = 0,
    MEMCACHED_SERVER_STATE_ADDRINFO = 1,
    MEMCACHED_SERVER_STATE_IN_PROGRESS = 2,
    MEMCACHED_SERVER_STATE_CONNECTED = 3,
    MEMCACHED_SERVER_STATE_IN_TIMEOUT = 4,
    MEMCACHED_SERVER_STATE_DISABLED = 5,
}

/// `hashkit_return_t`: result codes of the hashkit functions.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum hashkit_return_t {
    HASHKIT_SUCCESS = 0,
    HASHKIT_FAILURE = 1,
    HASHKIT_MEMORY_ALLOCATION_FAILURE = 2,
    HASHKIT_INVALID_HASH = 3,
    HASHKIT_INVALID_ARGUMENT = 4,
    HASHKIT_MAXIMUM_RETURN = 5,
}

/// `hashkit_hash_algorithm_t`: the same numbering as `memcached_hash_t`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum hashkit_hash_algorithm_t {
    HASHKIT_HASH_DEFAULT = 0,
    HASHKIT_HASH_MD5 = 1,
    HASHKIT_HASH_CRC = 2,
    HASHKIT_HASH_FNV1_64 = 3,
    HASHKIT_HASH_FNV1A_64 = 4,
    HASHKIT_HASH_FNV1_32 = 5,
    HASHKIT_HASH_FNV1A_32 = 6,
    HASHKIT_HASH_HSIEH = 7,
    HASHKIT_HASH_MURMUR = 8,
    HASHKIT_HASH_JENKINS = 9,
    HASHKIT_HASH_MURMUR3 = 10,
    HASHKIT_HASH_CUSTOM = 11,
    HASHKIT_HASH_MAX = 12,
}

/// `hashkit_distribution_t`.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum hashkit_distribution_t {
    HASHKIT_DISTRIBUTION_MODULA = 0,
    HASHKIT_DISTRIBUTION_RANDOM = 1,
    HASHKIT_DISTRIBUTION_KETAMA = 2,
    HASHKIT_DISTRIBUTION_MAX = 3,
}

/// `hashkit_hash_fn`: a key hash function with its context pointer.
pub type hashkit_hash_fn = Option<
    unsafe extern "C" fn(key: *const c_char, key_length: size_t, context: *mut c_void) -> u32,
>;

/// One hash function slot of a `hashkit_st`.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct hashkit_function_st {
    pub function: hashkit_hash_fn,
    pub context: *mut c_void,
}

/// `hashkit_st` (48 bytes): a key hash and a distribution hash.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct hashkit_st {
    pub base_hash: hashkit_function_st,
    pub distribution_hash: hashkit_function_st,
    /// Bit 0: `is_base_same_distributed`.
    pub flags: u8,
    /// Bit 0: `is_allocated`.
    pub options: u8,
    pub _key: *mut c_void,
}

/// Opaque: a server of a handle, as returned by `memcached_server_instance_by_position`.
/// Pointers stay valid until the handle's server list changes or the handle is freed.
pub use crate::server::memcached_instance_st;

/// `memcached_st` (696 bytes): libmemcached 1.1.4's handle, field for field at the same offsets.
///
/// Callers may place it in their own storage and pass that to `memcached_create`. This library
/// keeps its state behind `private_state` (where libmemcached keeps its SASL settings) and
/// mirrors the scalar fields and the `flags` bits after every change, because programs built
/// from libmemcached's source tree (such as `memcslap`) read bits like `flags.binary_protocol`
/// directly. `servers`, `result`, `ketama`, `error_messages`, `_namespace` and `configure`
/// are not used and stay zero.
#[repr(C)]
pub struct memcached_st {
    /// libmemcached's `state` bits; always zero here.
    pub state: u8,
    /// libmemcached's `flags` bits as a little-endian 16-bit group: bit 0 auto_eject_hosts,
    /// 1 binary_protocol, 2 buffer_requests, 3 hash_with_namespace, 4 no_block, 5 reply,
    /// 6 randomize_replica_read, 7 support_cas, 8 tcp_nodelay, 9 use_sort_hosts, 10 use_udp,
    /// 11 verify_key, 12 tcp_keepalive.
    pub flags: [u8; 2],
    pub distribution: memcached_server_distribution_t,
    pub hashkit: hashkit_st,
    pub server_info: u32,
    pub number_of_hosts: u32,
    pub servers: *mut c_void,
    pub last_disconnected_server: *mut c_void,
    pub snd_timeout: i32,
    pub rcv_timeout: i32,
    pub server_failure_limit: u32,
    pub server_timeout_limit: u32,
    pub io_msg_watermark: u32,
    pub io_bytes_watermark: u32,
    pub io_key_prefetch: u32,
    pub tcp_keepidle: u32,
    pub poll_timeout: i32,
    pub connect_timeout: i32,
    pub retry_timeout: i32,
    pub dead_timeout: i32,
    pub send_size: c_int,
    pub recv_size: c_int,
    pub user_data: *mut c_void,
    pub query_id: u64,
    pub number_of_replicas: u32,
    pub result: memcached_result_st,
    pub ketama: [u64; 4],
    pub virtual_bucket: *mut c_void,
    pub allocators: memcached_allocator_t,
    pub on_clone: memcached_clone_fn,
    pub on_cleanup: memcached_cleanup_fn,
    pub get_key_failure: memcached_trigger_key_fn,
    pub delete_trigger: memcached_trigger_delete_key_fn,
    pub callbacks: *mut c_void,
    /// This library's state: a pointer and a tag (libmemcached's `sasl` group).
    pub private_state: [u64; 2],
    pub error_messages: *mut c_void,
    pub _namespace: *mut c_void,
    pub configure: [u64; 3],
    /// Bit 0: the struct itself was allocated by the library.
    pub options: u8,
    pub private_reserved: [u8; 7],
}

/// `struct memcached_allocator_t` (40 bytes): the memory functions of a handle.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct memcached_allocator_t {
    pub calloc: memcached_calloc_fn,
    pub free: memcached_free_fn,
    pub malloc: memcached_malloc_fn,
    pub realloc: memcached_realloc_fn,
    pub context: *mut c_void,
}

/// `memcached_string_st` (40 bytes): a growable byte buffer owned by a result.
#[repr(C)]
pub struct memcached_string_st {
    pub end: *mut c_char,
    pub string: *mut c_char,
    pub current_size: size_t,
    pub root: *mut memcached_st,
    /// Bit 0: `is_allocated`, bit 1: `is_initialized`.
    pub options: u8,
}

/// `memcached_result_st` (352 bytes): one fetched item.
#[repr(C)]
pub struct memcached_result_st {
    pub item_flags: u32,
    pub item_expiration: time_t,
    pub key_length: size_t,
    pub item_cas: u64,
    pub root: *mut memcached_st,
    pub value: memcached_string_st,
    pub numeric_value: u64,
    pub count: u64,
    pub item_key: [c_char; 251],
    /// Bit 0: `is_allocated` (the library allocated the struct), bit 1: `is_initialized`.
    pub options: u8,
}

/// `io_wait_count` of a `memcached_server_st`.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct memcached_server_io_wait_count {
    pub read: u32,
    pub write: u32,
    pub timeouts: u32,
    pub _bytes_read: size_t,
}

/// `memcached_server_st` (1168 bytes): one element of a server list.
///
/// A server list (`memcached_server_list_st`) is a single `realloc` block of these elements;
/// element 0's `number_of_hosts` holds the element count.
#[repr(C)]
pub struct memcached_server_st {
    /// Bit 0: `is_allocated`, bit 1: `is_initialized`, bit 2: `is_shutting_down`,
    /// bit 3: `is_dead`.
    pub options: u8,
    pub number_of_hosts: u32,
    pub cursor_active: u32,
    pub port: in_port_t,
    pub io_bytes_sent: u32,
    pub request_id: u32,
    pub server_failure_counter: u32,
    pub server_failure_counter_query_id: u64,
    pub server_timeout_counter: u32,
    pub server_timeout_counter_query_id: u64,
    pub weight: u32,
    pub version: u32,
    pub state: memcached_server_state_t,
    pub io_wait_count: memcached_server_io_wait_count,
    pub major_version: u8,
    pub micro_version: u8,
    pub minor_version: u8,
    pub r#type: memcached_connection_t,
    pub next_retry: time_t,
    pub root: *mut memcached_st,
    pub limit_maxbytes: u64,
    pub error_messages: *mut c_void,
    pub hostname: [c_char; 1025],
}

/// `memcached_server_list_st`: a server list (see `memcached_server_st`).
pub type memcached_server_list_st = *mut memcached_server_st;

/// `memcached_stat_st` (224 bytes): the general statistics of one server.
#[repr(C)]
pub struct memcached_stat_st {
    pub connection_structures: c_ulong,
    pub curr_connections: c_ulong,
    pub curr_items: c_ulong,
    pub pid: pid_t,
    pub pointer_size: c_ulong,
    pub rusage_system_microseconds: c_ulong,
    pub rusage_system_seconds: c_ulong,
    pub rusage_user_microseconds: c_ulong,
    pub rusage_user_seconds: c_ulong,
    pub threads: c_ulong,
    pub time: c_ulong,
    pub total_connections: c_ulong,
    pub total_items: c_ulong,
    pub uptime: c_ulong,
    pub bytes: c_ulonglong,
    pub bytes_read: c_ulonglong,
    pub bytes_written: c_ulonglong,
    pub cmd_get: c_ulonglong,
    pub cmd_set: c_ulonglong,
    pub evictions: c_ulonglong,
    pub get_hits: c_ulonglong,
    pub get_misses: c_ulonglong,
    pub limit_maxbytes: c_ulonglong,
    pub version: [c_char; 24],
    pub __future: *mut c_void,
    pub root: *mut memcached_st,
}

/// `memcached_analysis_st` (56 bytes): the summary made by `memcached_analyze`.
#[repr(C)]
pub struct memcached_analysis_st {
    pub root: *mut memcached_st,
    pub average_item_size: u32,
    pub longest_uptime: u32,
    pub least_free_server: u32,
    pub most_consumed_server: u32,
    pub oldest_server: u32,
    pub pool_hit_ratio: f64,
    pub most_used_bytes: u64,
    pub least_remaining_bytes: u64,
}

/// `memcached_execute_fn`: called for each fetched result.
pub type memcached_execute_fn = Option<
    unsafe extern "C" fn(
        ptr: *const memcached_st,
        result: *mut memcached_result_st,
        context: *mut c_void,
    ) -> memcached_return_raw,
>;

/// `memcached_server_fn`: called for each server by `memcached_server_cursor`.
pub type memcached_server_fn = Option<
    unsafe extern "C" fn(
        ptr: *const memcached_st,
        server: *const memcached_instance_st,
        context: *mut c_void,
    ) -> memcached_return_raw,
>;

/// `memcached_stat_fn`: called for each statistic by `memcached_stat_execute`.
pub type memcached_stat_fn = Option<
    unsafe extern "C" fn(
        server: *const memcached_instance_st,
        key: *const c_char,
        key_length: size_t,
        value: *const c_char,
        value_length: size_t,
        context: *mut c_void,
    ) -> memcached_return_raw,
>;

/// `memcached_clone_fn`: called at the end of `memcached_clone`.
pub type memcached_clone_fn = Option<
    unsafe extern "C" fn(
        destination: *mut memcached_st,
        source: *const memcached_st,
    ) -> memcached_return_raw,
>;

/// `memcached_cleanup_fn`: called by `memcached_free`.
pub type memcached_cleanup_fn =
    Option<unsafe extern "C" fn(ptr: *const memcached_st) -> memcached_return_raw>;

/// `memcached_trigger_key_fn`: the read-through callback of `MEMCACHED_CALLBACK_GET_FAILURE`.
pub type memcached_trigger_key_fn = Option<
    unsafe extern "C" fn(
        ptr: *const memcached_st,
        key: *const c_char,
        key_length: size_t,
        result: *mut memcached_result_st,
    ) -> memcached_return_raw,
>;

/// `memcached_trigger_delete_key_fn`: called after a successful delete.
pub type memcached_trigger_delete_key_fn = Option<
    unsafe extern "C" fn(
        ptr: *const memcached_st,
        key: *const c_char,
        key_length: size_t,
    ) -> memcached_return_raw,
>;

/// `memcached_dump_fn`: called for each key found by `memcached_dump`.
pub type memcached_dump_fn = Option<
    unsafe extern "C" fn(
        ptr: *const memcached_st,
        key: *const c_char,
        key_length: size_t,
        context: *mut c_void,
    ) -> memcached_return_raw,
>;

/// `memcached_malloc_fn`.
pub type memcached_malloc_fn = Option<
    unsafe extern "C" fn(
        ptr: *const memcached_st,
        size: size_t,
        context: *mut c_void,
    ) -> *mut c_void,
>;
/// `memcached_free_fn`.
pub type memcached_free_fn =
    Option<unsafe extern "C" fn(ptr: *const memcached_st, mem: *mut c_void, context: *mut c_void)>;
/// `memcached_realloc_fn`.
pub type memcached_realloc_fn = Option<
    unsafe extern "C" fn(
        ptr: *const memcached_st,
        mem: *mut c_void,
        size: size_t,
        context: *mut c_void,
    ) -> *mut c_void,
>;
/// `memcached_calloc_fn`.
pub type memcached_calloc_fn = Option<
    unsafe extern "C" fn(
        ptr: *const memcached_st,
        nelem: size_t,
        elsize: size_t,
        context: *mut c_void,
    ) -> *mut c_void,
>;

/// `memcached_socket_t`.
pub type memcached_socket_t = c_int;

/// Deprecated spellings kept by libmemcached 1.1 (`deprecated_types.h`).
pub type memcached_return = memcached_return_t;
pub type memcached_server_distribution = memcached_server_distribution_t;
pub type memcached_behavior = memcached_behavior_t;
pub type memcached_callback = memcached_callback_t;
pub type memcached_hash = memcached_hash_t;
pub type memcached_connection = memcached_connection_t;
pub type memcached_clone_func = memcached_clone_fn;
pub type memcached_cleanup_func = memcached_cleanup_fn;
pub type memcached_execute_function = memcached_execute_fn;
pub type memcached_server_function = memcached_server_fn;
pub type memcached_trigger_key = memcached_trigger_key_fn;
pub type memcached_trigger_delete_key = memcached_trigger_delete_key_fn;
pub type memcached_dump_func = memcached_dump_fn;
pub type memcached_server_instance_st = *mut memcached_instance_st;

// Layout checks against the sizes of libmemcached 1.1.4 on x86_64 (LP64).
const _: () = assert!(core::mem::size_of::<memcached_st>() == 696);
const _: () = assert!(core::mem::size_of::<memcached_result_st>() == 352);
const _: () = assert!(core::mem::size_of::<memcached_server_st>() == 1168);
const _: () = assert!(core::mem::size_of::<memcached_stat_st>() == 224);
const _: () = assert!(core::mem::size_of::<memcached_analysis_st>() == 56);
const _: () = assert!(core::mem::size_of::<hashkit_st>() == 48);
const _: () = assert!(core::mem::size_of::<memcached_string_st>() == 40);
const _: () = assert!(core::mem::size_of::<memcached_return_t>() == 4);
const _: () = assert!(core::mem::offset_of!(memcached_st, options) == 688);
const _: () = assert!(core::mem::offset_of!(memcached_st, flags) == 1);
const _: () = assert!(core::mem::offset_of!(memcached_st, distribution) == 4);
const _: () = assert!(core::mem::offset_of!(memcached_st, number_of_hosts) == 60);
const _: () = assert!(core::mem::offset_of!(memcached_st, poll_timeout) == 112);
const _: () = assert!(core::mem::offset_of!(memcached_st, user_data) == 136);
const _: () = assert!(core::mem::offset_of!(memcached_st, query_id) == 144);
const _: () = assert!(core::mem::offset_of!(memcached_st, result) == 160);
const _: () = assert!(core::mem::offset_of!(memcached_st, allocators) == 552);
const _: () = assert!(core::mem::offset_of!(memcached_st, private_state) == 632);
const _: () = assert!(core::mem::size_of::<memcached_allocator_t>() == 40);
const _: () = assert!(core::mem::offset_of!(memcached_result_st, options) == 347);
const _: () = assert!(core::mem::offset_of!(memcached_server_st, hostname) == 136);
const _: () = assert!(core::mem::offset_of!(memcached_server_st, weight) == 56);
const _: () = assert!(core::mem::offset_of!(memcached_server_st, r#type) == 100);
const _: () = assert!(core::mem::offset_of!(memcached_stat_st, version) == 184);
const _: () = assert!(core::mem::offset_of!(memcached_stat_st, root) == 216);
