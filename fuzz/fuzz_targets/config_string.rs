//! Feeds arbitrary configuration strings, and files for them to include, to the
//! configuration parser.
//!
//! Input layout: the bytes before the first 0xff are the configuration string. The bytes
//! after it are the contents returned for every file the string names (`INCLUDE`,
//! `--CONFIGURE-FILE=`). Without a 0xff every file read fails, and so does reading the empty
//! name, as opening "" does.
//!
//! Checked: no panic, and the same result on a second parse. On success every action must be
//! one that libmemcached's own calls accept, given the actions before it:
//! * server hosts and socket paths of 1-1024 bytes without NUL, and a non-zero server port;
//! * behavior numbers below `MEMCACHED_BEHAVIOR_MAX`;
//! * no `VERIFY_KEY` while the binary protocol is on, no `BUFFER_REQUESTS` while UDP is on;
//! * at most one namespace per `RESET`, one that `memcached_set_namespace` accepts;
//! * configuration file names that are not empty and contain no NUL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memcached::config::{parse, Action, ParseError};
use memcached::ffi::types::memcached_behavior_t::*;
use memcached::protocol::key::check_namespace;

/// File reads allowed per parse. Every file may include itself again up to the nesting
/// limit, so a file with several `INCLUDE`s would otherwise be read exponentially often.
const MAX_FILE_READS: usize = 64;

/// `NI_MAXHOST`: host names and socket paths must be shorter.
const MAX_HOST_LENGTH: usize = 1025;

fuzz_target!(|data: &[u8]| {
    let (config, file) = match data.iter().position(|&byte| byte == 0xff) {
        Some(split) => (&data[..split], Some(&data[split + 1..])),
        None => (data, None),
    };
    let first = parse_with_file(config, file);
    let second = parse_with_file(config, file);
    assert_eq!(first, second, "two parses of the same input differ");
    if let Ok(actions) = first {
        check_actions(&actions);
    }
});

fn parse_with_file(config: &[u8], file: Option<&[u8]>) -> Result<Vec<Action>, ParseError> {
    let mut reads = 0;
    let mut reader = |name: &[u8]| -> Result<Vec<u8>, String> {
        assert!(!name.contains(&0), "file name {name:?} contains a NUL");
        reads += 1;
        match file {
            _ if name.is_empty() => Err("No such file or directory".to_string()),
            _ if reads > MAX_FILE_READS => Err("Too many open files".to_string()),
            Some(contents) => Ok(contents.to_vec()),
            None => Err("No such file or directory".to_string()),
        }
    };
    parse(config, &mut reader)
}

fn check_actions(actions: &[Action]) {
    let binary = MEMCACHED_BEHAVIOR_BINARY_PROTOCOL as u32;
    let udp = MEMCACHED_BEHAVIOR_USE_UDP as u32;
    let verify_key = MEMCACHED_BEHAVIOR_VERIFY_KEY as u32;
    let buffer_requests = MEMCACHED_BEHAVIOR_BUFFER_REQUESTS as u32;
    let mut binary_on = false;
    let mut udp_on = false;
    let mut has_namespace = false;
    for action in actions {
        match action {
            Action::Server { host, port, .. } => {
                assert!(
                    !host.is_empty() && host.len() < MAX_HOST_LENGTH,
                    "server host of {} bytes",
                    host.len()
                );
                assert!(!host.contains(&0), "server host {host:?} contains a NUL");
                assert_ne!(*port, 0, "server {host:?} with port 0");
            }
            Action::Socket { path, .. } => {
                assert!(
                    !path.is_empty() && path.len() < MAX_HOST_LENGTH,
                    "socket path of {} bytes",
                    path.len()
                );
                assert!(!path.contains(&0), "socket path {path:?} contains a NUL");
            }
            Action::Behavior { behavior, value } => {
                assert!(
                    *behavior < MEMCACHED_BEHAVIOR_MAX as u32,
                    "behavior number {behavior}"
                );
                assert!(
                    !(*behavior == verify_key && binary_on),
                    "VERIFY_KEY set while the binary protocol is on"
                );
                assert!(
                    !(*behavior == buffer_requests && udp_on),
                    "BUFFER_REQUESTS set while UDP is on"
                );
                if *behavior == binary && *value != 0 {
                    binary_on = true;
                }
                if *behavior == udp && *value != 0 {
                    udp_on = true;
                }
            }
            Action::Namespace(namespace) => {
                assert!(!has_namespace, "a second namespace without RESET");
                has_namespace = true;
                assert_eq!(
                    check_namespace(namespace, binary_on),
                    Ok(()),
                    "namespace {namespace:?} with binary protocol {binary_on}"
                );
            }
            Action::ConfigureFile(name) => {
                // A quoted name cut at a leading NUL is empty, as in libmemcached, which then
                // fails to open it (or never does, after RESET); only NUL bytes are ruled out.
                assert!(
                    !name.contains(&0),
                    "configuration file name {name:?} contains a NUL"
                );
            }
            Action::Reset => {
                binary_on = false;
                udp_on = false;
                has_namespace = false;
            }
            Action::PoolMin(_) | Action::PoolMax(_) | Action::FetchVersion => {}
        }
    }
}
