//! libmemcached-rs: a memory-safe replacement for libmemcached 1.1.4 with the same C ABI.
//!
//! Module map: `ffi` is the C surface (thin exports, one file per header area); `handle` holds
//! the state behind a `memcached_st`; `ops` runs requests; `conn` owns sockets and timeouts;
//! `protocol` encodes and parses the text and binary protocols; `dist` maps keys to servers
//! bit-exactly like libhashkit; `parse` reads server list strings.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod alloc;
pub mod analyze;
pub mod config;
pub mod conn;
pub mod dist;
pub mod dump;
pub mod encoding;
pub mod error;
pub mod ffi;
pub mod handle;
pub mod ops;
pub mod parse;
pub mod protocol;
pub mod result;
pub mod sasl_compat;
pub mod server;
