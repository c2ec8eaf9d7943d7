//! Replays the hash and placement vectors recorded from libmemcached 1.1.4 (Debian 12,
//! amd64) through `memcached::dist`.
//!
//! * `data/hashes.tsv`: `memcached_generate_hash_value(key, alg)` for 10 algorithms x 72 keys.
//! * `data/distribution.tsv`: `memcached_generate_hash(memc, key)` for 301 cases (server list
//!   x distribution x hash x setup) x 200 keys.
//! * `data/case_summary.txt`: per case, the state the real library ended up in: distribution,
//!   internal weighted flag, HASH, KETAMA_HASH, continuum size and points per server.
//!
//! Keys are lowercase hex, and the empty key is an empty field.

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;

use memcached::dist::hash;
use memcached::dist::{
    Selector, ServerPoint, DISTRIBUTION_CONSISTENT, DISTRIBUTION_CONSISTENT_KETAMA_SPY,
    DISTRIBUTION_MODULA,
};

fn read_data(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", name]
        .iter()
        .collect();
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()))
}

/// Splits a TSV file into rows of fields, without its header line.
fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines().skip(1).map(|line| line.split('\t').collect())
}

fn decode_hex(hex: &str) -> Vec<u8> {
    assert!(hex.len() % 2 == 0, "odd-length hex key {hex:?}");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Maps a `memcached_hash_t` name without its prefix to its number.
fn hash_number(name: &str) -> u32 {
    match name {
        "DEFAULT" => hash::HASH_DEFAULT,
        "MD5" => hash::HASH_MD5,
        "CRC" => hash::HASH_CRC,
        "FNV1_64" => hash::HASH_FNV1_64,
        "FNV1A_64" => hash::HASH_FNV1A_64,
        "FNV1_32" => hash::HASH_FNV1_32,
        "FNV1A_32" => hash::HASH_FNV1A_32,
        "HSIEH" => hash::HASH_HSIEH,
        "MURMUR" => hash::HASH_MURMUR,
        "JENKINS" => hash::HASH_JENKINS,
        "MURMUR3" => hash::HASH_MURMUR3,
        other => panic!("invalid hash name {other:?}"),
    }
}

/// A handle's server array as `memcached_server_add` and `memcached_server_push` fill it.
#[derive(Default)]
struct ServerArray {
    /// Host name, port and stored weight of each server, in array order.
    servers: Vec<(String, u16, u32)>,
}

impl ServerArray {
    fn points(&self) -> Vec<ServerPoint<'_>> {
        self.servers
            .iter()
            .map(|(name, port, weight)| ServerPoint {
                name: name.as_bytes(),
                port: *port,
                weight: *weight,
                live: true,
            })
            .collect()
    }

    /// Appends one server the way libmemcached stores it: port 0 as 11211, weight 0 as 1.
    fn append(&mut self, entry: &ServerEntry) {
        let port = if entry.port == 0 { 11211 } else { entry.port };
        self.servers
            .push((entry.host.clone(), port, entry.weight.max(1)));
    }

    /// `memcached_server_add(host, port)`, or `_with_weight` for an entry with a weight.
    fn add(&mut self, selector: &mut Selector, entry: &ServerEntry) {
        self.append(entry);
        selector.server_added(entry.weight, &self.points());
    }

    /// `memcached_server_push(memcached_servers_parse(list))`.
    fn push(&mut self, selector: &mut Selector, entries: &[ServerEntry]) {
        for entry in entries {
            self.append(entry);
        }
        let any_weight_above_one = entries.iter().any(|e| e.weight > 1);
        selector.servers_pushed(any_weight_above_one, &self.points());
    }

    /// `memcached_generate_hash`: a one-server handle skips hashing and selects index 0.
    fn generate_hash(&self, selector: &Selector, key: &[u8]) -> usize {
        let count = self.servers.len();
        let hash = if count == 1 {
            0
        } else {
            selector.hash_key(key)
        };
        selector.pick(hash, count, || 0)
    }
}

/// One entry of a server list, `host`, `host:port` or `host:port:weight`.
struct ServerEntry {
    host: String,
    /// 0 when the list gives no port.
    port: u16,
    /// 0 when the list gives no weight: `memcached_server_add` passes 0.
    weight: u32,
}

