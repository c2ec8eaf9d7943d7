//! libmemcachedutil-rs: libmemcachedutil 1.1 (`libmemcachedutil.so.2`) in Rust.
//!
//! The utility library sits on top of libmemcached and uses only its public C API, declared
//! by hand in [`sys`], so it works with any `libmemcached.so.11`. It exports the fifteen
//! functions of libmemcachedutil 1.1.4 with their C signatures:
//!
//! - `ping.rs`: `libmemcached_util_ping`, `libmemcached_util_ping2`
//! - `flush.rs`: `libmemcached_util_flush`
//! - `pid.rs`: `libmemcached_util_getpid`, `libmemcached_util_getpid2`
//! - `version.rs`: `libmemcached_util_version_check`
//! - `pool.rs`: the `memcached_pool_*` connection pool, sized by `pool_options.rs`
//!
//! `handle.rs` owns the handles this library creates; `boundary.rs` keeps panics from
//! crossing into C. Nothing here writes to stdout or stderr.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
// The exports take raw pointers in safe `extern "C" fn`s on purpose: their callers are C
// programs, and each function documents its pointer contract under `# Safety`.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// C type names are spelled as in libmemcached's headers.
#![allow(non_camel_case_types)]

mod boundary;
mod handle;
mod pool_options;
/// cbindgen:ignore
mod sys;

pub mod flush;
pub mod pid;
pub mod ping;
pub mod pool;
pub mod version;
