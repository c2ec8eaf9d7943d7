//! `memcached_dump`: lists the keys stored on every server by walking all slab classes with
//! `stats cachedump <class> 0`.
//!
//! What libmemcached 1.1.4 does, observed with strace against memcached 1.6.18 and with a
//! scripted fake server:
//! * It never sends `stats items`. For each slab class 0..=63 it sends
//!   `stats cachedump <class> 0` (0 = no item limit) to every server in order, then reads each
//!   server's reply in the same order before moving to the next class. If no version of a
//!   server is known yet, a `version` request goes to every server first.
//! * A reply is `ITEM <key> [<bytes> b; <exptime> s]` lines closed by `END`. memcached 1.6
//!   with its default segmented LRU lists only items in the COLD LRU, so recently written keys
//!   are often missing. With `-o no_lru_maintainer` it lists all.
//! * For each key the callbacks run in array order until one returns something other than
//!   `SUCCESS`. If that code is fatal (`memcached_fatal()`), the library records it on the
//!   server and the dump goes on, but returns `MEMCACHED_SOME_ERRORS` at the end. Other codes
//!   only skip the remaining callbacks for that key.
//! * A send that fails ends the dump at once with the send's code. So does any reply line that
//!   is neither `ITEM` nor `END`, with the code that line maps to (for example `CLIENT_ERROR`
//!   for `CLIENT_ERROR ...`, `UNKNOWN_READ_FAILURE` for an unknown word).
//! * With the binary protocol it returns `MEMCACHED_NOT_SUPPORTED` with the message in
//!   [`BINARY_NOT_SUPPORTED_MESSAGE`] and sends nothing. A NULL handle gives
//!   `MEMCACHED_INVALID_ARGUMENTS`, a handle without servers `MEMCACHED_NO_SERVERS`, and zero
//!   callbacks a normal walk that calls nothing.
//!
//! The real library crashes on a NULL callback array or NULL entry in it and on a
//! `SERVER_ERROR` other than "out of memory". Here a `SERVER_ERROR` line ends the dump with
//! its mapped code, and the export should skip NULL entries.

use std::ffi::CStr;

use crate::error::is_fatal;
use crate::ffi::types::memcached_return_t::{self, *};
use crate::protocol::text::{parse_reply, reply_code, TextReply};
use crate::protocol::Parsed;

/// Number of slab classes walked. memcached accepts class ids 0..=63 in `stats cachedump`.
pub const SLAB_CLASS_COUNT: u32 = 64;

/// The message recorded when `memcached_dump` is called on a binary-protocol handle.
pub const BINARY_NOT_SUPPORTED_MESSAGE: &str =
    "Binary protocol is not supported for memcached_dump()";

/// Encodes `stats cachedump <slab_class> <limit>` with its CRLF. A limit of 0 lists every
/// item of the class, which is what `memcached_dump` sends.
pub fn encode_cachedump(out: &mut Vec<u8>, slab_class: u32, limit: u32) {
    out.extend_from_slice(format!("stats cachedump {slab_class} {limit}\r\n").as_bytes());
}

/// One reply line of `stats cachedump`.
#[derive(Debug, PartialEq, Eq)]
pub enum DumpLine {
    /// An `ITEM` line.
    Item(Item),
    /// `END`: the reply of this slab class is complete.
    End,
    /// Any other line: the dump stops with this code.
    Stop(memcached_return_t),
}

/// The fields of an `ITEM <key> [<bytes> b; <exptime> s]` line.
#[derive(Debug, PartialEq, Eq)]
pub struct Item {
    /// The key as libmemcached extracts it: the bytes from offset 5 up to the first byte that
    /// C's `isgraph()` rejects (space, control bytes, 0x7f and above). It never contains
    /// NUL, so it is a C string. It may be empty for malformed lines, and the callbacks still
    /// see it then.
    pub key: Box<CStr>,
    /// Value size in bytes, when the bracket part is well formed.
    pub size: Option<u64>,
    /// Expiration as memcached prints it, when the bracket part is well formed: 0 for none,
    /// otherwise an absolute Unix time in seconds.
    pub exptime: Option<i64>,
}