/// Parses the lists of the vectors, which contain no IPv6 literals, spaces or socket paths.
fn parse_server_list(list: &str) -> Vec<ServerEntry> {
    list.split(',')
        .map(|entry| {
            let mut parts = entry.split(':');
            let host = parts.next().expect("host").to_string();
            let port = parts.next().map_or(0, |p| p.parse().expect("port"));
            let weight = parts.next().map_or(0, |w| w.parse().expect("weight"));
            ServerEntry { host, port, weight }
        })
        .collect()
}

/// The columns of `distribution.tsv` that describe one case.
struct Case<'a> {
    id: &'a str,
    servers: &'a str,
    distribution: &'a str,
    hash: &'a str,
    ketama_hash: &'a str,
}

/// Applies the distribution call(s), then `HASH`, then `KETAMA_HASH` if the case sets it.
fn apply_behaviors(selector: &mut Selector, case: &Case, servers: &ServerArray) {
    let points = servers.points();
    match case.distribution {
        "MODULA" => selector
            .set_distribution(u64::from(DISTRIBUTION_MODULA), &points)
            .unwrap(),
        "CONSISTENT" => selector
            .set_distribution(u64::from(DISTRIBUTION_CONSISTENT), &points)
            .unwrap(),
        "KETAMA" => selector.set_ketama(1, &points),
        "KETAMA_WEIGHTED" => selector.set_ketama_weighted(1, &points),
        "KETAMA_SPY" => selector
            .set_distribution(u64::from(DISTRIBUTION_CONSISTENT_KETAMA_SPY), &points)
            .unwrap(),
        "KETAMA_SPY_WEIGHTED" => {
            selector.set_ketama_weighted(1, &points);
            selector
                .set_distribution(u64::from(DISTRIBUTION_CONSISTENT_KETAMA_SPY), &points)
                .unwrap();
        }
        other => panic!("{}: invalid distribution {other:?}", case.id),
    }

    let key_hash = hash_number(case.hash);
    selector
        .set_key_hash(u64::from(key_hash))
        .unwrap_or_else(|()| panic!("{}: HASH {} was rejected", case.id, case.hash));
    if case.ketama_hash != "-" {
        let distribution_hash = hash_number(case.ketama_hash);
        selector
            .set_distribution_hash(u64::from(distribution_hash))
            .unwrap_or_else(|()| {
                panic!("{}: KETAMA_HASH {} was rejected", case.id, case.ketama_hash)
            });
    }
}

/// Builds the selector and server array of a case in the call order of its setup.
fn build_case(case: &Case) -> (Selector, ServerArray) {
    let entries = parse_server_list(case.servers);
    let setup = case.id.rsplit('@').next().expect("setup");
    let mut selector = Selector::new();
    let mut servers = ServerArray::default();
    match setup {
        "bf" => {
            apply_behaviors(&mut selector, case, &servers);
            for entry in &entries {
                servers.add(&mut selector, entry);
            }
        }
        "add" => {
            for entry in &entries {
                servers.add(&mut selector, entry);
            }
            apply_behaviors(&mut selector, case, &servers);
        }
        "push" => {
            servers.push(&mut selector, &entries);
            apply_behaviors(&mut selector, case, &servers);
        }
        other => panic!("{}: invalid setup {other:?}", case.id),
    }
    (selector, servers)
}

/// Formats the state of a built case as a `case_summary.txt` line without the case id.
fn describe(selector: &Selector, servers: &ServerArray) -> String {
    let hash_name = |number: u32| {
        [
            "DEFAULT", "MD5", "CRC", "FNV1_64", "FNV1A_64", "FNV1_32", "FNV1A_32", "HSIEH",
            "MURMUR", "JENKINS", "MURMUR3", "CUSTOM",
        ]
        .get(number as usize)
        .copied()
        .unwrap_or("INVALID")
    };
    let points = selector.continuum_points();
    let per_server: Vec<String> = (0..servers.servers.len())
        .map(|index| {
            let owned = points.iter().filter(|p| p.index as usize == index).count();
            owned.to_string()
        })
        .collect();
    format!(
        "dist={} weighted={} keyhash={} disthash={} points={} per-server={}",
        selector.distribution(),
        u8::from(selector.is_weighted()),
        hash_name(selector.key_hash()),
        hash_name(selector.distribution_hash()),
        points.len(),
        per_server.join(",")
    )
}

