//! Wire codecs for the memcached text and binary protocols, as libmemcached 1.1.4 speaks them.
//!
//! Everything here is pure: bytes in, typed replies out, encoders that append to the caller's
//! `Vec<u8>`. There are no sockets, no libc calls and no allocation other than growth of that
//! output vector. Parsers borrow from the input buffer and return an error instead of
//! panicking on malformed input (random-input tests check this), so the connection layer can
//! feed them whatever the socket produced so far.
//!
//! * [`key`]: key, namespace and `stats` argument validation.
//! * [`text`]: ASCII command encoders and the reply parser.
//! * [`binary`]: binary request headers, extras and the response parser.
//! * [`apply_stat`] and [`format_stat`]: the 22 general statistics of `memcached_stat_st`.

pub mod binary;
mod decimal;
pub mod key;
mod stats;
pub mod text;

pub use stats::{apply_stat, format_stat, STAT_NAMES};

/// Outcome of parsing one reply from the start of a receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<T> {
    /// A whole reply was found. `consumed` bytes belong to it and can be dropped from the
    /// buffer once the borrowed `reply` is no longer needed.
    Complete { reply: T, consumed: usize },
    /// The buffer ends before the reply does. `needed` is the total buffer length the reply
    /// requires, when a length field already announced it (a `VALUE` byte count or a binary
    /// body length). That figure comes from the server and is not a promise that the reply is
    /// sane, so the caller should check it against its own limits before reserving memory.
    Incomplete { needed: Option<usize> },
}

/// Reasons a receive buffer cannot contain a valid reply. After any of them the stream is out
/// of step and the connection should be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// A text reply line exceeds [`text::MAX_LINE_LEN`] bytes without a terminating CRLF.
    LineTooLong,
    /// The reply does not follow the protocol grammar, for example a missing field or a data
    /// block that is not followed by CRLF.
    Malformed,
    /// A binary response does not start with the response magic byte 0x81.
    BadMagic,
    /// A length field is inconsistent (binary extras plus key longer than the body) or too
    /// large to address on this platform.
    BadLength,
    /// A decimal number does not fit its field (flags in 32 bits, CAS or a counter in 64 bits).
    NumberOutOfRange,
}
