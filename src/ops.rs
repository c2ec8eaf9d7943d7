//! Requests and replies: storage, retrieval, arithmetic, delete, touch, stats, version, flush,
//! for the text and the binary protocol.
//!
//! Every request follows the same path: validate, pick the server, build the request in the
//! handle's scratch buffer, send it with one `sendmsg`, read the reply with as few `recv` calls
//! as it takes. A connection that fails before any reply byte arrived, after sitting idle, is
//! reopened once and the request repeated (a server restart closes idle connections).


use libc::c_char;

use crate::alloc::Memory;
use crate::conn::{Conn, Deadline};
use crate::error::Error;
use crate::ffi::types::memcached_return_t::*;
use crate::ffi::types::{memcached_result_st, memcached_return_t};
use crate::handle::{Batch, Handle};
use crate::protocol::binary::{self, opcode, Response};
use crate::protocol::text::{self, StorageVerb, TextReply};
use crate::protocol::{key as keycheck, Parsed};
use crate::result;

/// Expiration that tells the server not to create a missing counter (binary incr/decr).
const EXPIRATION_NOT_ADD: u32 = 0xffff_ffff;
/// Expiration `memcached_exist` stores with its probe (31 days, read as an absolute time).
const EXIST_PROBE_EXPIRATION: u32 = 2_678_400;

/// What a reply handler wants next.
enum Step<T> {
    Done(T),
    More,
}

/// The value a get found.
pub struct Found {
    pub value: *mut c_char,
    pub length: usize,
    pub flags: u32,
    pub cas: u64,
}

fn protocol_error(what: &str, error: crate::protocol::ProtocolError) -> Error {
    Error::new(
        MEMCACHED_UNKNOWN_READ_FAILURE,
        format!("{what}: invalid reply from server ({error:?})"),
    )
}

/// Reads text replies until `on_reply` is done with them.
fn read_text<T>(
    conn: &mut Conn,
    deadline: &Deadline,
    mut on_reply: impl FnMut(TextReply<'_>) -> Result<Step<T>, Error>,
) -> Result<T, Error> {
    let mut first = true;
    loop {
        if conn.rpos == conn.rbuf.len() {
            // Nothing buffered: no reply can be complete yet.
            conn.fill(deadline, first, None)
                .map_err(|f| f.into_error("read"))?;
            first = false;
        }
        match text::parse_reply(&conn.rbuf[conn.rpos..]) {
            Ok(Parsed::Complete { reply, consumed }) => {
                let step = on_reply(reply)?;
                conn.rpos += consumed;
                if let Step::Done(value) = step {
                    return Ok(value);
                }
            }
            Ok(Parsed::Incomplete { needed }) => {
                conn.fill(deadline, first, needed)
                    .map_err(|f| f.into_error("read"))?;
                first = false;
            }
            Err(error) => return Err(protocol_error("read", error)),
        }
    }
}

/// What a binary reply must carry: the request's opaque and opcode.
#[derive(Clone, Copy, Debug)]
struct Expected {
    opaque: u32,
    opcode: u8,
}

/// The leading bytes of a single-key request, built on the stack so that the request path
/// allocates nothing. It is a binary header with its extras and key, or a text command line.
/// Quiet binary storage requests and text storage requests copy a small value in too, so that
/// the request leaves in one send(). Other values are sent from the caller's buffer.
///
/// The storage is the caller's local `HeadBuf`, left uninitialised: zeroing it would cost more
/// than building most requests (and a struct owning the array gets it zeroed).
struct Head<'a> {
    buf: &'a mut HeadBuf,
    /// How many leading bytes of `buf` are written.
    len: usize,
}

/// Room for a binary header (24), the longest extras (20), a key with its namespace (at most
/// 250 together) and a small value, or for a text command line with a 250-byte key.
const HEAD_CAPACITY: usize = 1024;

/// Stack storage for a `Head`: `let mut buf = HeadBuf::uninit();`.
type HeadBuf = std::mem::MaybeUninit<[u8; HEAD_CAPACITY]>;

impl<'a> Head<'a> {
    fn new(buf: &'a mut HeadBuf) -> Head<'a> {
        Head { buf, len: 0 }
    }

    /// Appends `bytes`; false (and nothing appended) when they do not fit.
    #[inline(always)]
    fn push(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() > HEAD_CAPACITY - self.len {
            return false;
        }
        // SAFETY: the check above keeps `len + bytes.len()` within `buf`; the source is a
        // valid slice that cannot overlap our own buffer, which no caller can borrow.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.buf.as_mut_ptr().cast::<u8>().add(self.len),
                bytes.len(),
            );
        }
        self.len += bytes.len();
        true
    }

    /// Fills the head with a binary request header for a body of `extras`, the wire key
    /// `ns` + `key` and `value_len` value bytes. The opaque is patched in when the request is
    /// sent.
    #[inline(always)]
    fn set_binary(
        &mut self,
        opcode: u8,
        cas: u64,
        extras: &[u8],
        ns: &[u8],
        key: &[u8],
        value_len: usize,
    ) -> Result<(), Error> {
        let key_len = ns.len() + key.len();
        if HEAD_BODY_CAPACITY < extras.len() + key_len {
            return Err(Error::code(MEMCACHED_BAD_KEY_PROVIDED));
        }

        let Some(body_len) = (extras.len() + key_len)
            .checked_add(value_len)
            .and_then(|len| u32::try_from(len).ok())
        else {
            return Err(Error::new(
                MEMCACHED_E2BIG,
                "the value is too large for the binary protocol",
            ));
        };

        let header = binary::request_header(opcode, key_len, extras.len(), body_len, 0, cas);
        // SAFETY: the buffer is longer than a header; `[u8; N]` has alignment 1.
        unsafe { self.buf.as_mut_ptr().cast::<[u8; binary::HEADER_LEN]>().write(header) };
        self.len = binary::HEADER_LEN;

        self.push(extras);
        if !ns.is_empty() {
            self.push(ns);
        }
        self.push(key);
        Ok(())
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: `push` wrote the first `len` bytes, and `len` never exceeds the buffer.
        unsafe { std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().cast::<u8>(), self.len) }
    }
}

/// Capacity of a `Head` after the binary header.
const HEAD_BODY_CAPACITY: usize = HEAD_CAPACITY - binary::HEADER_LEN;