/// Counts mismatches and keeps the messages of the first 20.
#[derive(Default)]
struct Mismatches {
    count: usize,
    first_messages: Vec<String>,
}

impl Mismatches {
    fn record(&mut self, message: String) {
        self.count += 1;
        if self.first_messages.len() < 20 {
            self.first_messages.push(message);
        }
    }

    fn assert_none(&self, file_name: &str) {
        assert!(
            self.count == 0,
            "{} {file_name} mismatches, first ones:\n{}",
            self.count,
            self.first_messages.join("\n")
        );
    }
}

#[test]
fn hashes_match_libmemcached() {
    let text = read_data("hashes.tsv");
    let mut checked = 0;
    let mut mismatches = Mismatches::default();
    for row in rows(&text) {
        assert_eq!(row.len(), 3, "hashes.tsv row {row:?}");
        let alg = hash_number(row[0]);
        let key = decode_hex(row[1]);
        let expected: u32 = row[2].parse().expect("decimal hash");

        let direct = hash::hash(alg, &key);
        if direct != Some(expected) {
            mismatches.record(format!(
                "{} {}: {direct:?}, expected {expected}",
                row[0], row[1]
            ));
        }

        // The same value through a handle's key hash, and through MODULA on 7 servers.
        let mut selector = Selector::new();
        selector
            .set_key_hash(u64::from(alg))
            .expect("available hash");
        let through_handle = selector.hash_key(&key);
        if through_handle != expected {
            mismatches.record(format!(
                "{} {} via handle: {through_handle}",
                row[0], row[1]
            ));
        }
        let index = selector.pick(through_handle, 7, || 0);
        if index != (expected % 7) as usize {
            mismatches.record(format!("{} {} modulo 7: {index}", row[0], row[1]));
        }
        checked += 1;
    }
    mismatches.assert_none("hashes.tsv");
    assert_eq!(checked, 720, "hashes.tsv row count");
    println!("hashes.tsv: {checked} of {checked} rows match");
}

#[test]
fn distribution_matches_libmemcached() {
    let summary_text = read_data("case_summary.txt");
    let summaries: HashMap<&str, &str> = summary_text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .collect();

    let text = read_data("distribution.tsv");
    let mut built: Option<(String, Selector, ServerArray)> = None;
    let mut cases = 0;
    let mut checked = 0;
    let mut mismatches = Mismatches::default();
    for row in rows(&text) {
        assert_eq!(row.len(), 7, "distribution.tsv row {row:?}");
        let case = Case {
            id: row[0],
            servers: row[1],
            distribution: row[2],
            hash: row[3],
            ketama_hash: row[4],
        };

        // Rows of one case are consecutive, so each case's continuum is built once.
        if built.as_ref().map(|(id, _, _)| id.as_str()) != Some(case.id) {
            let (selector, servers) = build_case(&case);
            let state = describe(&selector, &servers);
            match summaries.get(case.id) {
                Some(&expected) if expected == state => {}
                Some(&expected) => {
                    mismatches.record(format!("{}: state {state}, expected {expected}", case.id))
                }
                None => mismatches.record(format!("{}: no summary line", case.id)),
            }
            built = Some((case.id.to_string(), selector, servers));
            cases += 1;
        }
        let (_, selector, servers) = built.as_ref().expect("case built above");

        let key = decode_hex(row[5]);
        let expected: usize = row[6].parse().expect("server index");
        let got = servers.generate_hash(selector, &key);
        if got != expected {
            mismatches.record(format!(
                "{} key {}: {got}, expected {expected}",
                case.id, row[5]
            ));
        }
        checked += 1;
    }
    mismatches.assert_none("distribution.tsv");
    assert_eq!(checked, 60200, "distribution.tsv row count");
    assert_eq!(cases, 301, "distribution.tsv case count");
    assert_eq!(summaries.len(), 301, "case_summary.txt line count");
    println!("distribution.tsv: {checked} of {checked} rows in {cases} cases match");
}
