//! Validation of keys, the namespace (`MEMCACHED_CALLBACK_PREFIX_KEY`) and `stats` arguments,
//! done before anything is encoded.
//!
//! The rules follow libmemcached 1.1.4 with two deliberate additions, both for keys that
//! libmemcached sends although the server cannot accept them:
//!
//! * In the text protocol a key or namespace byte that would end or split the command line
//!   (space, the control bytes 0x00-0x1f, and 0x7f) gives `MEMCACHED_BAD_KEY_PROVIDED` even
//!   without `VERIFY_KEY`. libmemcached sends such a key. memcached 1.6 then replies
//!   `CLIENT_ERROR` and reads the value block as a command, so the following replies are out of
//!   step. With a CR LF pair in the key the rest of the key becomes a second command.
//! * The namespace plus the key may not exceed [`MAX_KEY_LEN`] bytes, in either protocol.
//!   libmemcached only checks the key's own length and sends the longer wire key, which the
//!   server rejects (and, in the text protocol, again knocks the replies out of step).

use crate::ffi::types::memcached_return_t;
use crate::ffi::types::memcached_return_t::{
    MEMCACHED_BAD_KEY_PROVIDED, MEMCACHED_INVALID_ARGUMENTS, MEMCACHED_KEY_TOO_BIG,
};

/// Maximum key length memcached accepts, in bytes. libmemcached's `MEMCACHED_MAX_KEY` (251)
/// counts a terminating NUL on top of this.
pub const MAX_KEY_LEN: usize = 250;

/// Maximum namespace length `memcached_callback_set(MEMCACHED_CALLBACK_PREFIX_KEY)` accepts,
/// in bytes.
pub const MAX_NAMESPACE_LEN: usize = 127;

/// Checks a key before it is sent with `namespace` glued in front of it.
///
/// In order:
/// 1. An empty key or a key longer than [`MAX_KEY_LEN`] gives `BAD_KEY_PROVIDED`. The
///    namespace is not counted here, as in libmemcached.
/// 2. A namespace plus key longer than [`MAX_KEY_LEN`] gives `BAD_KEY_PROVIDED` (an addition,
///    see the module documentation).
/// 3. Text protocol only. With `verify_key` every byte of the namespace and the key must be
///    printable ASCII other than space (0x21..=0x7e, `isgraph` in the C locale). Without it,
///    space, 0x00..=0x1f and 0x7f are still rejected (an addition), while bytes from 0x80 up
///    are allowed. Either failure gives `BAD_KEY_PROVIDED`. The namespace is checked here too
///    because it may have been set while the binary protocol was on.
///
/// The binary protocol carries the key with a length field, so any bytes are allowed there.
pub fn check_key(
    key: &[u8],
    namespace: &[u8],
    text_protocol: bool,
    verify_key: bool,
) -> Result<(), memcached_return_t> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(MEMCACHED_BAD_KEY_PROVIDED);
    }
    if namespace.len().saturating_add(key.len()) > MAX_KEY_LEN {
        return Err(MEMCACHED_BAD_KEY_PROVIDED);
    }
    if text_protocol && !text_key_allowed(key, namespace, verify_key) {
        return Err(MEMCACHED_BAD_KEY_PROVIDED);
    }
    Ok(())
}

/// Checks the bytes of a text-protocol key and namespace. It is kept out of `check_key` so that
/// a binary-protocol check stays a few compares.
#[inline(never)]
fn text_key_allowed(key: &[u8], namespace: &[u8], verify_key: bool) -> bool {
    if verify_key {
        all_graphic(namespace) && all_graphic(key)
    } else {
        all_safe_in_command_line(namespace) && all_safe_in_command_line(key)
    }
}