/// Reads binary replies until `on_reply` is done. Replies with another opaque (late error
/// replies to earlier quiet requests) are skipped; a reply with our opaque but another opcode
/// means the stream cannot be trusted, so it fails the request (and closes the connection).
fn read_binary<T>(
    conn: &mut Conn,
    deadline: &Deadline,
    expected: Option<Expected>,
    mut on_reply: impl FnMut(&Response<'_>) -> Result<Step<T>, Error>,
) -> Result<T, Error> {
    let mut first = true;
    loop {
        if conn.rpos == conn.rbuf.len() {
            conn.fill(deadline, first, None)
                .map_err(|f| f.into_error("read"))?;
            first = false;
        }
        match binary::parse_response(&conn.rbuf[conn.rpos..]) {
            Ok(Parsed::Complete { reply, consumed }) => {
                let step = match expected {
                    Some(e) if e.opaque != reply.opaque => Step::More,
                    Some(e) if e.opcode != reply.opcode => {
                        return Err(Error::new(
                            MEMCACHED_UNKNOWN_READ_FAILURE,
                            format!("reply opcode {:#04x} does not match request {:#04x}", reply.opcode, e.opcode),
                        ))
                    }
                    _ => on_reply(&reply)?,
                };
                conn.rpos += consumed;
                if let Step::Done(value) = step {
                    return Ok(value);
                }
            }
            Ok(Parsed::Incomplete { needed }) => {
                conn.fill(deadline, first, needed)
                    .map_err(|f| f.into_error("read"))?;
                first = false;
            }
            Err(error) => return Err(protocol_error("read", error)),
        }
    }
}

/// Sends the request in `h.scratch` (plus `value` and `trailer`) to server `index` and reads
/// the reply with `read`. Binary requests get the connection's next opaque patched in.
fn exchange<T>(
    h: &mut Handle,
    index: usize,
    value: &[u8],
    trailer: &[u8],
    mut read: impl FnMut(&mut Conn, &Deadline, Expected) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut request = std::mem::take(&mut h.scratch);
    let outcome = exchange_with(h, index, &mut request, value, trailer, true, &mut read);
    h.scratch = request;
    outcome
}

#[inline(always)]
fn exchange_with<T>(
    h: &mut Handle,
    index: usize,
    request: &mut [u8],
    value: &[u8],
    trailer: &[u8],
    push_now: bool,
    read: &mut impl FnMut(&mut Conn, &Deadline, Expected) -> Result<T, Error>,
) -> Result<T, Error> {
    let binary = h.behaviors.binary;
    let poll_timeout = h.behaviors.poll_timeout;
    for attempt in 0..2 {
        // One coarse clock read serves the idle check, the idle mark and the deadline.
        let now_ms = crate::conn::coarse_now_ms();
        let ready = h.servers[index]
            .conn
            .as_ref()
            .is_some_and(|c| c.ready_without_checks(now_ms, binary, poll_timeout));
        if !ready {
            h.connection_at(index, now_ms)?;
        }
        let server = &mut h.servers[index];
        let queued: &[u8] = &server.write_queue;
        let conn = server.conn.as_mut().expect("connection() connected it");
        conn.end_stale_stream();
        let reused = conn.reused;
        let received_before = conn.received;
        let expected = if binary && request.len() >= 24 {
            conn.opaque = conn.opaque.wrapping_add(1);
            request[12..16].copy_from_slice(&conn.opaque.to_be_bytes());
            Expected { opaque: conn.opaque, opcode: request[1] }
        } else {
            Expected { opaque: 0, opcode: 0 }
        };
        let deadline = Deadline::starting_at(now_ms, poll_timeout);
        conn.prepare_write(
            queued.len() + request.len() + value.len() + trailer.len(),
            push_now,
        );
        let outcome = match conn.send_four([queued, request, value, trailer], &deadline) {
            Ok(()) => {
                if !server.write_queue.is_empty() {
                    // Sent: free the queue, which buffered requests may have made large.
                    server.write_queue = Vec::new();
                }
                read(conn, &deadline, expected)
            }
            Err(failure) => Err(failure.into_error("write")),
        };
        match outcome {
            Ok(result) => {
                conn.reused = true;
                conn.last_used_ms = now_ms;
                return Ok(result);
            }
            Err(error) => {
                let nothing_received = conn.received == received_before;
                server.disconnect();
                let stale =
                    reused && nothing_received && error.code == MEMCACHED_CONNECTION_FAILURE;
                if attempt == 0 && stale {
                    continue;
                }
                return Err(error);
            }
        }
    }
    unreachable!("the loop returns on its second attempt")
}

/// Sends the request in `h.scratch` without waiting for any reply (noreply and quiet requests).
fn send_only(h: &mut Handle, index: usize, value: &[u8], trailer: &[u8]) -> Result<(), Error> {
    send_scratch_quiet(h, index, value, trailer, false)
}

/// Sends the request in `h.scratch` without waiting for a reply. `push_now` sends it at once
/// with Nagle's algorithm off, as replica copies need (see `send_copy`).
fn send_scratch_quiet(
    h: &mut Handle,
    index: usize,
    value: &[u8],
    trailer: &[u8],
    push_now: bool,
) -> Result<(), Error> {
    let mut request = std::mem::take(&mut h.scratch);
    let outcome = exchange_with(
        h,
        index,
        &mut request,
        value,
        trailer,
        push_now,
        &mut |_, _, _| Ok(()),
    );
    h.scratch = request;
    outcome
}

/// Sends `head` and `value` to server `index` without waiting for any reply.
fn send_head(h: &mut Handle, index: usize, head: &mut [u8], value: &[u8]) -> Result<(), Error> {
    exchange_with(h, index, head, value, b"", false, &mut |_, _, _| Ok(()))
}

/// Sends a replica copy (`head` and `value`) to server `index` at once, with Nagle's algorithm
/// off. Held back by Nagle, a copy could reach its server after a later copy of the same key
/// sent on another handle's connection, and undo it there.
fn send_copy(h: &mut Handle, index: usize, head: &mut [u8], value: &[u8]) -> Result<(), Error> {
    exchange_with(h, index, head, value, b"", true, &mut |_, _, _| Ok(()))
}

/// Common start of a keyed operation: new query, servers present, key valid.
#[inline(always)]
fn prologue(h: &mut Handle, key: &[u8]) -> Result<(), Error> {
    h.begin();
    check_servers(h)?;
    check_key(h, key)
}

/// Fails when there is no server, or when USE_UDP asks for the UDP transport, which this
/// library does not implement.
pub fn check_servers(h: &Handle) -> Result<(), Error> {
    if h.servers.is_empty() {
        return Err(Error::new(MEMCACHED_NO_SERVERS, "no servers defined"));
    }
    if h.behaviors.use_udp {
        return Err(Error::new(
            MEMCACHED_NOT_SUPPORTED,
            "the UDP transport (MEMCACHED_BEHAVIOR_USE_UDP) is not implemented",
        ));
    }
    Ok(())
}

fn check_key(h: &Handle, key: &[u8]) -> Result<(), Error> {
    keycheck::check_key(
        key,
        h.namespace_bytes(),
        !h.behaviors.binary,
        h.behaviors.verify_key,
    )
    .map_err(|code| {
        Error::new(
            code,
            describe_key_problem(key, h.namespace_bytes().len(), code),
        )
    })
}

fn describe_key_problem(key: &[u8], ns_len: usize, code: memcached_return_t) -> String {
    if key.is_empty() {
        "the key is empty".into()
    } else if key.len() > 250 {
        format!("the key is {} bytes long, the maximum is 250", key.len())
    } else if key.len() + ns_len > 250 {
        format!(
            "namespace and key are {} bytes long together, the maximum is 250",
            key.len() + ns_len
        )
    } else if code == MEMCACHED_BAD_KEY_PROVIDED {
        "the key contains bytes the text protocol cannot carry (space, control or non-printable characters)".into()
    } else {
        "invalid key".into()
    }
}

/// Finishes an operation: records a failure on the handle and returns the code.
pub fn finish(
    h: &mut Handle,
    outcome: Result<memcached_return_t, Error>,
    server: Option<usize>,
) -> memcached_return_t {
    match outcome {
        Ok(MEMCACHED_SUCCESS) => MEMCACHED_SUCCESS,
        Ok(code) => {
            if crate::error::is_fatal(code) || code == MEMCACHED_CLIENT_ERROR {
                h.fail(Error::code(code), server)
            } else {
                code
            }
        }
        Err(error) => h.fail(error, server),
    }
}

// ----- storage -----

/// The storage commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    Cas,
}

fn binary_storage_opcode(verb: Verb, quiet: bool) -> u8 {
    match (verb, quiet) {
        (Verb::Set, false) => opcode::SET,
        (Verb::Set, true) => opcode::SETQ,
        (Verb::Add, false) => opcode::ADD,
        (Verb::Add, true) => opcode::ADDQ,
        (Verb::Replace | Verb::Cas, false) => opcode::REPLACE,
        (Verb::Replace | Verb::Cas, true) => opcode::REPLACEQ,
        (Verb::Append, false) => opcode::APPEND,
        (Verb::Append, true) => opcode::APPENDQ,
        (Verb::Prepend, false) => opcode::PREPEND,
        (Verb::Prepend, true) => opcode::PREPENDQ,
    }
}

fn text_verb(verb: Verb) -> StorageVerb {
    match verb {
        Verb::Set => StorageVerb::Set,
        Verb::Add => StorageVerb::Add,
        Verb::Replace => StorageVerb::Replace,
        Verb::Append => StorageVerb::Append,
        Verb::Prepend => StorageVerb::Prepend,
        Verb::Cas => StorageVerb::Cas,
    }
}

