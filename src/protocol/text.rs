//! The memcached text (ASCII) protocol: command encoders and the reply parser.
//!
//! The encoders write the exact bytes libmemcached 1.1.4 sends, including its quirks (the
//! trailing space of `flush_all \r\n` and `stats \r\n`). They do not validate keys: the caller
//! runs [`super::key::check_key`] first, which guarantees that a key cannot add a space or a
//! line break to the command. The namespace is glued in front of every key.

use super::decimal::{parse_u32, parse_u64, push_i64, push_u64};
use super::{Parsed, ProtocolError};
use crate::ffi::types::memcached_return_t;
use crate::ffi::types::memcached_return_t::*;

/// Longest reply line accepted, in bytes, not counting its CRLF. memcached's reply lines are
/// short (the longest carry a 250-byte key), so a longer line means the stream is out of step.
pub const MAX_LINE_LEN: usize = 8192;

const CRLF: &[u8] = b"\r\n";

/// The text storage commands. `Cas` is `set` guarded by a CAS value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageVerb {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    Cas,
}

impl StorageVerb {
    /// Returns the command name as sent on the wire.
    pub fn command(self) -> &'static [u8] {
        match self {
            StorageVerb::Set => b"set",
            StorageVerb::Add => b"add",
            StorageVerb::Replace => b"replace",
            StorageVerb::Append => b"append",
            StorageVerb::Prepend => b"prepend",
            StorageVerb::Cas => b"cas",
        }
    }
}

/// Appends a storage command line through its CRLF:
/// `<verb> <k> <flags> <exptime> <bytes>[ <cas>][ noreply]\r\n`.
///
/// `cas` is written only for [`StorageVerb::Cas`]. The caller sends the `value_len` data
/// bytes and a final CRLF after this line.
#[allow(clippy::too_many_arguments)]
pub fn encode_storage(
    out: &mut Vec<u8>,
    verb: StorageVerb,
    ns: &[u8],
    key: &[u8],
    flags: u32,
    exptime: i64,
    value_len: usize,
    cas: u64,
    noreply: bool,
) {
    out.extend_from_slice(verb.command());
    push_wire_key(out, ns, key);
    out.push(b' ');
    push_u64(out, u64::from(flags));
    out.push(b' ');
    push_i64(out, exptime);
    out.push(b' ');
    // usize is at most 64 bits on every supported target.
    push_u64(out, value_len as u64);
    if verb == StorageVerb::Cas {
        out.push(b' ');
        push_u64(out, cas);
    }
    push_noreply(out, noreply);
    out.extend_from_slice(CRLF);
}

/// Appends `get <k1> <k2> ...\r\n`, or `gets ...` when `gets` is set (CAS values wanted).
/// `keys` must not be empty, because memcached answers a bare `get` with `ERROR`.
pub fn encode_get(out: &mut Vec<u8>, gets: bool, ns: &[u8], keys: &[&[u8]]) {
    let key_bytes: usize = keys.iter().map(|key| 1 + ns.len() + key.len()).sum();
    out.reserve(4 + key_bytes + CRLF.len());
    out.extend_from_slice(if gets { b"gets" } else { b"get" });
    for key in keys {
        push_wire_key(out, ns, key);
    }
    out.extend_from_slice(CRLF);
}

/// Appends `incr <k> <delta>[ noreply]\r\n` or the `decr` form.
pub fn encode_incr_decr(
    out: &mut Vec<u8>,
    incr: bool,
    ns: &[u8],
    key: &[u8],
    delta: u64,
    noreply: bool,
) {
    out.extend_from_slice(if incr { b"incr" } else { b"decr" });
    push_wire_key(out, ns, key);
    out.push(b' ');
    push_u64(out, delta);
    push_noreply(out, noreply);
    out.extend_from_slice(CRLF);
}

/// Appends `delete <k>[ noreply]\r\n`.
pub fn encode_delete(out: &mut Vec<u8>, ns: &[u8], key: &[u8], noreply: bool) {
    out.extend_from_slice(b"delete");
    push_wire_key(out, ns, key);
    push_noreply(out, noreply);
    out.extend_from_slice(CRLF);
}

/// Appends `touch <k> <exptime>\r\n`. libmemcached never sends touch with `noreply`.
pub fn encode_touch(out: &mut Vec<u8>, ns: &[u8], key: &[u8], exptime: i64) {
    out.extend_from_slice(b"touch");
    push_wire_key(out, ns, key);
    out.push(b' ');
    push_i64(out, exptime);
    out.extend_from_slice(CRLF);
}

/// Appends `flush_all <exptime>\r\n`, where an `exptime` of 0 is left out but its separating
/// space is kept (`flush_all \r\n`, and `flush_all  noreply\r\n` with two spaces), byte for
/// byte what libmemcached sends. memcached accepts both forms.
pub fn encode_flush(out: &mut Vec<u8>, exptime: i64, noreply: bool) {
    out.extend_from_slice(b"flush_all ");
    if exptime != 0 {
        push_i64(out, exptime);
    }
    push_noreply(out, noreply);
    out.extend_from_slice(CRLF);
}

/// Appends `stats <args>\r\n`, or `stats \r\n` (with the trailing space) for the general
/// statistics. The caller validates `args` with [`super::key::check_stat_args`].
pub fn encode_stats(out: &mut Vec<u8>, args: Option<&[u8]>) {
    out.extend_from_slice(b"stats ");
    if let Some(args) = args {
        out.extend_from_slice(args);
    }
    out.extend_from_slice(CRLF);
}

/// Appends `version\r\n`.
pub fn encode_version(out: &mut Vec<u8>) {
    out.extend_from_slice(b"version\r\n");
}