/// Checks a namespace for `memcached_callback_set(MEMCACHED_CALLBACK_PREFIX_KEY)`.
///
/// An empty namespace gives `INVALID_ARGUMENTS`, one longer than [`MAX_KEY_LEN`] gives
/// `BAD_KEY_PROVIDED`. In the text protocol every byte must be printable ASCII other than
/// space (0x21..=0x7e) whether or not `VERIFY_KEY` is on, else `BAD_KEY_PROVIDED`. Finally a
/// namespace longer than [`MAX_NAMESPACE_LEN`] gives `KEY_TOO_BIG`. The order of the checks
/// is libmemcached's, so a 300-byte namespace gives `BAD_KEY_PROVIDED`, not `KEY_TOO_BIG`.
pub fn check_namespace(namespace: &[u8], binary_protocol: bool) -> Result<(), memcached_return_t> {
    if namespace.is_empty() {
        return Err(MEMCACHED_INVALID_ARGUMENTS);
    }
    if namespace.len() > MAX_KEY_LEN {
        return Err(MEMCACHED_BAD_KEY_PROVIDED);
    }
    if !binary_protocol && !namespace.iter().all(|&byte| is_graphic(byte)) {
        return Err(MEMCACHED_BAD_KEY_PROVIDED);
    }
    if namespace.len() > MAX_NAMESPACE_LEN {
        return Err(MEMCACHED_KEY_TOO_BIG);
    }
    Ok(())
}

/// Checks the `args` of `memcached_stat` (for example `slabs` or `cachedump 1 10`).
///
/// They are checked like a key, with one difference: without `verify_key` the text protocol
/// allows spaces, because they separate the words of the request. Control bytes and 0x7f are
/// rejected there all the same, so `args` can never end the `stats` line early. Empty args or
/// args longer than [`MAX_KEY_LEN`] give `BAD_KEY_PROVIDED` in both protocols.
pub fn check_stat_args(
    args: &[u8],
    text_protocol: bool,
    verify_key: bool,
) -> Result<(), memcached_return_t> {
    if args.is_empty() || args.len() > MAX_KEY_LEN {
        return Err(MEMCACHED_BAD_KEY_PROVIDED);
    }
    if text_protocol {
        let allowed = if verify_key {
            is_graphic
        } else {
            |byte: u8| byte == b' ' || is_safe_in_command_line(byte)
        };
        if !args.iter().all(|&byte| allowed(byte)) {
            return Err(MEMCACHED_BAD_KEY_PROVIDED);
        }
    }
    Ok(())
}