/// Fills `head` with a binary storage request. A quiet request takes `value` too when it
/// fits, because a stream of quiet requests costs mostly kernel time, which one contiguous
/// send() lowers. Returns the value bytes still to send after the head: none, or all of
/// `value`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn binary_storage_head<'v>(
    head: &mut Head,
    h: &Handle,
    verb: Verb,
    key: &[u8],
    value: &'v [u8],
    expiration: i64,
    flags: u32,
    cas: u64,
    quiet: bool,
) -> Result<&'v [u8], Error> {
    let extras = binary::storage_extras(flags, expiration as u32);
    let extras: &[u8] = if matches!(verb, Verb::Append | Verb::Prepend) {
        &[]
    } else {
        &extras
    };
    head.set_binary(
        binary_storage_opcode(verb, quiet),
        cas,
        extras,
        h.namespace_bytes(),
        key,
        value.len(),
    )?;
    Ok(if quiet && head.push(value) { &[] } else { value })
}

fn storage_reply_text(reply: TextReply<'_>) -> Result<Step<memcached_return_t>, Error> {
    Ok(Step::Done(match reply {
        TextReply::Stored => MEMCACHED_SUCCESS,
        TextReply::ClientError(message) => {
            return Err(Error::new(
                MEMCACHED_CLIENT_ERROR,
                String::from_utf8_lossy(message).into_owned(),
            ))
        }
        other => text::reply_code(&other),
    }))
}

fn storage_reply_binary(reply: &Response<'_>) -> Result<Step<memcached_return_t>, Error> {
    Ok(Step::Done(binary::status_code(reply.status)))
}