/// Classifies one reply line, given without its line ending.
///
/// libmemcached recognises `ITEM` and `END` by their first four and three bytes, so
/// `ITEMx` counts as an item and `END extra` as the end. Other lines get the code the text
/// protocol assigns to them elsewhere, except that a `VALUE` line, which only a broken server
/// would send here, gives `MEMCACHED_PROTOCOL_ERROR`.
pub fn parse_dump_line(line: &[u8]) -> DumpLine {
    if line.starts_with(b"ITEM") {
        return DumpLine::Item(parse_item(line));
    }
    if line.starts_with(b"END") {
        return DumpLine::End;
    }
    DumpLine::Stop(other_line_code(line))
}

fn parse_item(line: &[u8]) -> Item {
    let rest = line.get(5..).unwrap_or_default();
    let key_len = rest
        .iter()
        .position(|byte| !byte.is_ascii_graphic())
        .unwrap_or(rest.len());
    let (key, tail) = rest.split_at(key_len);
    let (size, exptime) = parse_item_brackets(tail).unzip();

    let key = std::ffi::CString::new(key)
        .expect("graphic ASCII contains no NUL")
        .into_boxed_c_str();
    Item { key, size, exptime }
}

/// Reads ` [<bytes> b; <exptime> s]`, the part after the key.
fn parse_item_brackets(tail: &[u8]) -> Option<(u64, i64)> {
    let text = std::str::from_utf8(tail).ok()?;
    let inner = text.strip_prefix(" [")?.strip_suffix(" s]")?;
    let (bytes, exptime) = inner.split_once(" b; ")?;
    Some((bytes.parse().ok()?, exptime.parse().ok()?))
}

fn other_line_code(line: &[u8]) -> memcached_return_t {
    let mut framed = line.to_vec();
    framed.extend_from_slice(b"\r\n");
    match parse_reply(&framed) {
        Ok(Parsed::Complete { reply, .. }) => match reply {
            TextReply::Value { .. } => MEMCACHED_PROTOCOL_ERROR,
            reply => reply_code(&reply),
        },
        // A VALUE header waits for its data block, and a malformed STAT or number line does
        // not parse; neither belongs in a cachedump reply.
        Ok(Parsed::Incomplete { .. }) | Err(_) => MEMCACHED_PROTOCOL_ERROR,
    }
}

/// The connection side of a dump, implemented over the handle's servers.
pub trait DumpConnection {
    /// Sends `request` (a complete line with CRLF) to server `server`. An error ends the dump
    /// with that code.
    fn send(&mut self, server: usize, request: &[u8]) -> Result<(), memcached_return_t>;

    /// Reads the next reply line of server `server`, without its line ending. An error ends
    /// the dump with that code.
    fn read_line(&mut self, server: usize) -> Result<Vec<u8>, memcached_return_t>;

    /// Records `code`, a fatal code returned by a callback, as the last error of server
    /// `server`. libmemcached's message is the code's `memcached_strerror` text.
    fn record_callback_error(&mut self, server: usize, code: memcached_return_t);
}

/// Walks every slab class of `servers` servers and runs `callbacks` for each key, as
/// `memcached_dump` does over the text protocol.
///
/// A callback receives the key and returns a code. C callbacks that return a value outside
/// `memcached_return_t` should be mapped to `MEMCACHED_MAXIMUM_RETURN`, which is fatal like
/// any unknown code in libmemcached.
///
/// # Returns
/// * `MEMCACHED_SUCCESS` after a complete walk in which no callback returned a fatal code.
/// * `MEMCACHED_SOME_ERRORS` after a complete walk in which some callback did.
/// * The code of the first failed send or read, or of the first reply line that is neither
///   `ITEM` nor `END`. The walk stops there. Replies still pending on other servers of the
///   same slab class stay unread, so the caller should reset those connections.
pub fn run_dump<C>(
    connection: &mut impl DumpConnection,
    servers: usize,
    callbacks: &mut [C],
) -> memcached_return_t
where
    C: FnMut(&CStr) -> memcached_return_t,
{
    let mut callback_failed = false;
    let mut request = Vec::new();

    for slab_class in 0..SLAB_CLASS_COUNT {
        request.clear();
        encode_cachedump(&mut request, slab_class, 0);
        for server in 0..servers {
            if let Err(code) = connection.send(server, &request) {
                return code;
            }
        }

        for server in 0..servers {
            loop {
                let line = match connection.read_line(server) {
                    Ok(line) => line,
                    Err(code) => return code,
                };
                match parse_dump_line(&line) {
                    DumpLine::Item(item) => {
                        let code = run_callbacks(callbacks, &item.key);
                        if is_fatal(code) {
                            connection.record_callback_error(server, code);
                            callback_failed = true;
                        }
                    }
                    DumpLine::End => break,
                    DumpLine::Stop(code) => return code,
                }
            }
        }
    }

    if callback_failed {
        MEMCACHED_SOME_ERRORS
    } else {
        MEMCACHED_SUCCESS
    }
}