/// `isgraph()` in the C locale.
fn is_graphic(byte: u8) -> bool {
    byte.is_ascii_graphic()
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// True when no byte of `word` is below 0x21 or equal to 0x7f (bytes >= 0x80 pass).
fn word_safe_in_command_line(word: u64) -> bool {
    // A byte below 0x21 (with its high bit clear) sets its high bit in `below`, and a 0x7f
    // byte becomes 0 in `del` and sets its high bit there; bytes >= 0x80 set neither.
    let below = word.wrapping_sub(ONES * 0x21) & !word & HIGH;
    let del = word ^ (ONES * 0x7f);
    let is_del = del.wrapping_sub(ONES) & !del & HIGH;
    below | is_del == 0
}

/// Checks `bytes` eight at a time with `word_ok`, or one at a time with `byte_ok` when
/// there are fewer than eight. The tail of a longer input is checked as its last eight bytes,
/// which overlap bytes already checked.
#[inline(always)]
fn all_words(bytes: &[u8], word_ok: impl Fn(u64) -> bool, byte_ok: impl Fn(u8) -> bool) -> bool {
    let load = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    if bytes.len() < 8 {
        return bytes.iter().all(|&byte| byte_ok(byte));
    }
    let mut at = 0;
    while at + 8 <= bytes.len() {
        if !word_ok(load(at)) {
            return false;
        }
        at += 8;
    }
    at == bytes.len() || word_ok(load(bytes.len() - 8))
}

/// Checks `is_safe_in_command_line` for every byte, eight bytes at a time.
fn all_safe_in_command_line(bytes: &[u8]) -> bool {
    all_words(bytes, word_safe_in_command_line, is_safe_in_command_line)
}

/// Checks `is_graphic` for every byte, eight bytes at a time: graphic bytes are the bytes safe
/// in a command line that are also ASCII.
fn all_graphic(bytes: &[u8]) -> bool {
    all_words(
        bytes,
        |word| word & HIGH == 0 && word_safe_in_command_line(word),
        is_graphic,
    )
}

/// True for bytes that cannot end or split a text command line: everything except space,
/// the control bytes and DEL.
fn is_safe_in_command_line(byte: u8) -> bool {
    byte > b' ' && byte != 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_check_matches_byte_check() {
        for byte in 0..=255u8 {
            for position in 0..17 {
                let mut bytes = vec![b'k'; 17];
                bytes[position] = byte;
                assert_eq!(
                    all_safe_in_command_line(&bytes),
                    is_safe_in_command_line(byte),
                    "byte {byte:#04x} at {position}"
                );
            }
        }
    }

    #[test]
    fn graphic_word_check_matches_byte_check() {
        for len in 0..20 {
            for byte in 0..=255u8 {
                for position in 0..len {
                    let mut bytes = vec![b'k'; len];
                    bytes[position] = byte;
                    assert_eq!(all_graphic(&bytes), is_graphic(byte), "{byte:#04x} at {position} of {len}");
                    assert_eq!(
                        all_safe_in_command_line(&bytes),
                        is_safe_in_command_line(byte),
                        "{byte:#04x} at {position} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn word_check_matches_byte_check_on_random_words() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Bias the bytes toward the edges 0x20/0x21 and 0x7e/0x7f/0x80.
            let bytes: Vec<u8> = state
                .to_le_bytes()
                .iter()
                .map(|&b| match b % 4 {
                    0 => 0x1f + (b >> 6),
                    1 => 0x7d + (b >> 6),
                    _ => b,
                })
                .collect();
            let expected = bytes.iter().all(|&b| is_safe_in_command_line(b));
            assert_eq!(all_safe_in_command_line(&bytes), expected, "{bytes:02x?}");
            let graphic = bytes.iter().all(|&b| is_graphic(b));
            assert_eq!(all_graphic(&bytes), graphic, "{bytes:02x?}");
        }
    }
    use crate::ffi::types::memcached_return_t::MEMCACHED_SUCCESS;

    const BAD: Result<(), memcached_return_t> = Err(MEMCACHED_BAD_KEY_PROVIDED);

    fn code(result: Result<(), memcached_return_t>) -> memcached_return_t {
        result.err().unwrap_or(MEMCACHED_SUCCESS)
    }

    #[test]
    fn key_length_limits() {
        for (text, verify) in [(true, true), (true, false), (false, false)] {
            assert_eq!(check_key(b"", b"", text, verify), BAD);
            assert_eq!(check_key(&[b'k'; 1], b"", text, verify), Ok(()));
            assert_eq!(check_key(&[b'k'; 250], b"", text, verify), Ok(()));
            assert_eq!(check_key(&[b'k'; 251], b"", text, verify), BAD);
            assert_eq!(check_key(&[b'k'; 100_000], b"", text, verify), BAD);
        }
    }

    #[test]
    fn key_plus_namespace_limit() {
        for text in [true, false] {
            assert_eq!(check_key(&[b'k'; 246], b"pfx:", text, false), Ok(()));
            assert_eq!(check_key(&[b'k'; 247], b"pfx:", text, false), BAD);
            assert_eq!(check_key(&[b'k'; 250], b"pfx:", text, false), BAD);
            assert_eq!(check_key(b"k", &[b'n'; 249], text, false), Ok(()));
            assert_eq!(check_key(b"k", &[b'n'; 250], text, false), BAD);
        }
        // An empty key stays BAD_KEY_PROVIDED even when the namespace is not empty.
        assert_eq!(check_key(b"", b"pfx:", true, false), BAD);
    }

    #[test]
    fn key_bytes_by_mode() {
        // (key, text with VERIFY_KEY, text without it, binary)
        let table: [(&[u8], bool, bool, bool); 14] = [
            (b"plain", true, true, true),
            (b"a:b/c~!", true, true, true),
            (b"has space", false, false, true),
            (b"cr\rcr", false, false, true),
            (b"lf\nlf", false, false, true),
            (b"crlf\r\nget x", false, false, true),
            (b"nul\0nul", false, false, true),
            (b"tab\t", false, false, true),
            (b"esc\x1b", false, false, true),
            (b"\x1f", false, false, true),
            (b"del\x7f", false, false, true),
            (b"high\x80", false, true, true),
            (b"latin\xe9", false, true, true),
            (b"\xff", false, true, true),
        ];
        for (key, verified, text, binary) in table {
            assert_eq!(check_key(key, b"", true, true).is_ok(), verified, "{key:?}");
            assert_eq!(check_key(key, b"", true, false).is_ok(), text, "{key:?}");
            assert_eq!(check_key(key, b"", false, false).is_ok(), binary, "{key:?}");
            // VERIFY_KEY has no effect in the binary protocol.
            assert_eq!(check_key(key, b"", false, true).is_ok(), binary, "{key:?}");
        }
    }

    #[test]
    fn key_rejects_bad_namespace_in_text() {
        assert_eq!(check_key(b"key", b"a b", true, false), BAD);
        assert_eq!(check_key(b"key", b"a\r\n", true, false), BAD);
        assert_eq!(check_key(b"key", b"\xe9", true, true), BAD);
        assert_eq!(check_key(b"key", b"\xe9", true, false), Ok(()));
        assert_eq!(check_key(b"key", b"a b", false, false), Ok(()));
    }

    #[test]
    fn namespace_checks() {
        assert_eq!(
            code(check_namespace(b"", false)),
            MEMCACHED_INVALID_ARGUMENTS
        );
        assert_eq!(
            code(check_namespace(b"", true)),
            MEMCACHED_INVALID_ARGUMENTS
        );
        assert_eq!(check_namespace(b"pfx:", false), Ok(()));
        assert_eq!(check_namespace(&[b'n'; 127], false), Ok(()));
        assert_eq!(
            code(check_namespace(&[b'n'; 128], false)),
            MEMCACHED_KEY_TOO_BIG
        );
        assert_eq!(
            code(check_namespace(&[b'n'; 128], true)),
            MEMCACHED_KEY_TOO_BIG
        );
        assert_eq!(
            code(check_namespace(&[b'n'; 250], true)),
            MEMCACHED_KEY_TOO_BIG
        );
        assert_eq!(check_namespace(&[b'n'; 251], true), BAD);
    }

    #[test]
    fn namespace_bytes_by_protocol() {
        for bad in [&b"bad key"[..], b"a\r\nb", b"\0", b"\x7f", b"\x80"] {
            assert_eq!(check_namespace(bad, false), BAD, "{bad:?}");
            assert_eq!(check_namespace(bad, true), Ok(()), "{bad:?}");
        }
    }

    #[test]
    fn stat_args_checks() {
        assert_eq!(check_stat_args(b"", true, false), BAD);
        assert_eq!(check_stat_args(b"", false, false), BAD);
        assert_eq!(check_stat_args(b"slabs", true, true), Ok(()));
        assert_eq!(check_stat_args(b"cachedump 1 10", true, false), Ok(()));
        assert_eq!(check_stat_args(b"cachedump 1 10", true, true), BAD);
        assert_eq!(check_stat_args(b"cachedump 1 10", false, false), Ok(()));
        assert_eq!(check_stat_args(b"items\r\nflush_all", true, false), BAD);
        assert_eq!(check_stat_args(b"items\0", true, false), BAD);
        assert_eq!(check_stat_args(b"items\r\n", false, false), Ok(()));
        assert_eq!(check_stat_args(&[b's'; 250], true, true), Ok(()));
        assert_eq!(check_stat_args(&[b's'; 251], true, true), BAD);
        assert_eq!(check_stat_args(&[b's'; 251], false, false), BAD);
    }
}