/// memcached_set / add / replace / append / prepend / cas and their _by_key forms.
#[allow(clippy::too_many_arguments)]
pub fn store(
    h: &mut Handle,
    verb: Verb,
    group: Option<&[u8]>,
    key: &[u8],
    value: &[u8],
    expiration: i64,
    flags: u32,
    cas: u64,
) -> memcached_return_t {
    if let Err(error) = prologue(h, key) {
        return h.fail(error, None);
    }
    let encrypted;
    let value = match &h.encoding {
        None => value,
        Some(_) if matches!(verb, Verb::Append | Verb::Prepend) => {
            let error = Error::new(MEMCACHED_NOT_SUPPORTED, crate::encoding::NOT_ALLOWED_MESSAGE);
            return h.fail(error, None);
        }
        Some(encoding) => {
            encrypted = encoding.encrypt(value);
            &encrypted[..]
        }
    };
    let index = h.pick_server(group.unwrap_or(key));
    let buffered = h.behaviors.buffer_requests && verb == Verb::Set;
    let quiet = h.behaviors.noreply || buffered;
    let outcome = store_on(
        h, index, verb, key, value, expiration, flags, cas, quiet, buffered,
    );
    if verb == Verb::Set && h.behaviors.binary && h.behaviors.number_of_replicas > 0 {
        write_replicas(h, index, key, value, expiration, flags);
    }
    let code = finish(h, outcome, Some(index));
    if code == MEMCACHED_SUCCESS && buffered {
        MEMCACHED_BUFFERED
    } else {
        code
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn store_on(
    h: &mut Handle,
    index: usize,
    verb: Verb,
    key: &[u8],
    value: &[u8],
    expiration: i64,
    flags: u32,
    cas: u64,
    quiet: bool,
    buffered: bool,
) -> Result<memcached_return_t, Error> {
    if value.len() > DEFAULT_ITEM_SIZE_MAX {
        let limit = server_item_size_max(h, index)?;
        if value.len() as u64 > limit {
            return Err(Error::new(
                MEMCACHED_E2BIG,
                format!(
                    "the value is {} bytes long; the server stores at most {limit} (memcached -I)",
                    value.len()
                ),
            ));
        }
    }
    if h.behaviors.binary {
        let mut buf = HeadBuf::uninit();
        let mut head = Head::new(&mut buf);
        let value = binary_storage_head(&mut head, h, verb, key, value, expiration, flags, cas, quiet)?;
        if buffered {
            // Queued with opaque 0, which a reply-expecting request carries only after its
            // connection's counter wraps around (2^32 requests).
            h.connection(index)?;
            let queue = &mut h.servers[index].write_queue;
            queue.extend_from_slice(head.bytes_mut());
            queue.extend_from_slice(value);
            return Ok(MEMCACHED_SUCCESS);
        }
        if quiet {
            send_head(h, index, head.bytes_mut(), value)?;
            return Ok(MEMCACHED_SUCCESS);
        }
        return exchange_with(
            h,
            index,
            head.bytes_mut(),
            value,
            b"",
            true,
            &mut |conn, deadline, expected| {
                read_binary(conn, deadline, Some(expected), storage_reply_binary)
            },
        );
    }

    h.scratch.clear();
    text::encode_storage(
        &mut h.scratch,
        text_verb(verb),
        h.namespace.as_ref().map_or(&[][..], |n| n.as_bytes()),
        key,
        flags,
        expiration,
        value.len(),
        cas,
        quiet,
    );
    let trailer: &[u8] = b"\r\n";
    if !buffered {
        // A small request goes out as one contiguous buffer, in one send().
        let mut buf = HeadBuf::uninit();
        let mut head = Head::new(&mut buf);
        if head.push(&h.scratch) && head.push(value) && head.push(trailer) {
            if quiet {
                send_head(h, index, head.bytes_mut(), b"")?;
                return Ok(MEMCACHED_SUCCESS);
            }
            return exchange_with(h, index, head.bytes_mut(), b"", b"", true, &mut |conn, deadline, _| {
                read_text(conn, deadline, storage_reply_text)
            });
        }
    }
    if buffered {
        h.connection(index)?;
        let server = &mut h.servers[index];
        server.write_queue.extend_from_slice(&h.scratch);
        server.write_queue.extend_from_slice(value);
        server.write_queue.extend_from_slice(trailer);
        return Ok(MEMCACHED_SUCCESS);
    }
    if quiet {
        send_only(h, index, value, trailer)?;
        return Ok(MEMCACHED_SUCCESS);
    }
    exchange(h, index, value, trailer, |conn, deadline, _| {
        read_text(conn, deadline, storage_reply_text)
    })
}

/// memcached's default item size limit (`-I 1m`). Larger values are checked against the
/// server's own limit before their bytes are read from the caller.
const DEFAULT_ITEM_SIZE_MAX: usize = 1 << 20;

/// The server's `item_size_max` from `stats settings`, asked once per connection.
fn server_item_size_max(h: &mut Handle, index: usize) -> Result<u64, Error> {
    h.connection(index)?;
    if let Some(limit) = h.servers[index].conn.as_ref().and_then(|c| c.item_size_max) {
        return Ok(limit);
    }
    let mut limit = None;
    let code = stat_each_on(h, index, Some(b"settings"), |_, name, value| {
        if name == b"item_size_max" {
            limit = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
        }
    })?;
    // A server that does not report its limit gets the default one.
    let limit = if code == MEMCACHED_SUCCESS {
        limit.unwrap_or(DEFAULT_ITEM_SIZE_MAX as u64)
    } else {
        DEFAULT_ITEM_SIZE_MAX as u64
    };
    if let Some(conn) = h.servers[index].conn.as_mut() {
        conn.item_size_max = Some(limit);
    }
    Ok(limit)
}

/// Indexes of the replicas of the key stored on `primary`: the next servers in array order.
fn replica_indexes(h: &Handle, primary: usize) -> impl Iterator<Item = usize> {
    let count = h.servers.len();
    let replicas = (h.behaviors.number_of_replicas as usize).min(count.saturating_sub(1));
    (1..=replicas).map(move |r| (primary + r) % count)
}

/// Writes quiet copies of a set to the replica servers before returning, so the copies exist
/// when the call returns (libmemcached only queues them until a later flush). Replica failures
/// are ignored: the primary's reply is the call's result.
fn write_replicas(
    h: &mut Handle,
    primary: usize,
    key: &[u8],
    value: &[u8],
    expiration: i64,
    flags: u32,
) {
    let mut buf = HeadBuf::uninit();
    let mut head = Head::new(&mut buf);
    let Ok(value) = binary_storage_head(&mut head, h, Verb::Set, key, value, expiration, flags, 0, true)
    else {
        return;
    };
    let count = h.servers.len();
    let replicas = (h.behaviors.number_of_replicas as usize).min(count.saturating_sub(1));
    for r in 1..=replicas {
        // Each send patches its own connection's opaque into the head.
        let _ = send_copy(h, (primary + r) % count, head.bytes_mut(), value);
    }
}

// ----- retrieval -----

fn text_get_reply(
    memory: &Memory,
    found: &mut Option<Found>,
    reply: TextReply<'_>,
) -> Result<Step<memcached_return_t>, Error> {
    match reply {
        TextReply::Value {
            data, flags, cas, ..
        } => {
            if found.is_none() {
                let value = copy_value(memory, data)?;
                *found = Some(Found {
                    value,
                    length: data.len(),
                    flags,
                    cas: cas.unwrap_or(0),
                });
            }
            Ok(Step::More)
        }
        TextReply::End => Ok(Step::Done(if found.is_some() {
            MEMCACHED_SUCCESS
        } else {
            MEMCACHED_NOTFOUND
        })),
        TextReply::ClientError(message) => Err(Error::new(
            MEMCACHED_CLIENT_ERROR,
            String::from_utf8_lossy(message).into_owned(),
        )),
        other => Ok(Step::Done(text::reply_code(&other))),
    }
}

/// Copies a value for the caller; empty values give NULL like libmemcached.
fn copy_value(memory: &Memory, data: &[u8]) -> Result<*mut c_char, Error> {
    if data.is_empty() {
        return Ok(std::ptr::null_mut());
    }
    let value = memory.copy_with_nul(data);
    if value.is_null() {
        return Err(Error::new(
            MEMCACHED_MEMORY_ALLOCATION_FAILURE,
            "no memory for the value",
        ));
    }
    Ok(value)
}

fn get_on(
    h: &mut Handle,
    index: usize,
    key: &[u8],
) -> Result<(memcached_return_t, Option<Found>), Error> {
    let memory = crate::ffi::memory_of_handle(h);
    let mut buf = HeadBuf::uninit();
    let mut head = Head::new(&mut buf);
    let mut found: Option<Found> = None;
    let code = if h.behaviors.binary {
        head.set_binary(opcode::GETK, 0, &[], h.namespace_bytes(), key, 0)?;
        exchange_with(h, index, head.bytes_mut(), b"", b"", true, &mut |conn, deadline, opaque| {
            read_binary(conn, deadline, Some(opaque), |reply| {
                let code = binary::status_code(reply.status);
                if code == MEMCACHED_SUCCESS {
                    let value = copy_value(&memory, reply.value)?;
                    found = Some(Found {
                        value,
                        length: reply.value.len(),
                        flags: binary::flags_of(reply),
                        cas: reply.cas,
                    });
                }
                Ok(Step::Done(code))
            })
        })
    } else {
        let command: &[u8] = if h.behaviors.support_cas { b"gets " } else { b"get " };
        let fits = head.push(command)
            && head.push(h.namespace_bytes())
            && head.push(key)
            && head.push(b"\r\n");
        if !fits {
            return Err(Error::code(MEMCACHED_BAD_KEY_PROVIDED));
        }
        exchange_with(h, index, head.bytes_mut(), b"", b"", true, &mut |conn, deadline, _| {
            read_text(conn, deadline, |reply| {
                text_get_reply(&memory, &mut found, reply)
            })
        })
    };
    match code {
        Ok(code) => Ok((code, found)),
        Err(error) => {
            if let Some(found) = found {
                // SAFETY: the value was allocated by `memory` above and never handed out.
                unsafe { memory.free(found.value as *mut libc::c_void) };
            }
            Err(error)
        }
    }
}

/// memcached_get / memcached_get_by_key. With replicas (binary protocol), the next copy is
/// tried when a copy's server cannot be reached; a server's answer (hit or miss) is final, as
/// in libmemcached. A key whose servers are all down gives a connection error, never NOTFOUND.
pub fn get(
    h: &mut Handle,
    group: Option<&[u8]>,
    key: &[u8],
) -> (memcached_return_t, Option<Found>) {
    if let Err(error) = prologue(h, key) {
        return (h.fail(error, None), None);
    }
    let primary = h.pick_server(group.unwrap_or(key));
    let replicas = if h.behaviors.binary {
        h.behaviors.number_of_replicas as usize
    } else {
        0
    };
    let replicas = replicas.min(h.servers.len().saturating_sub(1));
    let start = if replicas > 0 && h.behaviors.randomize_replica_read {
        (h.next_random() as usize) % (replicas + 1)
    } else {
        0
    };
    let mut last_error: Option<(Error, usize)> = None;
    for level in 0..=replicas {
        let index = (primary + (start + level) % (replicas + 1)) % h.servers.len();
        match get_on(h, index, key) {
            Ok((MEMCACHED_SUCCESS, found)) => return decrypt_found(h, index, found),
            Ok((code, _)) if !crate::error::is_connection_class(code) => {
                return (finish(h, Ok(code), Some(index)), None)
            }
            Ok((code, _)) => last_error = Some((Error::code(code), index)),
            Err(error) => last_error = Some((error, index)),
        }
    }
    let (error, index) = last_error.unwrap_or((Error::code(MEMCACHED_FAILURE), primary));
    (finish(h, Err(error), Some(index)), None)
}

/// Decrypts a value found by get when an encoding key is set (empty values stay empty).
fn decrypt_found(h: &mut Handle, index: usize, found: Option<Found>) -> (memcached_return_t, Option<Found>) {
    let (Some(encoding), Some(found)) = (&h.encoding, found.as_ref()) else {
        return (MEMCACHED_SUCCESS, found);
    };
    if found.length == 0 {
        return (MEMCACHED_SUCCESS, Some(Found { ..*found }));
    }
    let memory = crate::ffi::memory_of_handle(h);
    // SAFETY: `found.value` holds `found.length` bytes allocated by copy_value.
    let stored = unsafe { std::slice::from_raw_parts(found.value as *const u8, found.length) };
    let plain = encoding.decrypt(stored);
    // SAFETY: the encrypted copy was allocated by `memory` and is not used after this.
    unsafe { memory.free(found.value as *mut libc::c_void) };
    match plain {
        Some(plain) => match copy_value(&memory, &plain) {
            Ok(value) => (MEMCACHED_SUCCESS, Some(Found { value, length: plain.len(), flags: found.flags, cas: found.cas })),
            Err(error) => (h.fail(error, Some(index)), None),
        },
        None => {
            let error = Error::new(MEMCACHED_FAILURE, crate::encoding::DECRYPT_FAILED_MESSAGE);
            (h.fail(error, Some(index)), None)
        }
    }
}

// ----- arithmetic -----

/// memcached_increment / decrement and the _with_initial and _by_key forms. `initial` is
/// (initial value, expiration) for the _with_initial forms (binary protocol only).
///
/// Returns the code and the value to store in the caller's `*value`: None (leave it as it
/// was) when the key was rejected before anything was sent, as libmemcached does.
pub fn arithmetic(
    h: &mut Handle,
    group: Option<&[u8]>,
    key: &[u8],
    increment: bool,
    delta: u64,
    initial: Option<(u64, i64)>,
) -> (memcached_return_t, Option<u64>) {
    if let Err(error) = prologue(h, key) {
        return (h.fail(error, None), None);
    }
    if h.encoding.is_some() {
        let error = Error::new(MEMCACHED_NOT_SUPPORTED, crate::encoding::NOT_ALLOWED_MESSAGE);
        return (h.fail(error, None), Some(u64::MAX));
    }
    if initial.is_some() && !h.behaviors.binary {
        let error = Error::new(
            MEMCACHED_INVALID_ARGUMENTS,
            "increment/decrement with an initial value needs the binary protocol",
        );
        return (h.fail(error, None), Some(u64::MAX));
    }
    let index = h.pick_server(group.unwrap_or(key));
    let mut value = u64::MAX;
    let outcome = arithmetic_on(h, index, key, increment, delta, initial, &mut value);
    let code = finish(h, outcome, Some(index));
    (
        code,
        Some(if code == MEMCACHED_SUCCESS {
            value
        } else {
            u64::MAX
        }),
    )
}

fn arithmetic_on(
    h: &mut Handle,
    index: usize,
    key: &[u8],
    increment: bool,
    delta: u64,
    initial: Option<(u64, i64)>,
    value: &mut u64,
) -> Result<memcached_return_t, Error> {
    let ns = h.namespace.as_ref().map_or(&[][..], |n| n.as_bytes());
    let quiet = h.behaviors.noreply;
    h.scratch.clear();
    if h.behaviors.binary {
        let op = match (increment, quiet) {
            (true, false) => opcode::INCREMENT,
            (true, true) => opcode::INCREMENTQ,
            (false, false) => opcode::DECREMENT,
            (false, true) => opcode::DECREMENTQ,
        };
        let (start, expiration) = match initial {
            Some((start, expiration)) => (start, expiration as u32),
            None => (0, EXPIRATION_NOT_ADD),
        };
        let extras = binary::arith_extras(delta, start, expiration);
        binary::encode_request(&mut h.scratch, op, 0, 0, &extras, ns, key, 0)
            .map_err(|_| Error::code(MEMCACHED_BAD_KEY_PROVIDED))?;
        if quiet {
            send_only(h, index, b"", b"")?;
            return Ok(MEMCACHED_SUCCESS);
        }
        exchange(h, index, b"", b"", |conn, deadline, opaque| {
            read_binary(conn, deadline, Some(opaque), |reply| {
                let code = binary::status_code(reply.status);
                if code == MEMCACHED_SUCCESS {
                    match binary::counter_of(reply) {
                        Some(number) => *value = number,
                        None => return Ok(Step::Done(MEMCACHED_UNKNOWN_READ_FAILURE)),
                    }
                }
                Ok(Step::Done(code))
            })
        })
    } else {
        text::encode_incr_decr(&mut h.scratch, increment, ns, key, delta, quiet);
        if quiet {
            send_only(h, index, b"", b"")?;
            return Ok(MEMCACHED_SUCCESS);
        }
        exchange(h, index, b"", b"", |conn, deadline, _| {
            read_text(conn, deadline, |reply| match reply {
                TextReply::Number(number) => {
                    *value = number;
                    Ok(Step::Done(MEMCACHED_SUCCESS))
                }
                TextReply::ClientError(message) => Err(Error::new(
                    MEMCACHED_CLIENT_ERROR,
                    String::from_utf8_lossy(message).into_owned(),
                )),
                other => Ok(Step::Done(text::reply_code(&other))),
            })
        })
    }
}

// ----- delete, touch, exist -----

/// memcached_delete / memcached_delete_by_key.
pub fn delete(
    h: &mut Handle,
    group: Option<&[u8]>,
    key: &[u8],
    expiration: i64,
) -> memcached_return_t {
    if let Err(error) = prologue(h, key) {
        return h.fail(error, None);
    }
    if expiration != 0 {
        let error = Error::new(
            MEMCACHED_INVALID_ARGUMENTS,
            "delete with an expiration is not supported by memcached",
        );
        return h.fail(error, None);
    }
    let index = h.pick_server(group.unwrap_or(key));
    let buffered = h.behaviors.buffer_requests;
    let quiet = h.behaviors.noreply || buffered;
    let outcome = delete_on(h, index, key, quiet, false);
    if h.behaviors.binary && h.behaviors.number_of_replicas > 0 {
        let replicas: Vec<usize> = replica_indexes(h, index).collect();
        for replica in replicas {
            let _ = delete_on(h, replica, key, true, true);
        }
    }
    let code = finish(h, outcome, Some(index));
    if code == MEMCACHED_SUCCESS {
        if let Some(trigger) = h.callbacks.delete_trigger {
            // SAFETY: the user installed this callback with the memcached_trigger_delete_key_fn
            // contract; key points to key.len() readable bytes for the call.
            unsafe { trigger(h.owner, key.as_ptr() as *const c_char, key.len()) };
        }
        if buffered {
            return MEMCACHED_BUFFERED;
        }
    }
    code
}

/// Deletes `key` on server `index`. `copy` marks the delete of a replica copy, which is sent
/// at once (see `send_copy`).
fn delete_on(
    h: &mut Handle,
    index: usize,
    key: &[u8],
    quiet: bool,
    copy: bool,
) -> Result<memcached_return_t, Error> {
    let ns = h.namespace.as_ref().map_or(&[][..], |n| n.as_bytes());
    h.scratch.clear();
    if h.behaviors.binary {
        let op = if quiet {
            opcode::DELETEQ
        } else {
            opcode::DELETE
        };
        binary::encode_request(&mut h.scratch, op, 0, 0, &[], ns, key, 0)
            .map_err(|_| Error::code(MEMCACHED_BAD_KEY_PROVIDED))?;
    } else {
        text::encode_delete(&mut h.scratch, ns, key, quiet);
    }
    if quiet {
        send_scratch_quiet(h, index, b"", b"", copy)?;
        return Ok(MEMCACHED_SUCCESS);
    }
    simple_exchange(h, index)
}

/// Sends `h.scratch` and maps the single status reply.
fn simple_exchange(h: &mut Handle, index: usize) -> Result<memcached_return_t, Error> {
    if h.behaviors.binary {
        exchange(h, index, b"", b"", |conn, deadline, opaque| {
            read_binary(conn, deadline, Some(opaque), |reply| {
                Ok(Step::Done(binary::status_code(reply.status)))
            })
        })
    } else {
        exchange(h, index, b"", b"", |conn, deadline, _| {
            read_text(conn, deadline, |reply| match reply {
                TextReply::ClientError(message) => Err(Error::new(
                    MEMCACHED_CLIENT_ERROR,
                    String::from_utf8_lossy(message).into_owned(),
                )),
                other => Ok(Step::Done(text::reply_code(&other))),
            })
        })
    }
}

/// memcached_touch / memcached_touch_by_key.
pub fn touch(
    h: &mut Handle,
    group: Option<&[u8]>,
    key: &[u8],
    expiration: i64,
) -> memcached_return_t {
    if let Err(error) = prologue(h, key) {
        return h.fail(error, None);
    }
    let index = h.pick_server(group.unwrap_or(key));
    let ns = h.namespace.as_ref().map_or(&[][..], |n| n.as_bytes());
    h.scratch.clear();
    if h.behaviors.binary {
        let extras = binary::touch_extras(expiration as u32);
        if binary::encode_request(&mut h.scratch, opcode::TOUCH, 0, 0, &extras, ns, key, 0).is_err()
        {
            return h.fail(Error::code(MEMCACHED_BAD_KEY_PROVIDED), None);
        }
    } else {
        text::encode_touch(&mut h.scratch, ns, key, expiration);
    }
    let outcome = simple_exchange(h, index);
    finish(h, outcome, Some(index))
}

/// memcached_exist / memcached_exist_by_key: an add of an empty item that the server rejects
/// when the key exists. The probe's expiration lies in the past, so nothing visible is stored.
pub fn exist(h: &mut Handle, group: Option<&[u8]>, key: &[u8]) -> memcached_return_t {
    if let Err(error) = prologue(h, key) {
        return h.fail(error, None);
    }
    let index = h.pick_server(group.unwrap_or(key));
    let expiration = EXIST_PROBE_EXPIRATION as i64;
    let outcome = store_on(h, index, Verb::Add, key, b"", expiration, 0, 0, false, false).map(
        |code| match code {
            MEMCACHED_SUCCESS => MEMCACHED_NOTFOUND,
            MEMCACHED_NOTSTORED | MEMCACHED_DATA_EXISTS => MEMCACHED_SUCCESS,
            other => other,
        },
    );
    finish(h, outcome, Some(index))
}

// ----- mget and fetch -----

/// Text `get` commands carry at most this many keys each; memcached answers each with END.
const TEXT_KEYS_PER_GET: usize = 100;
/// An mget of at least this many keys for one server receives its replies as a stream (see
/// `Conn::begin_stream`).
const STREAM_MIN_KEYS: usize = 1000;

/// memcached_mget / memcached_mget_by_key: sends the requests; results come from fetch.
pub fn mget(h: &mut Handle, group: Option<&[u8]>, keys: &[&[u8]]) -> memcached_return_t {
    h.begin();
    if let Err(error) = check_servers(h) {
        return h.fail(error, None);
    }
    if keys.is_empty() {
        return h.fail(
            Error::new(MEMCACHED_INVALID_ARGUMENTS, "no keys given"),
            None,
        );
    }
    for key in keys {
        if let Err(error) = check_key(h, key) {
            return h.fail(error, None);
        }
    }
    drain_pending_fetch(h);
    h.fetch = Default::default();
    h.result.count = 0;

    let count = h.servers.len();
    let mut by_server: Vec<Vec<&[u8]>> = vec![Vec::new(); count];
    match group {
        Some(group) => {
            let index = h.pick_server(group);
            by_server[index].extend_from_slice(keys);
        }
        None if count == 1 => by_server[0].extend_from_slice(keys),
        None => {
            // Each server's list is allocated once, at its final size.
            let indexes: Vec<usize> = keys.iter().map(|key| h.pick_server(key)).collect();
            let mut sizes = vec![0usize; count];
            for &index in &indexes {
                sizes[index] += 1;
            }
            for (list, &size) in by_server.iter_mut().zip(&sizes) {
                list.reserve_exact(size);
            }
            for (key, &index) in keys.iter().zip(&indexes) {
                by_server[index].push(key);
            }
        }
    }

    let mut attempted = 0;
    let mut failed = 0;
    let mut last_error = None;
    for (index, server_keys) in by_server.iter().enumerate() {
        if server_keys.is_empty() {
            continue;
        }
        attempted += 1;
        match send_mget(h, index, server_keys) {
            Ok(()) => h.fetch.pending.push(index),
            Err(error) => {
                failed += 1;
                // A failed connect keeps its retry window; only an open connection is closed.
                if h.servers[index].conn.is_some() {
                    h.servers[index].disconnect();
                }
                last_error = Some((error, index));
            }
        }
    }
    if failed == 0 {
        return MEMCACHED_SUCCESS;
    }
    let (error, index) = last_error.expect("failed > 0");
    if failed < attempted {
        h.fail(error, Some(index));
        return MEMCACHED_SOME_ERRORS;
    }
    h.fail(error, Some(index))
}

fn send_mget(h: &mut Handle, index: usize, keys: &[&[u8]]) -> Result<(), Error> {
    h.connection(index)?;
    let ns = h.namespace.as_ref().map_or(&[][..], |n| n.as_bytes());
    let mut request = std::mem::take(&mut h.scratch);
    request.clear();
    let server = &mut h.servers[index];
    let conn = server.conn.as_mut().expect("connected above");
    let mut terminators = 0u32;
    let parts;
    if h.behaviors.binary {
        // The requests get consecutive opaques: a reply shows how far the server got, and a
        // reply to anything sent earlier carries an opaque outside the batch.
        let first = conn.opaque.wrapping_add(1);
        let key_bytes: usize = keys.iter().map(|key| key.len()).sum();
        request.reserve((keys.len() + 1) * (binary::HEADER_LEN + ns.len()) + key_bytes);
        let mut opaque = first;
        for key in keys {
            binary::push_key_request(&mut request, opcode::GETKQ, opaque, ns, key);
            opaque = opaque.wrapping_add(1);
        }
        let _ = binary::encode_request(&mut request, opcode::NOOP, opaque, 0, &[], &[], &[], 0);
        conn.opaque = opaque;
        h.fetch.batches.push(Batch { first, end: opaque });
        terminators = 1;
        parts = keys.len() + 1;
    } else {
        for chunk in keys.chunks(TEXT_KEYS_PER_GET) {
            text::encode_get(&mut request, h.behaviors.support_cas, ns, chunk);
            terminators += 1;
        }
        parts = terminators as usize;
    }
    if keys.len() >= STREAM_MIN_KEYS {
        conn.begin_stream(parts.try_into().unwrap_or(u32::MAX));
    }
    server.pending_fetch = true;
    server.fetch_terminators = terminators;
    let queued = std::mem::take(&mut server.write_queue);
    if !queued.is_empty() {
        request.splice(0..0, queued);
    }
    let deadline = Deadline::after_ms(h.behaviors.poll_timeout);
    let outcome = send_interleaved(conn, &request, &deadline);
    h.scratch = request;
    outcome
}

/// Sends `data` while reading whatever the server already answers, so a long request cannot
/// deadlock against replies that fill the socket buffers.
fn send_interleaved(conn: &mut Conn, data: &[u8], deadline: &Deadline) -> Result<(), Error> {
    let mut offset = 0;
    while offset < data.len() {
        let sent = conn
            .send_nonblocking(&data[offset..])
            .map_err(|f| f.into_error("write"))?;
        offset += sent;
        if offset == data.len() {
            break;
        }
        if sent == 0 {
            let mut fds = [libc::pollfd {
                fd: conn.fd(),
                events: libc::POLLIN | libc::POLLOUT,
                revents: 0,
            }];
            crate::conn::poll_many(&mut fds, deadline).map_err(|f| f.into_error("write"))?;
            if fds[0].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                conn.fill_nonblocking().map_err(|f| f.into_error("read"))?;
            }
        }
    }
    Ok(())
}

/// Reads and drops the replies of an earlier mget that the caller did not fetch.
fn drain_pending_fetch(h: &mut Handle) {
    if h.fetch.pending.is_empty() {
        return;
    }
    let mut scratch = result::new_result(std::ptr::null_mut(), false);
    while let Ok(true) = fetch_next(h, &mut scratch) {}
    result::free_value(&mut scratch);
}

/// Reads the next item of the current mget into `r`. Ok(false) at the end of the stream.
pub fn fetch_next(h: &mut Handle, r: &mut memcached_result_st) -> Result<bool, Error> {
    let encoding = h.encoding.clone();
    let binary = h.behaviors.binary;
    let ns_len = h.namespace_bytes().len();
    let poll_timeout = h.behaviors.poll_timeout;
    while let Some(&index) = h.fetch.pending.first() {
        let batch = if binary {
            h.fetch.batches.first().copied()
        } else {
            None
        };
        let server = &mut h.servers[index];
        let Some(conn) = server.conn.as_mut() else {
            h.fetch.pending.remove(0);
            if binary && !h.fetch.batches.is_empty() {
                h.fetch.batches.remove(0);
            }
            continue;
        };
        let deadline = Deadline::lazy(poll_timeout);
        let mut terminators = server.fetch_terminators;
        let outcome = if binary {
            let mut position = 0;
            let outcome = read_binary(conn, &deadline, None, |reply| {
                fetch_binary_reply(reply, batch, &mut position, ns_len, encoding.as_ref(), r)
            });
            conn.stream_progress(position.saturating_add(1));
            outcome
        } else {
            let outcome = read_text(conn, &deadline, |reply| {
                fetch_text_reply(reply, &mut terminators, ns_len, encoding.as_ref(), r)
            });
            conn.stream_left(terminators);
            outcome
        };
        server.fetch_terminators = terminators;
        match outcome {
            Ok(true) => {
                r.count += 1;
                return Ok(true);
            }
            Ok(false) => {
                server.pending_fetch = false;
                if let Some(conn) = server.conn.as_mut() {
                    conn.end_stream();
                    conn.reused = true;
                    conn.last_used_ms = crate::conn::coarse_now_ms();
                }
                h.fetch.pending.remove(0);
                if binary && !h.fetch.batches.is_empty() {
                    h.fetch.batches.remove(0);
                }
            }
            Err(error) => {
                server.disconnect();
                h.fetch.pending.remove(0);
                if binary && !h.fetch.batches.is_empty() {
                    h.fetch.batches.remove(0);
                }
                h.fail(error.clone(), Some(index));
                h.fetch.failure = Some(error);
            }
        }
    }
    Ok(false)
}

/// Stores one fetched item in `r`, decrypting its value when an encoding key is set.
fn fill_result(
    r: &mut memcached_result_st,
    encoding: Option<&crate::encoding::EncodingKey>,
    key: &[u8],
    data: &[u8],
    flags: u32,
    cas: u64,
) -> Result<(), Error> {
    result::reset(r);
    result::set_key(r, key);
    let plain;
    let data = match encoding {
        Some(encoding) if !data.is_empty() => {
            plain = encoding.decrypt(data).ok_or_else(|| {
                Error::new(MEMCACHED_FAILURE, crate::encoding::DECRYPT_FAILED_MESSAGE)
            })?;
            &plain[..]
        }
        _ => data,
    };
    if !result::set_value(r, data) {
        return Err(Error::new(
            MEMCACHED_MEMORY_ALLOCATION_FAILURE,
            "no memory for the value",
        ));
    }
    r.item_flags = flags;
    r.item_cas = cas;
    Ok(())
}

fn fetch_text_reply(
    reply: TextReply<'_>,
    terminators: &mut u32,
    ns_len: usize,
    encoding: Option<&crate::encoding::EncodingKey>,
    r: &mut memcached_result_st,
) -> Result<Step<bool>, Error> {
    match reply {
        TextReply::Value {
            key,
            flags,
            cas,
            data,
        } => {
            let key = key.get(ns_len..).unwrap_or(&[]);
            fill_result(r, encoding, key, data, flags, cas.unwrap_or(0))?;
            Ok(Step::Done(true))
        }
        TextReply::End => {
            *terminators = terminators.saturating_sub(1);
            if *terminators == 0 {
                Ok(Step::Done(false))
            } else {
                Ok(Step::More)
            }
        }
        other => Err(Error::new(
            text::reply_code(&other),
            "unexpected reply to get",
        )),
    }
}

fn fetch_binary_reply(
    reply: &Response<'_>,
    batch: Option<Batch>,
    position: &mut u32,
    ns_len: usize,
    encoding: Option<&crate::encoding::EncodingKey>,
    r: &mut memcached_result_st,
) -> Result<Step<bool>, Error> {
    if let Some(batch) = batch {
        match batch.position(reply.opaque) {
            Some(at) => *position = at,
            // A late reply to an earlier request.
            None => return Ok(Step::More),
        }
    }
    match reply.opcode {
        opcode::NOOP => Ok(Step::Done(false)),
        opcode::GETKQ | opcode::GETK if reply.status == 0 => {
            if reply.key.len() <= ns_len && ns_len > 0 {
                return Err(Error::new(
                    MEMCACHED_UNKNOWN_READ_FAILURE,
                    "server returned a key shorter than the namespace",
                ));
            }
            let key = reply.key.get(ns_len..).unwrap_or(&[]);
            fill_result(r, encoding, key, reply.value, binary::flags_of(reply), reply.cas)?;
            Ok(Step::Done(true))
        }
        // A quiet get reports only hits, and errors other than a miss.
        opcode::GETKQ | opcode::GETK => Ok(Step::More),
        other => Err(Error::new(
            MEMCACHED_UNKNOWN_READ_FAILURE,
            format!("reply opcode {other:#04x} in the replies to an mget"),
        )),
    }
}

/// The code a fetch returns at the end of the stream.
/// END when `r` received items since its last end of stream, NOTFOUND otherwise (as
/// libmemcached decides it per result object), or the failure seen during the fetch.
pub fn end_of_fetch(h: &mut Handle, r: &mut memcached_result_st) -> memcached_return_t {
    if let Some(error) = h.fetch.failure.take() {
        return error.code;
    }
    if r.count > 0 {
        r.count = 0;
        MEMCACHED_END
    } else {
        MEMCACHED_NOTFOUND
    }
}

// ----- per-server commands: stat, version, flush -----

/// Runs one request on every server, returning SUCCESS or SOME_ERRORS.
fn each_server(
    h: &mut Handle,
    mut per_server: impl FnMut(&mut Handle, usize) -> Result<memcached_return_t, Error>,
) -> memcached_return_t {
    let mut failures = 0;
    for index in 0..h.servers.len() {
        let outcome = per_server(h, index);
        let code = match outcome {
            Ok(MEMCACHED_SUCCESS | MEMCACHED_END) => continue,
            Ok(code) => h.fail(Error::code(code), Some(index)),
            Err(error) => h.fail(error, Some(index)),
        };
        if code != MEMCACHED_SUCCESS {
            failures += 1;
        }
    }
    // As in libmemcached, any failed server gives SOME_ERRORS, even when there is only one;
    // its own code is left on the server (memcached_server_error_return).
    if failures == 0 {
        MEMCACHED_SUCCESS
    } else {
        MEMCACHED_SOME_ERRORS
    }
}

/// Parses "1.6.18" into the server's version bytes.
fn store_version(h: &mut Handle, index: usize, version: &[u8]) {
    let mut parts = version.split(|&b| b == b'.').map(|part| {
        let digits: Vec<u8> = part
            .iter()
            .copied()
            .take_while(u8::is_ascii_digit)
            .collect();
        std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| d.parse::<u8>().ok())
            .unwrap_or(0)
    });
    let (major, minor, micro) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    h.servers[index].set_version(major, minor, micro);
}