/// Runs the callbacks for one key until one returns something other than `SUCCESS`, and
/// returns that code (`SUCCESS` when all of them did).
fn run_callbacks<C>(callbacks: &mut [C], key: &CStr) -> memcached_return_t
where
    C: FnMut(&CStr) -> memcached_return_t,
{
    for callback in callbacks.iter_mut() {
        let code = callback(key);
        if code != MEMCACHED_SUCCESS {
            return code;
        }
    }
    MEMCACHED_SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, VecDeque};

    fn item(key: &str, size: Option<u64>, exptime: Option<i64>) -> DumpLine {
        DumpLine::Item(Item {
            key: std::ffi::CString::new(key).unwrap().into_boxed_c_str(),
            size,
            exptime,
        })
    }

    #[test]
    fn encode_cachedump_formats_request() {
        let mut out = Vec::new();
        encode_cachedump(&mut out, 1, 0);
        encode_cachedump(&mut out, 63, 100);
        assert_eq!(out, b"stats cachedump 1 0\r\nstats cachedump 63 100\r\n");
    }

    #[test]
    fn parse_item_lines_from_memcached() {
        assert_eq!(
            parse_dump_line(b"ITEM exp1 [3 b; 1796344513 s]"),
            item("exp1", Some(3), Some(1796344513))
        );
        assert_eq!(
            parse_dump_line(b"ITEM small0 [5 b; 0 s]"),
            item("small0", Some(5), Some(0))
        );
        assert_eq!(parse_dump_line(b"END"), DumpLine::End);
    }

    /// Keys libmemcached 1.1.4 handed to the callbacks for odd lines from a fake server.
    #[test]
    fn parse_item_keys_like_libmemcached() {
        let cases: &[(&[u8], &str)] = &[
            (b"ITEM b c [1 b; 0 s]", "b"),
            (b"ITEM  d [x]", ""),
            (b"ITEM e", "e"),
            (b"ITEM", ""),
            (b"ITEMf [1 b; 0 s]", ""),
            (b"ITEM g[1 b; 0 s]", "g[1"),
            (b"ITEM a\tb [1 b; 0 s]", "a"),
            (b"ITEM k\xc3\xa9y [1 b]", "k"),
            (b"ITEM x\x01y [1]", "x"),
            (b"ITEM u~v [1]", "u~v"),
        ];
        for (line, key) in cases {
            let DumpLine::Item(parsed) = parse_dump_line(line) else {
                panic!("{line:?} is not an item");
            };
            assert_eq!(parsed.key.to_bytes(), key.as_bytes(), "line {line:?}");
        }
    }

    #[test]
    fn parse_item_keeps_long_keys() {
        let key = "L".repeat(300);
        let line = format!("ITEM {key} [1 b; 0 s]");
        assert_eq!(
            parse_dump_line(line.as_bytes()),
            item(&key, Some(1), Some(0))
        );
    }

    #[test]
    fn parse_item_without_brackets() {
        assert_eq!(parse_dump_line(b"ITEM e"), item("e", None, None));
        assert_eq!(parse_dump_line(b"ITEM e [x b; 0 s]"), item("e", None, None));
    }

    /// Codes libmemcached 1.1.4 returned from the dump for these lines.
    #[test]
    fn parse_other_lines_like_libmemcached() {
        let cases: &[(&[u8], DumpLine)] = &[
            (b"END extra", DumpLine::End),
            (b"ENDX", DumpLine::End),
            (b"CLIENT_ERROR bad", DumpLine::Stop(MEMCACHED_CLIENT_ERROR)),
            (
                b"SERVER_ERROR out of memory",
                DumpLine::Stop(MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE),
            ),
            (b"FOO bar", DumpLine::Stop(MEMCACHED_UNKNOWN_READ_FAILURE)),
            (
                b"item a [1 b; 0 s]",
                DumpLine::Stop(MEMCACHED_UNKNOWN_READ_FAILURE),
            ),
            (b"STAT x y", DumpLine::Stop(MEMCACHED_STAT)),
            (b"ERROR", DumpLine::Stop(MEMCACHED_ERROR)),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_dump_line(line), *expected, "line {line:?}");
        }
    }

    #[test]
    fn parse_value_line_is_protocol_error() {
        assert_eq!(
            parse_dump_line(b"VALUE k 0 1"),
            DumpLine::Stop(MEMCACHED_PROTOCOL_ERROR)
        );
    }

    /// A scripted set of servers: per server, per slab class, the reply lines.
    #[derive(Default)]
    struct FakeServers {
        replies: HashMap<(usize, u32), Vec<&'static str>>,
        pending: HashMap<usize, VecDeque<Vec<u8>>>,
        fail_send: Option<(usize, u32, memcached_return_t)>,
        sent: Vec<(usize, Vec<u8>)>,
        errors: Vec<(usize, memcached_return_t)>,
    }

    impl DumpConnection for FakeServers {
        fn send(&mut self, server: usize, request: &[u8]) -> Result<(), memcached_return_t> {
            let text = std::str::from_utf8(request).unwrap();
            let slab: u32 = text.split(' ').nth(2).unwrap().parse().unwrap();
            if let Some((failing, at, code)) = self.fail_send {
                if failing == server && at == slab {
                    return Err(code);
                }
            }
            self.sent.push((server, request.to_vec()));
            let lines = self
                .replies
                .get(&(server, slab))
                .cloned()
                .unwrap_or_else(|| vec!["END"]);
            let queue = self.pending.entry(server).or_default();
            queue.extend(lines.into_iter().map(|line| line.as_bytes().to_vec()));
            Ok(())
        }

        fn read_line(&mut self, server: usize) -> Result<Vec<u8>, memcached_return_t> {
            let queue = self.pending.entry(server).or_default();
            queue.pop_front().ok_or(MEMCACHED_TIMEOUT)
        }

        fn record_callback_error(&mut self, server: usize, code: memcached_return_t) {
            self.errors.push((server, code));
        }
    }

    fn two_servers() -> FakeServers {
        let mut fake = FakeServers::default();
        fake.replies.insert(
            (0, 1),
            vec!["ITEM small2 [5 b; 0 s]", "ITEM small1 [5 b; 0 s]", "END"],
        );
        fake.replies
            .insert((1, 1), vec!["ITEM exp1 [3 b; 1796344513 s]", "END"]);
        fake.replies
            .insert((1, 15), vec!["ITEM big1 [2000 b; 0 s]", "END"]);
        fake
    }

    /// A callback that appends each key to `seen` and returns `code` for the key `fail_on`.
    fn recorder<'a>(
        seen: &'a std::cell::RefCell<Vec<String>>,
        tag: &'a str,
        fail_on: &'a str,
        code: memcached_return_t,
    ) -> impl FnMut(&CStr) -> memcached_return_t + 'a {
        move |key| {
            let key = key.to_str().unwrap();
            seen.borrow_mut().push(format!("{tag}:{key}"));
            if key == fail_on {
                code
            } else {
                MEMCACHED_SUCCESS
            }
        }
    }

    #[test]
    fn run_dump_walks_all_slab_classes_in_order() {
        let mut fake = two_servers();
        let seen = std::cell::RefCell::new(Vec::new());
        let mut callbacks = [
            recorder(&seen, "first", "", MEMCACHED_SUCCESS),
            recorder(&seen, "second", "", MEMCACHED_SUCCESS),
        ];

        let code = run_dump(&mut fake, 2, &mut callbacks);

        assert_eq!(code, MEMCACHED_SUCCESS);
        assert_eq!(fake.sent.len(), 128);
        assert_eq!(fake.sent[0], (0, b"stats cachedump 0 0\r\n".to_vec()));
        assert_eq!(fake.sent[1], (1, b"stats cachedump 0 0\r\n".to_vec()));
        assert_eq!(fake.sent[127], (1, b"stats cachedump 63 0\r\n".to_vec()));
        let expected = [
            "first:small2",
            "second:small2",
            "first:small1",
            "second:small1",
            "first:exp1",
            "second:exp1",
            "first:big1",
            "second:big1",
        ];
        assert_eq!(*seen.borrow(), expected);
        assert!(fake.errors.is_empty());
    }

    #[test]
    fn run_dump_non_fatal_callback_code_skips_rest() {
        let mut fake = two_servers();
        let seen = std::cell::RefCell::new(Vec::new());
        let mut callbacks = [
            recorder(&seen, "first", "small1", MEMCACHED_NOTFOUND),
            recorder(&seen, "second", "", MEMCACHED_SUCCESS),
        ];

        let code = run_dump(&mut fake, 2, &mut callbacks);

        assert_eq!(code, MEMCACHED_SUCCESS);
        assert!(!seen.borrow().contains(&"second:small1".to_string()));
        assert!(seen.borrow().contains(&"second:big1".to_string()));
        assert!(fake.errors.is_empty());
    }

    #[test]
    fn run_dump_fatal_callback_code_reports_some_errors() {
        let mut fake = two_servers();
        let seen = std::cell::RefCell::new(Vec::new());
        let mut callbacks = [
            recorder(&seen, "first", "exp1", MEMCACHED_FAILURE),
            recorder(&seen, "second", "", MEMCACHED_SUCCESS),
        ];

        let code = run_dump(&mut fake, 2, &mut callbacks);

        assert_eq!(code, MEMCACHED_SOME_ERRORS);
        assert_eq!(fake.errors, [(1, MEMCACHED_FAILURE)]);
        assert!(!seen.borrow().contains(&"second:exp1".to_string()));
        assert!(seen.borrow().contains(&"second:big1".to_string()));
    }

    #[test]
    fn run_dump_success_class_codes_are_not_errors() {
        for code in [
            MEMCACHED_END,
            MEMCACHED_CLIENT_ERROR,
            MEMCACHED_ERROR,
            MEMCACHED_DATA_EXISTS,
        ] {
            let mut fake = two_servers();
            let seen = std::cell::RefCell::new(Vec::new());
            let mut callbacks = [recorder(&seen, "only", "small2", code)];
            assert_eq!(
                run_dump(&mut fake, 2, &mut callbacks),
                MEMCACHED_SUCCESS,
                "{code:?}"
            );
            assert!(fake.errors.is_empty(), "{code:?}");
        }
    }

    #[test]
    fn run_dump_stops_on_error_line() {
        let mut fake = two_servers();
        fake.replies
            .insert((0, 1), vec!["ITEM a [1 b; 0 s]", "CLIENT_ERROR bad"]);
        let seen = std::cell::RefCell::new(Vec::new());
        let mut callbacks = [recorder(&seen, "only", "", MEMCACHED_SUCCESS)];

        let code = run_dump(&mut fake, 2, &mut callbacks);

        assert_eq!(code, MEMCACHED_CLIENT_ERROR);
        assert_eq!(*seen.borrow(), ["only:a"]);
        assert_eq!(fake.sent.len(), 4);
    }

    #[test]
    fn run_dump_stops_on_failed_send() {
        let mut fake = two_servers();
        fake.fail_send = Some((1, 0, MEMCACHED_SERVER_TEMPORARILY_DISABLED));
        let seen = std::cell::RefCell::new(Vec::new());
        let mut callbacks = [recorder(&seen, "only", "", MEMCACHED_SUCCESS)];

        let code = run_dump(&mut fake, 2, &mut callbacks);

        assert_eq!(code, MEMCACHED_SERVER_TEMPORARILY_DISABLED);
        assert!(seen.borrow().is_empty());
        assert_eq!(fake.sent, [(0, b"stats cachedump 0 0\r\n".to_vec())]);
    }

    #[test]
    fn run_dump_stops_on_failed_read() {
        let mut fake = two_servers();
        fake.replies.insert((0, 2), vec!["ITEM partial [1 b; 0 s]"]);
        let mut callbacks: [fn(&CStr) -> memcached_return_t; 0] = [];

        assert_eq!(run_dump(&mut fake, 2, &mut callbacks), MEMCACHED_TIMEOUT);
    }

    #[test]
    fn run_dump_without_callbacks_walks_everything() {
        let mut fake = two_servers();
        let mut callbacks: [fn(&CStr) -> memcached_return_t; 0] = [];

        assert_eq!(run_dump(&mut fake, 2, &mut callbacks), MEMCACHED_SUCCESS);
        assert_eq!(fake.sent.len(), 128);
    }
}
