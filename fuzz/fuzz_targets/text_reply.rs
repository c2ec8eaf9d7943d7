//! Feeds arbitrary bytes to the text protocol reply parser as a stream of pipelined replies.
//!
//! Checked for every reply parsed from the stream:
//! * a Complete reply consumes at least 1 byte and no more than the buffer contains;
//! * Incomplete { needed: Some(n) } requests more bytes than the buffer contains;
//! * the reply alone (the first `consumed` bytes) parses to the same reply, so the result does
//!   not depend on bytes that follow it;
//! * every shorter prefix of the reply is Incomplete, never an error or another reply;
//! * a length announced for a prefix is at most the reply's own length, so a reader that
//!   trusts it does not wait for more bytes than the reply has.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memcached::protocol::text::{parse_reply, TextReply};
use memcached::protocol::Parsed;

/// Maximum replies parsed from one input, which bounds the time per input.
const MAX_REPLIES: usize = 64;

/// Reply length up to which every prefix is checked. Longer replies get a sample of prefixes,
/// because each check scans the prefix for a CRLF, so checking all of them is quadratic.
const ALL_PREFIXES_UP_TO: usize = 256;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    for _ in 0..MAX_REPLIES {
        let Ok(parsed) = parse_reply(rest) else {
            return;
        };
        match parsed {
            Parsed::Incomplete { needed } => {
                if let Some(needed) = needed {
                    assert!(
                        needed > rest.len(),
                        "Incomplete requests {needed} bytes but {} are present",
                        rest.len()
                    );
                }
                return;
            }
            Parsed::Complete { reply, consumed } => {
                assert!(
                    (1..=rest.len()).contains(&consumed),
                    "Complete consumed {consumed} of {} bytes",
                    rest.len()
                );
                check_reply_shape(&reply, &rest[..consumed]);
                check_alone_and_prefixes(&reply, &rest[..consumed]);
                rest = &rest[consumed..];
            }
        }
    }
});

/// Checks that a reply is a line ending in CRLF, or a VALUE line plus its data block and CRLF.
fn check_reply_shape(reply: &TextReply<'_>, bytes: &[u8]) {
    assert!(
        bytes.ends_with(b"\r\n"),
        "reply {reply:?} does not end in CRLF"
    );
    if let TextReply::Value { key, data, .. } = reply {
        assert!(!key.is_empty(), "VALUE with an empty key");
        assert!(!key.contains(&b' '), "VALUE key {key:?} contains a space");
        assert!(bytes.starts_with(b"VALUE "));
        assert!(
            data.len() + 2 < bytes.len(),
            "VALUE data of {} bytes in a reply of {} bytes",
            data.len(),
            bytes.len()
        );
    }
}

fn check_alone_and_prefixes(reply: &TextReply<'_>, bytes: &[u8]) {
    let consumed = bytes.len();
    match parse_reply(bytes) {
        Ok(Parsed::Complete {
            reply: alone,
            consumed: alone_consumed,
        }) => {
            assert_eq!(alone, *reply, "the reply parses differently on its own");
            assert_eq!(alone_consumed, consumed);
        }
        other => panic!("the reply {reply:?} on its own returned {other:?}"),
    }
    for len in prefix_lengths(consumed) {
        match parse_reply(&bytes[..len]) {
            Ok(Parsed::Incomplete { needed: None }) => {}
            Ok(Parsed::Incomplete { needed: Some(n) }) => {
                assert!(
                    n > len,
                    "prefix of {len} bytes: Incomplete requests {n} bytes"
                );
                assert!(
                    n <= consumed,
                    "prefix of {len} bytes requests {n} bytes, but the reply is {consumed} bytes"
                );
            }
            other => panic!(
                "prefix of {len} bytes of a {consumed}-byte reply {reply:?} returned {other:?}"
            ),
        }
    }
}

/// Returns the prefix lengths to check, all below `consumed`.
fn prefix_lengths(consumed: usize) -> Vec<usize> {
    if consumed <= ALL_PREFIXES_UP_TO {
        return (0..consumed).collect();
    }
    let mut lengths: Vec<usize> = (0..64).collect();
    lengths.extend(consumed - 64..consumed);
    let step = consumed / 32;
    lengths.extend((1..32).map(|i| i * step));
    lengths
}