/// memcached_version: asks every server whose version is unknown.
pub fn version(h: &mut Handle) -> memcached_return_t {
    h.begin();
    if let Err(error) = check_servers(h) {
        return h.fail(error, None);
    }
    let binary = h.behaviors.binary;
    each_server(h, |h, index| {
        if h.servers[index].major_version != u8::MAX {
            return Ok(MEMCACHED_SUCCESS);
        }
        h.scratch.clear();
        let mut found = Vec::new();
        let code = if binary {
            let _ = binary::encode_request(&mut h.scratch, opcode::VERSION, 0, 0, &[], &[], &[], 0);
            exchange(h, index, b"", b"", |conn, deadline, opaque| {
                read_binary(conn, deadline, Some(opaque), |reply| {
                    found = reply.value.to_vec();
                    Ok(Step::Done(binary::status_code(reply.status)))
                })
            })?
        } else {
            text::encode_version(&mut h.scratch);
            exchange(h, index, b"", b"", |conn, deadline, _| {
                read_text(conn, deadline, |reply| match reply {
                    TextReply::Version(v) => {
                        found = v.to_vec();
                        Ok(Step::Done(MEMCACHED_SUCCESS))
                    }
                    other => Ok(Step::Done(text::reply_code(&other))),
                })
            })?
        };
        if code == MEMCACHED_SUCCESS {
            store_version(h, index, &found);
        }
        Ok(code)
    })
}

