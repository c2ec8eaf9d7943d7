//! `memcached_servers_parse` grammar: comma-separated `host[:port[:weight]]`, `host:port weight`,
//! `[ipv6]:port` and `/unix/socket/path` entries.

/// One parsed entry: host (IPv6 brackets kept), port (0 when absent), weight (0 when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntry {
    pub host: Vec<u8>,
    pub port: u16,
    pub weight: u32,
}

/// Longest entry accepted; libmemcached copies entries into a buffer of this size without a
/// bound check, so longer entries are rejected here.
pub const MAX_ENTRY_LEN: usize = 8196;
/// Host names of this length or longer do not fit `memcached_server_st.hostname`.
pub const MAX_HOST_LEN: usize = 1024;

/// Converts like C `strtoul` in base 10: leading whitespace, optional sign, digits; stops at the
/// first non-digit. Returns None on overflow (strtoul's ERANGE).
fn strtoul(text: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i < text.len() && (text[i] == b' ' || (b'\t'..=b'\r').contains(&text[i])) {
        i += 1;
    }
    let mut negative = false;
    if i < text.len() && (text[i] == b'+' || text[i] == b'-') {
        negative = text[i] == b'-';
        i += 1;
    }
    let mut value: u64 = 0;
    while i < text.len() && text[i].is_ascii_digit() {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(text[i] - b'0'))?;
        i += 1;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

fn find(haystack: &[u8], byte: u8) -> Option<usize> {
    haystack.iter().position(|&b| b == byte)
}

fn parse_entry(entry: &[u8]) -> Option<ServerEntry> {
    let separator = match (find(entry, b'['), find(entry, b']')) {
        (Some(open), Some(close)) if close > open => find(&entry[close..], b':').map(|p| p + close),
        _ => find(entry, b':'),
    };
    let Some(separator) = separator else {
        return Some(ServerEntry {
            host: entry.to_vec(),
            port: 0,
            weight: 0,
        });
    };
    let host = entry[..separator].to_vec();
    let rest = &entry[separator + 1..];
    let port = strtoul(rest)? as u16;
    let weight_start = find(rest, b' ').or_else(|| find(rest, b':'));
    let weight = match weight_start {
        Some(start) => strtoul(&rest[start + 1..])? as u32,
        None => 0,
    };
    Some(ServerEntry { host, port, weight })
}

/// Parses a server list string. Returns None for an empty string, a number out of range, an
/// entry longer than MAX_ENTRY_LEN or a host name longer than MAX_HOST_LEN.
pub fn parse_servers(input: &[u8]) -> Option<Vec<ServerEntry>> {
    if input.is_empty() {
        return None;
    }
    let mut entries = Vec::new();
    let mut rest = input;
    loop {
        let (entry, next) = match find(rest, b',') {
            Some(comma) => (&rest[..comma], Some(&rest[comma + 1..])),
            None => (rest, None),
        };
        if entry.len() > MAX_ENTRY_LEN {
            return None;
        }
        let parsed = parse_entry(entry)?;
        if parsed.host.len() > MAX_HOST_LEN {
            return None;
        }
        entries.push(parsed);
        let Some(mut after) = next else { break };
        // libmemcached skips exactly one whitespace character after a comma.
        if let Some(&first) = after.first() {
            if first == b' ' || (b'\t'..=b'\r').contains(&first) {
                after = &after[1..];
            }
        }
        if after.is_empty() {
            break;
        }
        rest = after;
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(host: &str, port: u16, weight: u32) -> ServerEntry {
        ServerEntry {
            host: host.as_bytes().to_vec(),
            port,
            weight,
        }
    }

    #[test]
    fn parses_hosts_ports_and_weights() {
        let parsed = parse_servers(b"10.0.0.1:11212, 10.0.0.2:11213:5,10.0.0.3 4").unwrap();
        assert_eq!(
            parsed,
            vec![
                entry("10.0.0.1", 11212, 0),
                entry("10.0.0.2", 11213, 5),
                entry("10.0.0.3 4", 0, 0)
            ]
        );
        assert_eq!(
            parse_servers(b"host1:1234 7").unwrap(),
            vec![entry("host1", 1234, 7)]
        );
    }

    #[test]
    fn keeps_ipv6_brackets() {
        let parsed = parse_servers(b"[::1]:11999, [fe80::1]").unwrap();
        assert_eq!(
            parsed,
            vec![entry("[::1]", 11999, 0), entry("[fe80::1]", 0, 0)]
        );
        assert_eq!(parse_servers(b"::1").unwrap(), vec![entry("", 0, 1)]);
    }

    #[test]
    fn skips_one_space_after_comma() {
        let parsed = parse_servers(b"a,  b").unwrap();
        assert_eq!(parsed, vec![entry("a", 0, 0), entry(" b", 0, 0)]);
        assert_eq!(parse_servers(b"a,").unwrap(), vec![entry("a", 0, 0)]);
        assert_eq!(
            parse_servers(b",a").unwrap(),
            vec![entry("", 0, 0), entry("a", 0, 0)]
        );
    }

    #[test]
    fn truncates_ports_and_rejects_overflow() {
        assert_eq!(
            parse_servers(b"h:70000").unwrap(),
            vec![entry("h", 4464, 0)]
        );
        assert_eq!(parse_servers(b"h:abc").unwrap(), vec![entry("h", 0, 0)]);
        assert_eq!(parse_servers(b"h:99999999999999999999999"), None);
    }

    #[test]
    fn rejects_empty_and_oversized_input() {
        assert_eq!(parse_servers(b""), None);
        let long = vec![b'a'; MAX_ENTRY_LEN + 1];
        assert_eq!(parse_servers(&long), None);
        let host = vec![b'h'; MAX_HOST_LEN + 1];
        assert_eq!(parse_servers(&host), None);
    }

    #[test]
    fn unix_paths_lose_the_port() {
        assert_eq!(
            parse_servers(b"/var/run/mc.sock:2").unwrap(),
            vec![entry("/var/run/mc.sock", 2, 0)]
        );
    }
}
