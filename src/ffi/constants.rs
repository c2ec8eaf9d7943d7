//! Macros of libmemcached 1.1.4's `configure.h`, `limits.h` and `defaults.h`, emitted into the
//! header as `#define`s by cbindgen. The string-valued ones are in cbindgen.toml's
//! `after_includes`, because cbindgen emits no string constants.

/// Three hex digits per version part; ProFTPD selects code paths with it.
pub const LIBMEMCACHED_VERSION_HEX: u32 = 0x001001004;
pub const LIBMEMCACHED_AWESOME: u32 = 1;
pub const LIBMEMCACHED_ENABLE_DEPRECATED: u32 = 0;
/// 0: the header needs no `<sasl/sasl.h>`; SASL PLAIN is built in and needs no libsasl2.
pub const LIBMEMCACHED_WITH_SASL_SUPPORT: u32 = 0;
pub const LIBHASHKIT_VERSION_HEX: u32 = 0x00100100;

pub const MEMCACHED_MAX_BUFFER: u32 = 8196;
/// 250 usable key bytes plus a NUL.
pub const MEMCACHED_MAX_KEY: u32 = 251;
pub const MEMCACHED_MAX_NAMESPACE: u32 = 128;
pub const MEMCACHED_PREFIX_KEY_MAX_SIZE: u32 = 128;
pub const MEMCACHED_MAX_HOST_SORT_LENGTH: u32 = 86;
pub const MEMCACHED_MAX_INTEGER_DISPLAY_LENGTH: u32 = 20;
pub const MEMCACHED_MAXIMUM_INTEGER_DISPLAY_LENGTH: u32 = 20;
pub const MEMCACHED_VERSION_STRING_LENGTH: u32 = 24;

pub const MEMCACHED_DEFAULT_PORT: u32 = 11211;
pub const MEMCACHED_POINTS_PER_SERVER: u32 = 100;
pub const MEMCACHED_POINTS_PER_SERVER_KETAMA: u32 = 160;
pub const MEMCACHED_CONTINUUM_SIZE: u32 = 10000;
pub const MEMCACHED_STRIDE: u32 = 4;
/// Default poll timeout in milliseconds.
pub const MEMCACHED_DEFAULT_TIMEOUT: u32 = 5000;
/// Default connect timeout in milliseconds.
pub const MEMCACHED_DEFAULT_CONNECT_TIMEOUT: u32 = 4000;
pub const MEMCACHED_CONTINUUM_ADDITION: u32 = 10;
pub const MEMCACHED_EXPIRATION_NOT_ADD: u32 = 0xffffffff;
pub const MEMCACHED_SERVER_FAILURE_LIMIT: u32 = 5;
/// Seconds.
pub const MEMCACHED_SERVER_FAILURE_RETRY_TIMEOUT: u32 = 2;
/// Seconds.
pub const MEMCACHED_SERVER_FAILURE_DEAD_TIMEOUT: u32 = 0;
pub const MEMCACHED_SERVER_TIMEOUT_LIMIT: u32 = 0;
pub const MEMCACHED_NI_MAXHOST: u32 = 1025;
pub const MEMCACHED_NI_MAXSERV: u32 = 32;