/// Appends `quit\r\n`.
pub fn encode_quit(out: &mut Vec<u8>) {
    out.extend_from_slice(b"quit\r\n");
}

/// Appends `verbosity <level>[ noreply]\r\n`.
pub fn encode_verbosity(out: &mut Vec<u8>, level: u32, noreply: bool) {
    out.extend_from_slice(b"verbosity ");
    push_u64(out, u64::from(level));
    push_noreply(out, noreply);
    out.extend_from_slice(CRLF);
}

/// Appends a space and then the key as the server sees it: namespace followed by key.
fn push_wire_key(out: &mut Vec<u8>, ns: &[u8], key: &[u8]) {
    out.push(b' ');
    out.extend_from_slice(ns);
    out.extend_from_slice(key);
}

fn push_noreply(out: &mut Vec<u8>, noreply: bool) {
    if noreply {
        out.extend_from_slice(b" noreply");
    }
}

/// One server reply, borrowing from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextReply<'a> {
    /// `VALUE <key> <flags> <bytes>[ <cas>]` and its data block. `key` is the wire key, with
    /// the namespace still in front. `cas` is present only in replies to `gets`.
    Value {
        key: &'a [u8],
        flags: u32,
        cas: Option<u64>,
        data: &'a [u8],
    },
    End,
    Stored,
    NotStored,
    Exists,
    NotFound,
    Deleted,
    Touched,
    Ok,
    /// `ERROR`: the server did not recognise the command.
    Error,
    /// `CLIENT_ERROR <message>`, with the message (possibly empty).
    ClientError(&'a [u8]),
    /// `SERVER_ERROR <message>`, with the message (possibly empty).
    ServerError(&'a [u8]),
    /// The result of `incr` or `decr`.
    Number(u64),
    /// `STAT <name> <value>`, where the value is the rest of the line and may contain spaces.
    Stat {
        name: &'a [u8],
        value: &'a [u8],
    },
    /// `VERSION <version>`, with the version text.
    Version(&'a [u8]),
    /// Any other line, without its CRLF (for example `ITEM` lines of `stats cachedump`).
    Other(&'a [u8]),
}

/// Parses the reply at the start of `buf`.
///
/// Lines must end in CRLF. A `VALUE` reply is complete only when its whole data block and the
/// CRLF after it are in `buf`; the data is located by the byte count, so it may contain any
/// bytes, CRLF and `END` included. Until then the result is
/// `Incomplete { needed: Some(total) }` with the total length the header announces. `total`
/// is not checked against any limit, so the caller must refuse claims it cannot hold instead
/// of reserving them. Other lines give `Incomplete { needed: None }` until their CRLF arrives.
///
/// # Errors
/// * `LineTooLong`: no CRLF within the first [`MAX_LINE_LEN`] + 2 bytes.
/// * `Malformed`: a `VALUE` or `STAT` line with missing or extra fields, a non-decimal
///   number, or a data block not followed by CRLF.
/// * `NumberOutOfRange`: `VALUE` flags above `u32::MAX`, or a CAS or `incr`/`decr` result
///   above `u64::MAX`.
/// * `BadLength`: a `VALUE` byte count whose total reply length overflows `usize`.
pub fn parse_reply(buf: &[u8]) -> Result<Parsed<TextReply<'_>>, ProtocolError> {
    if let Some(parsed) = parse_value_fast_path(buf) {
        return Ok(parsed);
    }
    parse_reply_general(buf)
}

/// Parses, in one pass, a complete `VALUE` reply in the form memcached sends it:
/// `VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n` with single spaces and no key byte at or
/// below space. Returns None for anything else, incomplete replies included, so that
/// `parse_reply_general` handles them. For what this accepts, both give the same result.
#[inline]
fn parse_value_fast_path(buf: &[u8]) -> Option<Parsed<TextReply<'_>>> {
    let fields = buf.strip_prefix(b"VALUE ")?;
    // The key ends at the first space. Any other byte at or below space (CR and LF among
    // them) leaves the reply to the general parser.
    let key_len = fields
        .iter()
        .take(super::key::MAX_KEY_LEN + 1)
        .position(|&byte| byte <= b' ')?;
    if key_len == 0 || fields[key_len] != b' ' {
        return None;
    }
    let key = &fields[..key_len];

    let (flags, next) = fast_path_number(fields, key_len + 1)?;
    let flags = u32::try_from(flags).ok()?;
    if fields.get(next) != Some(&b' ') {
        return None;
    }
    let (byte_count, mut at) = fast_path_number(fields, next + 1)?;
    let cas = if fields.get(at) == Some(&b' ') {
        let (cas, next) = fast_path_number(fields, at + 1)?;
        at = next;
        Some(cas)
    } else {
        None
    };
    if fields.get(at..at + 2) != Some(CRLF) {
        return None;
    }

    let header_len = b"VALUE ".len() + at + CRLF.len();
    let data_end = header_len.checked_add(usize::try_from(byte_count).ok()?)?;
    let total = data_end.checked_add(CRLF.len())?;
    if buf.get(data_end..total) != Some(CRLF) {
        return None;
    }
    Some(Parsed::Complete {
        reply: TextReply::Value {
            key,
            flags,
            cas,
            data: &buf[header_len..data_end],
        },
        consumed: total,
    })
}

/// Parses the decimal number starting at `fields[at]` and returns it with the index after its
/// last digit. Returns None when there is no digit there or the number has more than 19 digits.
#[inline]
fn fast_path_number(fields: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    let mut end = at;
    while let Some(&byte) = fields.get(end) {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        // 19 digits always fit in a u64.
        if end - at == 19 {
            return None;
        }
        value = value * 10 + u64::from(digit);
        end += 1;
    }
    (end > at).then_some((value, end))
}

/// `parse_reply` for every reply, with no shortcut.
fn parse_reply_general(buf: &[u8]) -> Result<Parsed<TextReply<'_>>, ProtocolError> {
    let Some(line_len) = find_line_end(buf)? else {
        return Ok(Parsed::Incomplete { needed: None });
    };
    let line = &buf[..line_len];
    let header_len = line_len + CRLF.len();

    // A fixed-size comparison compiles to two integer compares instead of a memcmp call.
    if line.len() >= 6 && line[..6] == *b"VALUE " {
        return parse_value(buf, &line[6..], header_len);
    }
    let reply = classify_line(line)?;
    Ok(Parsed::Complete {
        reply,
        consumed: header_len,
    })
}

