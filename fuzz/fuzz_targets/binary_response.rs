//! Feeds arbitrary bytes to the binary protocol response parser as a stream of pipelined
//! packets.
//!
//! Checked for every packet parsed from the stream:
//! * a Complete packet consumes at least the 24-byte header and no more than the buffer contains,
//!   and its extras, key and value lengths match the header fields and add up to the body;
//! * Incomplete { needed: Some(n) } requests more bytes than the buffer contains;
//! * every shorter prefix of a packet is Incomplete with a length in (prefix, packet], and
//!   the packet alone parses to the same response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memcached::protocol::binary::{parse_response, Response, HEADER_LEN};
use memcached::protocol::Parsed;

const MAX_PACKETS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    for _ in 0..MAX_PACKETS {
        let Ok(parsed) = parse_response(rest) else {
            return;
        };
        match parsed {
            Parsed::Incomplete { needed } => {
                let needed = needed.expect("a binary header always announces its length");
                assert!(
                    needed > rest.len(),
                    "Incomplete requests {needed} bytes but {} are present",
                    rest.len()
                );
                return;
            }
            Parsed::Complete { reply, consumed } => {
                assert!(
                    (HEADER_LEN..=rest.len()).contains(&consumed),
                    "Complete consumed {consumed} of {} bytes",
                    rest.len()
                );
                check_fields(&reply, &rest[..consumed]);
                check_alone_and_prefixes(&reply, &rest[..consumed]);
                rest = &rest[consumed..];
            }
        }
    }
});

fn check_fields(response: &Response<'_>, packet: &[u8]) {
    let key_len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    let extras_len = usize::from(packet[4]);
    let body_len = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]) as usize;
    assert_eq!(response.extras.len(), extras_len);
    assert_eq!(response.key.len(), key_len);
    assert_eq!(
        response.extras.len() + response.key.len() + response.value.len(),
        body_len
    );
    assert_eq!(packet.len(), HEADER_LEN + body_len);
    assert_eq!(response.opcode, packet[1]);
    assert_eq!(response.status, u16::from_be_bytes([packet[6], packet[7]]));
}

fn check_alone_and_prefixes(response: &Response<'_>, packet: &[u8]) {
    let consumed = packet.len();
    match parse_response(packet) {
        Ok(Parsed::Complete {
            reply,
            consumed: alone,
        }) => {
            assert_eq!(reply, *response, "the packet parses differently on its own");
            assert_eq!(alone, consumed);
        }
        other => panic!("the packet on its own returned {other:?}"),
    }
    // Parsing a prefix reads at most the header, so checking all of them is linear.
    for len in 0..consumed {
        match parse_response(&packet[..len]) {
            Ok(Parsed::Incomplete { needed: Some(n) }) => {
                assert!(
                    n > len,
                    "prefix of {len} bytes: Incomplete requests {n} bytes"
                );
                assert!(
                    n <= consumed,
                    "prefix of {len} bytes requests {n} bytes, but the packet is {consumed} bytes"
                );
            }
            other => panic!("prefix of {len} bytes of a {consumed}-byte packet returned {other:?}"),
        }
    }
}