/// memcached_flush: flush_all on every server.
pub fn flush(h: &mut Handle, expiration: i64) -> memcached_return_t {
    h.begin();
    if let Err(error) = check_servers(h) {
        return h.fail(error, None);
    }
    let binary = h.behaviors.binary;
    let quiet = h.behaviors.noreply;
    each_server(h, |h, index| {
        h.scratch.clear();
        if binary {
            let op = if quiet { opcode::FLUSHQ } else { opcode::FLUSH };
            let extras = binary::flush_extras(expiration as u32);
            let _ = binary::encode_request(&mut h.scratch, op, 0, 0, &extras, &[], &[], 0);
        } else {
            text::encode_flush(&mut h.scratch, expiration, quiet);
        }
        if quiet {
            send_only(h, index, b"", b"")?;
            return Ok(MEMCACHED_SUCCESS);
        }
        simple_exchange(h, index)
    })
}

/// memcached_flush_buffers: sends every command queued with BUFFER_REQUESTS.
pub fn flush_buffers(h: &mut Handle) -> memcached_return_t {
    each_server(h, |h, index| {
        if h.servers[index].write_queue.is_empty() {
            return Ok(MEMCACHED_SUCCESS);
        }
        h.scratch.clear();
        send_only(h, index, b"", b"")?;
        Ok(MEMCACHED_SUCCESS)
    })
}