/// Returns the length of the first line of `buf` without its CRLF, or None while the CRLF
/// may still arrive.
fn find_line_end(buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
    let window = &buf[..buf.len().min(MAX_LINE_LEN + CRLF.len())];
    // Each '\n' is a candidate; a line ends at the first one preceded by '\r'.
    let mut from = 1;
    while from < window.len() {
        match memchr::memchr(b'\n', &window[from..]) {
            Some(offset) => {
                let newline = from + offset;
                if window[newline - 1] == b'\r' {
                    return Ok(Some(newline - 1));
                }
                from = newline + 1;
            }
            None => break,
        }
    }
    if window.len() == MAX_LINE_LEN + CRLF.len() {
        Err(ProtocolError::LineTooLong)
    } else {
        Ok(None)
    }
}

/// Splits a line into fields separated by one or more spaces.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    /// Returns the next field, found with memchr: for keys, which can be long.
    fn next_word(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|&byte| byte != b' ')?;
        let rest = &self.rest[start..];
        let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        self.rest = &rest[end..];
        Some(&rest[..end])
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|&byte| byte != b' ')?;
        let rest = &self.rest[start..];
        let end = rest
            .iter()
            .position(|&byte| byte == b' ')
            .unwrap_or(rest.len());
        self.rest = &rest[end..];
        Some(&rest[..end])
    }
}

/// Parses the fields after `VALUE ` and, when it has fully arrived, the data block.
fn parse_value<'a>(
    buf: &'a [u8],
    fields: &'a [u8],
    header_len: usize,
) -> Result<Parsed<TextReply<'a>>, ProtocolError> {
    let mut tokens = Fields { rest: fields };
    let key = tokens.next_word().ok_or(ProtocolError::Malformed)?;
    let flags = parse_u32(tokens.next().ok_or(ProtocolError::Malformed)?)?;
    let byte_count = tokens.next().ok_or(ProtocolError::Malformed)?;
    let byte_count = parse_u64(byte_count).map_err(|error| match error {
        ProtocolError::NumberOutOfRange => ProtocolError::BadLength,
        other => other,
    })?;
    let cas = tokens.next().map(parse_u64).transpose()?;
    if tokens.next().is_some() {
        return Err(ProtocolError::Malformed);
    }

    // The byte count comes from the server: add it up in u64 without trusting it.
    let total = u64::try_from(header_len)
        .ok()
        .and_then(|header| header.checked_add(byte_count))
        .and_then(|data_end| data_end.checked_add(CRLF.len() as u64))
        .and_then(|total| usize::try_from(total).ok())
        .ok_or(ProtocolError::BadLength)?;
    let data_end = total - CRLF.len();

    // Fail on a wrong terminator as soon as its first byte is visible.
    let terminator = buf.get(data_end..).unwrap_or_default();
    let terminator = &terminator[..terminator.len().min(CRLF.len())];
    if !CRLF.starts_with(terminator) {
        return Err(ProtocolError::Malformed);
    }
    if buf.len() < total {
        return Ok(Parsed::Incomplete {
            needed: Some(total),
        });
    }
    let reply = TextReply::Value {
        key,
        flags,
        cas,
        data: &buf[header_len..data_end],
    };
    Ok(Parsed::Complete {
        reply,
        consumed: total,
    })
}

/// Classifies a complete line other than `VALUE ...` by its first word. Status words match
/// when they are the whole first word, whatever follows it.
fn classify_line(line: &[u8]) -> Result<TextReply<'_>, ProtocolError> {
    let (word, rest) = match line.iter().position(|&byte| byte == b' ') {
        Some(space) => (&line[..space], &line[space + 1..]),
        None => (line, &line[line.len()..]),
    };
    let reply = match word {
        b"END" => TextReply::End,
        b"STORED" => TextReply::Stored,
        b"NOT_STORED" => TextReply::NotStored,
        b"EXISTS" => TextReply::Exists,
        b"NOT_FOUND" => TextReply::NotFound,
        b"DELETED" => TextReply::Deleted,
        b"TOUCHED" => TextReply::Touched,
        b"OK" => TextReply::Ok,
        b"ERROR" => TextReply::Error,
        b"CLIENT_ERROR" => TextReply::ClientError(rest),
        b"SERVER_ERROR" => TextReply::ServerError(rest),
        b"VERSION" => TextReply::Version(rest),
        b"STAT" => parse_stat(rest)?,
        b"VALUE" => return Err(ProtocolError::Malformed),
        _ if line.first().is_some_and(u8::is_ascii_digit) => parse_number(line)?,
        _ => TextReply::Other(line),
    };
    Ok(reply)
}

