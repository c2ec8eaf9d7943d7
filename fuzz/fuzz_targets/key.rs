//! Checks the key, namespace and stats-argument validators against their documented rules,
//! and that an accepted text-protocol key cannot change the shape of a command line.
//!
//! Input layout: byte 0 contains the options (bit 0: text protocol, bit 1: verify_key). Byte 1
//! is the namespace length, taken modulo the remaining length + 1. The namespace and then the
//! key follow. The whole input after byte 0 is also tried as a namespace and as stats arguments.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memcached::ffi::types::memcached_return_t::{
    MEMCACHED_BAD_KEY_PROVIDED, MEMCACHED_INVALID_ARGUMENTS, MEMCACHED_KEY_TOO_BIG,
};
use memcached::protocol::key::{
    check_key, check_namespace, check_stat_args, MAX_KEY_LEN, MAX_NAMESPACE_LEN,
};
use memcached::protocol::text::{
    encode_delete, encode_get, encode_stats, encode_storage, StorageVerb,
};

fuzz_target!(|data: &[u8]| {
    let Some((&options, rest)) = data.split_first() else {
        return;
    };
    let text_protocol = options & 1 != 0;
    let verify_key = options & 2 != 0;
    check_namespace_rules(rest, !text_protocol);
    check_stat_args_rules(rest, text_protocol, verify_key);

    let Some((&ns_len, rest)) = rest.split_first() else {
        return;
    };
    let (namespace, key) = rest.split_at(usize::from(ns_len) % (rest.len() + 1));
    check_key_rules(key, namespace, text_protocol, verify_key);
});

/// Bytes that would end or split a text command line.
fn splits_line(byte: u8) -> bool {
    byte <= b' ' || byte == 0x7f
}

fn check_key_rules(key: &[u8], namespace: &[u8], text_protocol: bool, verify_key: bool) {
    let result = check_key(key, namespace, text_protocol, verify_key);
    let wire_key = || namespace.iter().chain(key);
    let expected_ok = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && namespace.len() + key.len() <= MAX_KEY_LEN
        && (!text_protocol
            || if verify_key {
                wire_key().all(u8::is_ascii_graphic)
            } else {
                !wire_key().any(|&byte| splits_line(byte))
            });
    match result {
        Ok(()) => assert!(
            expected_ok,
            "accepted key {key:?} with namespace {namespace:?}"
        ),
        Err(code) => {
            assert!(
                !expected_ok,
                "rejected valid key {key:?} with namespace {namespace:?}"
            );
            assert_eq!(code, MEMCACHED_BAD_KEY_PROVIDED);
        }
    }
    if result.is_err() || !text_protocol {
        return;
    }

    assert!(!wire_key().any(|&byte| splits_line(byte)));
    let mut line = Vec::new();
    encode_get(&mut line, false, namespace, &[key, key]);
    assert_single_line(&line, 2);
    line.clear();
    encode_delete(&mut line, namespace, key, true);
    assert_single_line(&line, 2);
    line.clear();
    encode_storage(
        &mut line,
        StorageVerb::Cas,
        namespace,
        key,
        1,
        -1,
        5,
        7,
        true,
    );
    assert_single_line(&line, 6);
}

/// Asserts that `line` contains exactly one CRLF, at its end, and `spaces` spaces.
fn assert_single_line(line: &[u8], spaces: usize) {
    let crlf = line.windows(2).filter(|pair| pair == b"\r\n").count();
    assert_eq!(crlf, 1, "command {line:?} has {crlf} CRLF");
    assert!(
        line.ends_with(b"\r\n"),
        "command {line:?} does not end in CRLF"
    );
    assert!(!line[..line.len() - 2]
        .iter()
        .any(|&b| b == b'\r' || b == b'\n'));
    let found = line.iter().filter(|&&byte| byte == b' ').count();
    assert_eq!(
        found, spaces,
        "command {line:?} has {found} spaces, expected {spaces}"
    );
}

fn check_namespace_rules(namespace: &[u8], binary_protocol: bool) {
    let expected = if namespace.is_empty() {
        Err(MEMCACHED_INVALID_ARGUMENTS)
    } else if namespace.len() > MAX_KEY_LEN
        || (!binary_protocol && !namespace.iter().all(u8::is_ascii_graphic))
    {
        Err(MEMCACHED_BAD_KEY_PROVIDED)
    } else if namespace.len() > MAX_NAMESPACE_LEN {
        Err(MEMCACHED_KEY_TOO_BIG)
    } else {
        Ok(())
    };
    assert_eq!(
        check_namespace(namespace, binary_protocol),
        expected,
        "namespace {namespace:?}, binary protocol {binary_protocol}"
    );
}

fn check_stat_args_rules(args: &[u8], text_protocol: bool, verify_key: bool) {
    let result = check_stat_args(args, text_protocol, verify_key);
    if result.is_err() || !text_protocol {
        return;
    }
    assert!(!args.is_empty());
    assert!(args.len() <= MAX_KEY_LEN);
    assert!(
        !args.iter().any(|&byte| byte != b' ' && splits_line(byte)),
        "accepted stats arguments {args:?}"
    );
    if verify_key {
        assert!(args.iter().all(u8::is_ascii_graphic));
    }
    let mut line = Vec::new();
    encode_stats(&mut line, Some(args));
    let crlf = line.windows(2).filter(|pair| pair == b"\r\n").count();
    assert_eq!(crlf, 1, "stats command {line:?} has {crlf} CRLF");
    assert!(line.ends_with(b"\r\n"));
}