/// Authenticates a fresh connection with SASL PLAIN (binary protocol).
pub fn sasl_authenticate(
    h: &mut Handle,
    index: usize,
    user: &[u8],
    password: &[u8],
) -> Result<(), Error> {
    let mut request = Vec::with_capacity(64 + user.len() + password.len());
    let mut credentials = Vec::with_capacity(2 + user.len() + password.len());
    credentials.push(0);
    credentials.extend_from_slice(user);
    credentials.push(0);
    credentials.extend_from_slice(password);
    binary::encode_request(
        &mut request,
        opcode::SASL_AUTH,
        0,
        0,
        &[],
        &[],
        b"PLAIN",
        credentials.len(),
    )
    .map_err(|_| Error::new(MEMCACHED_AUTH_PROBLEM, "SASL credentials too long"))?;
    let deadline = Deadline::after_ms(h.behaviors.poll_timeout);
    let conn = h.servers[index]
        .conn
        .as_mut()
        .expect("called right after connecting");
    conn.send_all(&[&request, &credentials], &deadline)
        .map_err(|f| f.into_error("SASL authentication"))?;
    let code = read_binary(conn, &deadline, None, |reply| {
        Ok(Step::Done(binary::status_code(reply.status)))
    })?;
    match code {
        MEMCACHED_SUCCESS => Ok(()),
        MEMCACHED_NOTFOUND | MEMCACHED_AUTH_FAILURE => Err(Error::new(
            MEMCACHED_AUTH_FAILURE,
            "SASL authentication was rejected",
        )),
        other => Err(Error::new(other, "SASL authentication failed")),
    }
}