fn parse_stat(fields: &[u8]) -> Result<TextReply<'_>, ProtocolError> {
    let (name, value) = match fields.iter().position(|&byte| byte == b' ') {
        Some(space) => (&fields[..space], &fields[space + 1..]),
        None => (fields, &fields[fields.len()..]),
    };
    if name.is_empty() {
        return Err(ProtocolError::Malformed);
    }
    Ok(TextReply::Stat { name, value })
}

/// Parses an `incr`/`decr` result. memcached may pad a shrinking number with trailing
/// spaces instead of shortening it, so those are ignored.
fn parse_number(line: &[u8]) -> Result<TextReply<'_>, ProtocolError> {
    let digits_end = line
        .iter()
        .rposition(|&byte| byte != b' ')
        .map_or(0, |last| last + 1);
    parse_u64(&line[..digits_end]).map(TextReply::Number)
}

/// Maps a reply to the code libmemcached 1.1.4 reports for it.
///
/// | reply | code |
/// | --- | --- |
/// | `Value`, `Stored`, `Deleted`, `Touched`, `Ok`, `Number`, `Version` | `SUCCESS` |
/// | `End` | `END` |
/// | `Stat` | `STAT` |
/// | `NotStored` | `NOTSTORED` |
/// | `Exists` | `DATA_EXISTS` |
/// | `NotFound` | `NOTFOUND` |
/// | `Error` | `ERROR` |
/// | `ClientError` | `CLIENT_ERROR` |
/// | `ServerError` "object too large for cache" | `E2BIG` |
/// | `ServerError` "out of memory" / "Out of memory" | `SERVER_MEMORY_ALLOCATION_FAILURE` |
/// | any other `ServerError` | `SERVER_ERROR` |
/// | `Other` starting with `ITEM` | `ITEM` |
/// | any other `Other` | `UNKNOWN_READ_FAILURE` |
///
/// `Stored`, `Deleted` and `Touched` give `SUCCESS` because that is what libmemcached
/// returns to the caller of the storage, delete and touch calls. `End` and `Stat` are the
/// codes its fetch and stat loops stop or continue on. The server messages are matched by
/// prefix, so memcached 1.6's `out of memory storing object` counts as out of memory.
pub fn reply_code(reply: &TextReply) -> memcached_return_t {
    match reply {
        TextReply::Value { .. }
        | TextReply::Stored
        | TextReply::Deleted
        | TextReply::Touched
        | TextReply::Ok
        | TextReply::Number(_)
        | TextReply::Version(_) => MEMCACHED_SUCCESS,
        TextReply::End => MEMCACHED_END,
        TextReply::Stat { .. } => MEMCACHED_STAT,
        TextReply::NotStored => MEMCACHED_NOTSTORED,
        TextReply::Exists => MEMCACHED_DATA_EXISTS,
        TextReply::NotFound => MEMCACHED_NOTFOUND,
        TextReply::Error => MEMCACHED_ERROR,
        TextReply::ClientError(_) => MEMCACHED_CLIENT_ERROR,
        TextReply::ServerError(message) => server_error_code(message),
        TextReply::Other(line) if line.starts_with(b"ITEM") => MEMCACHED_ITEM,
        TextReply::Other(_) => MEMCACHED_UNKNOWN_READ_FAILURE,
    }
}

