//! Feeds arbitrary bytes to the `memcached_servers_parse` grammar.
//!
//! Checked for an accepted list:
//! * it has at least one entry and no more entries than commas + 1;
//! * every host is shorter than 1025 bytes, so it fits `memcached_server_st.hostname` with its
//!   NUL, and contains no comma;
//! * the hosts together are no longer than the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memcached::parse::{parse_servers, MAX_HOST_LEN};

fuzz_target!(|data: &[u8]| {
    let Some(entries) = parse_servers(data) else {
        return;
    };
    assert!(!entries.is_empty(), "accepted {data:?} with no entries");
    let commas = data.iter().filter(|&&byte| byte == b',').count();
    assert!(
        entries.len() <= commas + 1,
        "{} entries from {commas} commas",
        entries.len()
    );
    let mut host_bytes = 0;
    for entry in &entries {
        assert!(
            entry.host.len() < 1025 && entry.host.len() <= MAX_HOST_LEN,
            "host of {} bytes accepted",
            entry.host.len()
        );
        assert!(
            !entry.host.contains(&b','),
            "host {:?} contains a comma",
            entry.host
        );
        host_bytes += entry.host.len();
    }
    assert!(host_bytes <= data.len());
});