/// Runs the stats request on every server, calling `on_stat(server index, name, value)` per
/// line. Any failing server gives SOME_ERRORS (the array is still filled for the others),
/// except that a text-protocol ERROR reply (an unknown statistics group) stops at once with
/// INVALID_ARGUMENTS, as in libmemcached.
pub fn stat_each(
    h: &mut Handle,
    args: Option<&[u8]>,
    mut on_stat: impl FnMut(usize, &[u8], &[u8]),
) -> memcached_return_t {
    let mut failures = 0;
    for index in 0..h.servers.len() {
        match stat_each_on(h, index, args, &mut on_stat) {
            Ok(MEMCACHED_SUCCESS) => {}
            Ok(MEMCACHED_INVALID_ARGUMENTS) if !h.behaviors.binary => {
                let error = Error::new(
                    MEMCACHED_INVALID_ARGUMENTS,
                    "the server does not know this statistics group",
                );
                return h.fail(error, Some(index));
            }
            Ok(code) => {
                h.fail(Error::code(code), Some(index));
                failures += 1;
            }
            Err(error) => {
                h.fail(error, Some(index));
                failures += 1;
            }
        }
    }
    if failures == 0 {
        MEMCACHED_SUCCESS
    } else {
        MEMCACHED_SOME_ERRORS
    }
}

/// Runs the stats request on one server.
fn stat_each_on(
    h: &mut Handle,
    index: usize,
    args: Option<&[u8]>,
    mut on_stat: impl FnMut(usize, &[u8], &[u8]),
) -> Result<memcached_return_t, Error> {
    h.scratch.clear();
    if h.behaviors.binary {
        binary::encode_request(
            &mut h.scratch,
            opcode::STAT,
            0,
            0,
            &[],
            &[],
            args.unwrap_or(&[]),
            0,
        )
        .map_err(|_| Error::code(MEMCACHED_BAD_KEY_PROVIDED))?;
        exchange(h, index, b"", b"", |conn, deadline, opaque| {
            read_binary(conn, deadline, Some(opaque), |reply| {
                if reply.status != 0 {
                    return Ok(Step::Done(binary::status_code(reply.status)));
                }
                if reply.key.is_empty() {
                    return Ok(Step::Done(MEMCACHED_SUCCESS));
                }
                on_stat(index, reply.key, reply.value);
                Ok(Step::More)
            })
        })
    } else {
        text::encode_stats(&mut h.scratch, args);
        exchange(h, index, b"", b"", |conn, deadline, _| {
            read_text(conn, deadline, |reply| match reply {
                TextReply::Stat { name, value } => {
                    on_stat(index, name, value);
                    Ok(Step::More)
                }
                TextReply::End => Ok(Step::Done(MEMCACHED_SUCCESS)),
                TextReply::Error => Ok(Step::Done(MEMCACHED_INVALID_ARGUMENTS)),
                other => Ok(Step::Done(text::reply_code(&other))),
            })
        })
    }
}

/// memcached_verbosity: `verbosity <level>` in the text protocol on a separate, temporary
/// connection to each server (so it works with binary-protocol handles too).
pub fn verbosity(h: &mut Handle, level: u32) -> memcached_return_t {
    if let Err(error) = check_servers(h) {
        return h.fail(error, None);
    }
    let (connect_timeout, poll_timeout) = (h.behaviors.connect_timeout, h.behaviors.poll_timeout);
    each_server(h, |h, index| {
        let server = &h.servers[index];
        let addrs = if server.is_unix_socket() {
            vec![crate::conn::unix_address(server.hostname.as_bytes())?]
        } else {
            crate::conn::resolve(server.name(), server.port)?
        };
        let options = crate::conn::SocketOptions::default();
        let mut conn = Conn::connect(&addrs[0], connect_timeout, poll_timeout, &options)?;
        let mut request = Vec::with_capacity(32);
        text::encode_verbosity(&mut request, level, false);
        let deadline = Deadline::after_ms(poll_timeout);
        conn.send_all(&[&request], &deadline)
            .map_err(|f| f.into_error("write"))?;
        let code = read_text(&mut conn, &deadline, |reply| {
            Ok(Step::Done(text::reply_code(&reply)))
        })?;
        let mut quit = Vec::with_capacity(8);
        text::encode_quit(&mut quit);
        let _ = conn.send_all(&[&quit], &deadline);
        conn.close();
        Ok(if code == MEMCACHED_SUCCESS {
            MEMCACHED_SUCCESS
        } else {
            code
        })
    })
}

// ----- dump -----

/// `memcached_dump`'s connection side over the handle's text-protocol connections.
struct DumpOverHandle<'a> {
    h: &'a mut Handle,
}

impl crate::dump::DumpConnection for DumpOverHandle<'_> {
    fn send(&mut self, server: usize, request: &[u8]) -> Result<(), memcached_return_t> {
        let poll_timeout = self.h.behaviors.poll_timeout;
        let sent = match self.h.connection(server) {
            Ok(conn) => conn.send_all(&[request], &Deadline::after_ms(poll_timeout)).map_err(|f| f.into_error("write")),
            Err(error) => Err(error),
        };
        sent.map_err(|error| self.h.fail(error, Some(server)))
    }

    fn read_line(&mut self, server: usize) -> Result<Vec<u8>, memcached_return_t> {
        let poll_timeout = self.h.behaviors.poll_timeout;
        let Some(conn) = self.h.servers[server].conn.as_mut() else {
            return Err(MEMCACHED_CONNECTION_FAILURE);
        };
        let deadline = Deadline::lazy(poll_timeout);
        let mut first = true;
        let outcome = loop {
            let pending = &conn.rbuf[conn.rpos..];
            if let Some(end) = pending.windows(2).position(|pair| pair == b"\r\n") {
                let line = pending[..end].to_vec();
                conn.rpos += end + 2;
                break Ok(line);
            }
            if pending.len() > text::MAX_LINE_LEN {
                break Err(Error::new(MEMCACHED_PROTOCOL_ERROR, "cachedump line too long"));
            }
            if let Err(failure) = conn.fill(&deadline, first, None) {
                break Err(failure.into_error("read"));
            }
            first = false;
        };
        outcome.map_err(|error| self.h.fail(error, Some(server)))
    }

    fn record_callback_error(&mut self, server: usize, code: memcached_return_t) {
        self.h.servers[server].set_error(code, crate::error::strerror(code));
    }
}

/// memcached_dump: walks every slab class of every server with `stats cachedump` and calls
/// `on_key` for each key. Text protocol only.
pub fn dump(h: &mut Handle, callbacks: &mut [impl FnMut(&std::ffi::CStr) -> memcached_return_t]) -> memcached_return_t {
    h.begin();
    if let Err(error) = check_servers(h) {
        return h.fail(error, None);
    }
    if h.behaviors.binary {
        let error = Error::new(MEMCACHED_NOT_SUPPORTED, crate::dump::BINARY_NOT_SUPPORTED_MESSAGE);
        return h.fail(error, None);
    }
    if h.servers.iter().any(|s| s.major_version == u8::MAX) {
        version(h);
        h.begin();
    }
    let servers = h.servers.len();
    let code = crate::dump::run_dump(&mut DumpOverHandle { h }, servers, callbacks);
    if code != MEMCACHED_SUCCESS && code != MEMCACHED_SOME_ERRORS {
        // Replies of other servers may still be pending: start over on fresh connections.
        for server in h.servers.iter_mut() {
            server.disconnect();
        }
    }
    code
}