fn server_error_code(message: &[u8]) -> memcached_return_t {
    if message.starts_with(b"object too large for cache") {
        MEMCACHED_E2BIG
    } else if message.starts_with(b"out of memory") || message.starts_with(b"Out of memory") {
        MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE
    } else {
        MEMCACHED_SERVER_ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::key::{check_key, check_stat_args};

    fn encoded(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out);
        out
    }

    /// The VALUE fast path must give the general parser's result for every input, including
    /// the ones it declines: canonical replies, their prefixes and single-byte mutations.
    #[test]
    fn value_fast_path_matches_general() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seeds: [&[u8]; 8] = [
            b"VALUE k 0 1\r\nx\r\nEND\r\n",
            b"VALUE bench:v100:42 4294967295 5 18446744073709551615\r\nhello\r\n",
            b"VALUE a 1 0\r\n\r\n",
            b"VALUE key 007 3 9\r\n\r\nE\r\nEND\r\n",
            b"VALUE  k 0 1\r\nx\r\n",
            b"VALUE k 0 1 \r\nx\r\n",
            b"VALUE k 4294967296 1\r\nx\r\n",
            b"VALUE k 0 99999999999999999999\r\nx\r\n",
        ];
        let edge_bytes = b" \r\n0912aZ\x00\x7f\xff-";
        for seed in seeds {
            for len in 0..=seed.len() {
                let prefix = &seed[..len];
                assert_eq!(parse_reply(prefix), parse_reply_general(prefix), "{prefix:?}");
            }
            for _ in 0..4000 {
                let mut mutated = seed.to_vec();
                let position = (next() as usize) % mutated.len();
                mutated[position] = match next() % 3 {
                    0 => edge_bytes[(next() as usize) % edge_bytes.len()],
                    _ => next() as u8,
                };
                if next() % 4 == 0 {
                    let cut = (next() as usize) % (mutated.len() + 1);
                    mutated.truncate(cut);
                }
                assert_eq!(parse_reply(&mutated), parse_reply_general(&mutated), "{mutated:?}");
            }
        }
    }

    fn complete(buf: &[u8]) -> (TextReply<'_>, usize) {
        match parse_reply(buf) {
            Ok(Parsed::Complete { reply, consumed }) => (reply, consumed),
            other => panic!("expected a complete reply for {buf:?}, got {other:?}"),
        }
    }

    /// Asserts that every proper prefix of `buf` is incomplete and that a given `needed`
    /// never undershoots the full length.
    fn assert_prefixes_incomplete(buf: &[u8]) {
        for end in 0..buf.len() {
            match parse_reply(&buf[..end]) {
                Ok(Parsed::Incomplete { needed: None }) => {}
                Ok(Parsed::Incomplete { needed: Some(n) }) => {
                    assert!(n > end, "needed {n} for a {end}-byte prefix of {buf:?}");
                    assert!(n <= buf.len(), "needed {n} for {buf:?}");
                }
                other => panic!("prefix of {end} bytes of {buf:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn storage_commands_byte_exact() {
        let cases: [(StorageVerb, &[u8]); 5] = [
            (StorageVerb::Set, b"set ns:key 7 300 5\r\n"),
            (StorageVerb::Add, b"add ns:key 7 300 5\r\n"),
            (StorageVerb::Replace, b"replace ns:key 7 300 5\r\n"),
            (StorageVerb::Append, b"append ns:key 7 300 5\r\n"),
            (StorageVerb::Prepend, b"prepend ns:key 7 300 5\r\n"),
        ];
        for (verb, want) in cases {
            let line =
                encoded(|out| encode_storage(out, verb, b"ns:", b"key", 7, 300, 5, 99, false));
            assert_eq!(line, want, "{verb:?}");
        }
    }

    #[test]
    fn storage_noreply_and_cas() {
        let set = encoded(|out| {
            encode_storage(out, StorageVerb::Set, b"", b"k", 0, 0, 0, 0, true);
        });
        assert_eq!(set, b"set k 0 0 0 noreply\r\n");

        let cas = encoded(|out| {
            encode_storage(out, StorageVerb::Cas, b"ns:", b"k", 1, 2, 3, 12345, false);
        });
        assert_eq!(cas, b"cas ns:k 1 2 3 12345\r\n");

        let cas_noreply = encoded(|out| {
            encode_storage(out, StorageVerb::Cas, b"", b"k", 1, -1, 3, u64::MAX, true);
        });
        assert_eq!(
            cas_noreply,
            b"cas k 1 -1 3 18446744073709551615 noreply\r\n"
        );
    }

    #[test]
    fn storage_number_limits() {
        let line = encoded(|out| {
            encode_storage(
                out,
                StorageVerb::Set,
                b"",
                b"k",
                u32::MAX,
                i64::MIN,
                usize::MAX,
                0,
                false,
            );
        });
        let want = format!("set k 4294967295 -9223372036854775808 {}\r\n", usize::MAX);
        assert_eq!(line, want.as_bytes());
    }

    #[test]
    fn exist_probe_matches_libmemcached() {
        // memcached_exist sends an add of an empty value that expires in 31 days.
        let mut out = encoded(|out| {
            encode_storage(
                out,
                StorageVerb::Add,
                b"ns:",
                b"k",
                0,
                2_678_400,
                0,
                0,
                false,
            );
        });
        out.extend_from_slice(b"\r\n");
        assert_eq!(out, b"add ns:k 0 2678400 0\r\n\r\n");
    }

    #[test]
    fn get_commands_byte_exact() {
        assert_eq!(
            encoded(|out| encode_get(out, false, b"ns:", &[b"a"])),
            b"get ns:a\r\n"
        );
        assert_eq!(
            encoded(|out| encode_get(out, false, b"ns:", &[b"a", b"bb", b"c"])),
            b"get ns:a ns:bb ns:c\r\n"
        );
        assert_eq!(
            encoded(|out| encode_get(out, true, b"", &[b"a", b"b"])),
            b"gets a b\r\n"
        );
    }

    #[test]
    fn other_commands_byte_exact() {
        let cases: [(Vec<u8>, &[u8]); 16] = [
            (
                encoded(|o| encode_incr_decr(o, true, b"ns:", b"n", 5, false)),
                b"incr ns:n 5\r\n",
            ),
            (
                encoded(|o| encode_incr_decr(o, false, b"", b"n", u64::MAX, true)),
                b"decr n 18446744073709551615 noreply\r\n",
            ),
            (
                encoded(|o| encode_delete(o, b"ns:", b"k", false)),
                b"delete ns:k\r\n",
            ),
            (
                encoded(|o| encode_delete(o, b"", b"k", true)),
                b"delete k noreply\r\n",
            ),
            (
                encoded(|o| encode_touch(o, b"ns:", b"k", 60)),
                b"touch ns:k 60\r\n",
            ),
            (
                encoded(|o| encode_touch(o, b"", b"k", -1)),
                b"touch k -1\r\n",
            ),
            (encoded(|o| encode_flush(o, 0, false)), b"flush_all \r\n"),
            (
                encoded(|o| encode_flush(o, 0, true)),
                b"flush_all  noreply\r\n",
            ),
            (encoded(|o| encode_flush(o, 10, false)), b"flush_all 10\r\n"),
            (
                encoded(|o| encode_flush(o, 10, true)),
                b"flush_all 10 noreply\r\n",
            ),
            (encoded(|o| encode_stats(o, None)), b"stats \r\n"),
            (
                encoded(|o| encode_stats(o, Some(b"slabs"))),
                b"stats slabs\r\n",
            ),
            (encoded(encode_version), b"version\r\n"),
            (encoded(encode_quit), b"quit\r\n"),
            (
                encoded(|o| encode_verbosity(o, 1, false)),
                b"verbosity 1\r\n",
            ),
            (
                encoded(|o| encode_verbosity(o, 0, true)),
                b"verbosity 0 noreply\r\n",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want, "{}", String::from_utf8_lossy(want));
        }
    }

    #[test]
    fn encoders_append() {
        let mut out = b"quit\r\n".to_vec();
        encode_delete(&mut out, b"", b"k", false);
        assert_eq!(out, b"quit\r\ndelete k\r\n");
    }

    #[test]
    fn simple_replies() {
        let cases: [(&[u8], TextReply, memcached_return_t); 18] = [
            (b"END\r\n", TextReply::End, MEMCACHED_END),
            (b"STORED\r\n", TextReply::Stored, MEMCACHED_SUCCESS),
            (b"NOT_STORED\r\n", TextReply::NotStored, MEMCACHED_NOTSTORED),
            (b"EXISTS\r\n", TextReply::Exists, MEMCACHED_DATA_EXISTS),
            (b"NOT_FOUND\r\n", TextReply::NotFound, MEMCACHED_NOTFOUND),
            (b"DELETED\r\n", TextReply::Deleted, MEMCACHED_SUCCESS),
            (b"TOUCHED\r\n", TextReply::Touched, MEMCACHED_SUCCESS),
            (b"OK\r\n", TextReply::Ok, MEMCACHED_SUCCESS),
            (b"ERROR\r\n", TextReply::Error, MEMCACHED_ERROR),
            (
                b"ERROR unknown command\r\n",
                TextReply::Error,
                MEMCACHED_ERROR,
            ),
            (
                b"CLIENT_ERROR bad command line format\r\n",
                TextReply::ClientError(b"bad command line format"),
                MEMCACHED_CLIENT_ERROR,
            ),
            (
                b"CLIENT_ERROR\r\n",
                TextReply::ClientError(b""),
                MEMCACHED_CLIENT_ERROR,
            ),
            (
                b"SERVER_ERROR object too large for cache\r\n",
                TextReply::ServerError(b"object too large for cache"),
                MEMCACHED_E2BIG,
            ),
            (
                b"SERVER_ERROR out of memory storing object\r\n",
                TextReply::ServerError(b"out of memory storing object"),
                MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE,
            ),
            (
                b"SERVER_ERROR Out of memory\r\n",
                TextReply::ServerError(b"Out of memory"),
                MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE,
            ),
            (
                b"SERVER_ERROR busy\r\n",
                TextReply::ServerError(b"busy"),
                MEMCACHED_SERVER_ERROR,
            ),
            (
                b"VERSION 1.6.18\r\n",
                TextReply::Version(b"1.6.18"),
                MEMCACHED_SUCCESS,
            ),
            (
                b"STAT pid 4242\r\n",
                TextReply::Stat {
                    name: b"pid",
                    value: b"4242",
                },
                MEMCACHED_STAT,
            ),
        ];
        for (buf, want, code) in cases {
            let (reply, consumed) = complete(buf);
            assert_eq!(reply, want, "{}", String::from_utf8_lossy(buf));
            assert_eq!(consumed, buf.len());
            assert_eq!(reply_code(&reply), code, "{}", String::from_utf8_lossy(buf));
            assert_prefixes_incomplete(buf);
        }
    }

    #[test]
    fn unknown_replies() {
        let cases: [(&[u8], memcached_return_t); 5] = [
            (b"ITEM foo [5 b; 0 s]\r\n", MEMCACHED_ITEM),
            (b"\r\n", MEMCACHED_UNKNOWN_READ_FAILURE),
            (b"ENDX\r\n", MEMCACHED_UNKNOWN_READ_FAILURE),
            (b"end\r\n", MEMCACHED_UNKNOWN_READ_FAILURE),
            (b"\x00\xff junk\r\n", MEMCACHED_UNKNOWN_READ_FAILURE),
        ];
        for (buf, code) in cases {
            let (reply, consumed) = complete(buf);
            assert_eq!(reply, TextReply::Other(&buf[..buf.len() - 2]));
            assert_eq!(consumed, buf.len());
            assert_eq!(reply_code(&reply), code);
        }
    }

    #[test]
    fn stat_value_keeps_spaces() {
        let (reply, _) = complete(b"STAT ext_path /a b c\r\n");
        let want = TextReply::Stat {
            name: b"ext_path",
            value: b"/a b c",
        };
        assert_eq!(reply, want);
        let (reply, _) = complete(b"STAT empty\r\n");
        assert_eq!(
            reply,
            TextReply::Stat {
                name: b"empty",
                value: b""
            }
        );
        assert_eq!(parse_reply(b"STAT\r\n"), Err(ProtocolError::Malformed));
        assert_eq!(parse_reply(b"STAT  x\r\n"), Err(ProtocolError::Malformed));
    }

    #[test]
    fn version_without_text() {
        assert_eq!(complete(b"VERSION\r\n").0, TextReply::Version(b""));
    }

    #[test]
    fn number_replies() {
        assert_eq!(complete(b"0\r\n").0, TextReply::Number(0));
        assert_eq!(complete(b"42\r\n").0, TextReply::Number(42));
        assert_eq!(complete(b"9   \r\n").0, TextReply::Number(9));
        let max = complete(b"18446744073709551615\r\n").0;
        assert_eq!(max, TextReply::Number(u64::MAX));
        assert_eq!(reply_code(&max), MEMCACHED_SUCCESS);
        assert_eq!(
            parse_reply(b"18446744073709551616\r\n"),
            Err(ProtocolError::NumberOutOfRange)
        );
        assert_eq!(parse_reply(b"12abc\r\n"), Err(ProtocolError::Malformed));
        assert_eq!(parse_reply(b"1 2\r\n"), Err(ProtocolError::Malformed));
        assert_prefixes_incomplete(b"18446744073709551615\r\n");
    }

    #[test]
    fn value_reply() {
        let buf = b"VALUE ns:key 42 5\r\nhello\r\nEND\r\n";
        let (reply, consumed) = complete(buf);
        let want = TextReply::Value {
            key: b"ns:key",
            flags: 42,
            cas: None,
            data: b"hello",
        };
        assert_eq!(reply, want);
        assert_eq!(reply_code(&reply), MEMCACHED_SUCCESS);
        assert_eq!(consumed, buf.len() - b"END\r\n".len());
        assert_eq!(complete(&buf[consumed..]).0, TextReply::End);
    }

    #[test]
    fn value_reply_with_cas() {
        let buf = b"VALUE k 4294967295 3 18446744073709551615\r\nabc\r\n";
        let want = TextReply::Value {
            key: b"k",
            flags: u32::MAX,
            cas: Some(u64::MAX),
            data: b"abc",
        };
        assert_eq!(complete(buf), (want, buf.len()));
        assert_prefixes_incomplete(buf);
    }

    #[test]
    fn value_reply_empty_data() {
        let buf = b"VALUE k 0 0\r\n\r\n";
        let want = TextReply::Value {
            key: b"k",
            flags: 0,
            cas: None,
            data: b"",
        };
        assert_eq!(complete(buf), (want, buf.len()));
        assert_prefixes_incomplete(buf);
    }

    #[test]
    fn value_data_containing_end_marker() {
        let data = b"a\r\nEND\r\nVALUE x 0 1\r\nb";
        let mut buf = format!("VALUE k 1 {}\r\n", data.len()).into_bytes();
        buf.extend_from_slice(data);
        buf.extend_from_slice(b"\r\nEND\r\n");
        let (reply, consumed) = complete(&buf);
        let want = TextReply::Value {
            key: b"k",
            flags: 1,
            cas: None,
            data,
        };
        assert_eq!(reply, want);
        assert_eq!(&buf[consumed..], b"END\r\n");
        assert_prefixes_incomplete(&buf[..consumed]);
    }

    #[test]
    fn value_needed_reports_total() {
        assert_eq!(
            parse_reply(b"VALUE k 0 10\r\nabc"),
            Ok(Parsed::Incomplete {
                needed: Some(14 + 10 + 2)
            })
        );
    }

    #[test]
    fn value_huge_claims() {
        let four_gib = b"VALUE k 0 4294967296\r\n";
        assert_eq!(
            parse_reply(four_gib),
            Ok(Parsed::Incomplete {
                needed: Some(four_gib.len() + 4_294_967_296 + 2)
            })
        );
        assert_eq!(
            parse_reply(b"VALUE k 0 18446744073709551615\r\n"),
            Err(ProtocolError::BadLength)
        );
        assert_eq!(
            parse_reply(b"VALUE k 0 18446744073709551600\r\nxx"),
            Err(ProtocolError::BadLength)
        );
        assert_eq!(
            parse_reply(b"VALUE k 0 99999999999999999999999\r\n"),
            Err(ProtocolError::BadLength)
        );
    }

    #[test]
    fn value_bad_terminator() {
        assert_eq!(
            parse_reply(b"VALUE k 0 2\r\nabc\r\n"),
            Err(ProtocolError::Malformed)
        );
        assert_eq!(
            parse_reply(b"VALUE k 0 4\r\nabc\r\n"),
            Err(ProtocolError::Malformed)
        );
        assert_eq!(
            parse_reply(b"VALUE k 0 3\r\nabc\n\r"),
            Err(ProtocolError::Malformed)
        );
    }

    #[test]
    fn value_bad_headers() {
        let cases: [(&[u8], ProtocolError); 9] = [
            (b"VALUE\r\n", ProtocolError::Malformed),
            (b"VALUE \r\n", ProtocolError::Malformed),
            (b"VALUE k\r\n", ProtocolError::Malformed),
            (b"VALUE k 0\r\n", ProtocolError::Malformed),
            (b"VALUE k x 1\r\n", ProtocolError::Malformed),
            (b"VALUE k 0 -1\r\n", ProtocolError::Malformed),
            (b"VALUE k 0 1 2 3\r\n", ProtocolError::Malformed),
            (b"VALUE k 4294967296 1\r\n", ProtocolError::NumberOutOfRange),
            (
                b"VALUE k 0 1 18446744073709551616\r\n",
                ProtocolError::NumberOutOfRange,
            ),
        ];
        for (buf, error) in cases {
            assert_eq!(
                parse_reply(buf),
                Err(error),
                "{}",
                String::from_utf8_lossy(buf)
            );
        }
    }

    #[test]
    fn consumes_one_reply_at_a_time() {
        let stream = b"STAT a 1\r\nSTAT b 2\r\nEND\r\n";
        let mut rest = &stream[..];
        let mut replies = Vec::new();
        while !rest.is_empty() {
            let (reply, consumed) = complete(rest);
            replies.push(reply);
            rest = &rest[consumed..];
        }
        assert_eq!(replies.len(), 3);
        assert_eq!(
            replies[1],
            TextReply::Stat {
                name: b"b",
                value: b"2"
            }
        );
        assert_eq!(replies[2], TextReply::End);
    }

    #[test]
    fn bare_line_feed_is_not_a_terminator() {
        assert_eq!(
            parse_reply(b"STORED\n"),
            Ok(Parsed::Incomplete { needed: None })
        );
        assert_eq!(
            parse_reply(b"STORED\r"),
            Ok(Parsed::Incomplete { needed: None })
        );
    }

    #[test]
    fn line_length_limit() {
        let mut line = vec![b'a'; MAX_LINE_LEN];
        assert_eq!(parse_reply(&line), Ok(Parsed::Incomplete { needed: None }));
        line.push(b'\r');
        assert_eq!(parse_reply(&line), Ok(Parsed::Incomplete { needed: None }));
        line.push(b'\n');
        assert_eq!(complete(&line).1, MAX_LINE_LEN + 2);

        let mut too_long = vec![b'a'; MAX_LINE_LEN + 1];
        too_long.push(b'\r');
        assert_eq!(parse_reply(&too_long), Err(ProtocolError::LineTooLong));
        let garbage = vec![0u8; 1 << 20];
        assert_eq!(parse_reply(&garbage), Err(ProtocolError::LineTooLong));
    }

    /// xorshift64*: a fixed-seed generator, so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }

        /// A byte that is often one of those a key must not contain.
        fn key_byte(&mut self) -> u8 {
            const SPECIAL: &[u8] = b" \r\n\0\t\x0b\x0c\x7f\x80\xff:";
            match self.below(8) {
                0 => SPECIAL[self.below(SPECIAL.len())],
                1 | 2 => self.next() as u8,
                _ => b'a' + self.below(26) as u8,
            }
        }

        fn key(&mut self, max_len: usize) -> Vec<u8> {
            let len = self.below(max_len + 1);
            (0..len).map(|_| self.key_byte()).collect()
        }
    }

    fn count_crlf(line: &[u8]) -> usize {
        line.windows(2).filter(|pair| pair == b"\r\n").count()
    }

    /// Asserts that `line` is one command line with the expected words.
    fn assert_single_line(line: &[u8], words: usize) {
        assert_eq!(count_crlf(line), 1, "{line:?}");
        assert!(line.ends_with(b"\r\n"), "{line:?}");
        let body = &line[..line.len() - 2];
        assert!(!body.contains(&b'\r') && !body.contains(&b'\n'), "{line:?}");
        assert_eq!(body.split(|&byte| byte == b' ').count(), words, "{line:?}");
    }

    #[test]
    fn validated_keys_never_inject_commands() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for round in 0..20_000 {
            let verify_key = round % 2 == 0;
            let ns = if rng.below(3) == 0 {
                rng.key(6)
            } else {
                Vec::new()
            };
            let keys: Vec<Vec<u8>> = (0..1 + rng.below(3)).map(|_| rng.key(12)).collect();
            if keys
                .iter()
                .any(|key| check_key(key, &ns, true, verify_key).is_err())
            {
                continue;
            }
            accepted += 1;
            let key = &keys[0][..];
            let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            let flags = rng.next() as u32;
            let number = rng.next();

            for verb in [StorageVerb::Set, StorageVerb::Cas] {
                for noreply in [false, true] {
                    let line = encoded(|o| {
                        encode_storage(o, verb, &ns, key, flags, number as i64, 7, number, noreply)
                    });
                    let words = 5 + usize::from(verb == StorageVerb::Cas) + usize::from(noreply);
                    assert_single_line(&line, words);
                }
            }
            let get = encoded(|o| encode_get(o, true, &ns, &key_refs));
            assert_single_line(&get, 1 + keys.len());
            assert_single_line(
                &encoded(|o| encode_incr_decr(o, true, &ns, key, number, true)),
                4,
            );
            assert_single_line(&encoded(|o| encode_delete(o, &ns, key, false)), 2);
            assert_single_line(&encoded(|o| encode_touch(o, &ns, key, number as i64)), 3);
        }
        // Make sure that enough random keys passed validation for the loop to test something.
        assert!(accepted > 1_000, "only {accepted} keys accepted");
    }

    #[test]
    fn validated_stat_args_stay_one_line() {
        let mut rng = Rng(12345);
        let mut accepted = 0;
        for round in 0..5_000 {
            let args = rng.key(10);
            if check_stat_args(&args, true, round % 2 == 0).is_err() {
                continue;
            }
            accepted += 1;
            let line = encoded(|o| encode_stats(o, Some(&args)));
            assert_eq!(count_crlf(&line), 1, "{line:?}");
            assert!(line.ends_with(b"\r\n"));
        }
        assert!(accepted > 100, "only {accepted} argument strings accepted");
    }

    #[test]
    fn random_input_never_misparses() {
        let mut rng = Rng(0xdead_beef);
        const PIECES: [&[u8]; 12] = [
            b"VALUE ",
            b"\r\n",
            b" ",
            b"0",
            b"18446744073709551615",
            b"END",
            b"STAT ",
            b"SERVER_ERROR ",
            b"k",
            b"4294967296",
            b"\r",
            b"\n",
        ];
        for _ in 0..50_000 {
            let mut buf = Vec::new();
            for _ in 0..rng.below(12) {
                if rng.below(3) == 0 {
                    buf.push(rng.next() as u8);
                } else {
                    buf.extend_from_slice(PIECES[rng.below(PIECES.len())]);
                }
            }
            match parse_reply(&buf) {
                Ok(Parsed::Complete { reply, consumed }) => {
                    assert!(consumed > 0 && consumed <= buf.len(), "{buf:?}");
                    assert!(buf[..consumed].ends_with(b"\r\n"), "{buf:?}");
                    if let TextReply::Value { data, .. } = reply {
                        assert!(data.len() + 2 < consumed, "{buf:?}");
                    }
                }
                Ok(Parsed::Incomplete { needed: Some(n) }) => assert!(n > buf.len(), "{buf:?}"),
                Ok(Parsed::Incomplete { needed: None }) | Err(_) => {}
            }
        }
    }
}
