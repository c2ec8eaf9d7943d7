//! Server selection: which server of a handle a key goes to.
//!
//! [`Selector`] holds the selection state of one `memcached_st` (distribution, weighted flag,
//! key hash, distribution hash, continuum, virtual buckets). Its methods are named after the
//! libmemcached calls that change that state, and they reproduce libmemcached 1.1.4's
//! results, including its quirks, so a pool can be shared with C clients. The module is pure
//! computation: the handle owns the server array and passes a view of it ([`ServerPoint`]) to
//! every call that rebuilds the continuum.
//!
//! Distribution and hash values are the plain numbers of `memcached_server_distribution_t`
//! and `memcached_hash_t`, so the C layer can forward what it receives.

pub mod continuum;
pub mod hash;

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use self::continuum::{BuildRule, Continuum, ContinuumPoint, RebuildOutcome};
use self::hash::{HASH_CUSTOM, HASH_DEFAULT, HASH_MAX, HASH_MD5};

/// `MEMCACHED_DISTRIBUTION_MODULA`: key hash modulo the server count.
pub const DISTRIBUTION_MODULA: u32 = 0;
/// `MEMCACHED_DISTRIBUTION_CONSISTENT`.
pub const DISTRIBUTION_CONSISTENT: u32 = 1;
/// `MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA`: the same continuum as `CONSISTENT`.
pub const DISTRIBUTION_CONSISTENT_KETAMA: u32 = 2;
/// `MEMCACHED_DISTRIBUTION_RANDOM`: a random server per key and operation.
pub const DISTRIBUTION_RANDOM: u32 = 3;
/// `MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA_SPY`: spymemcached point names.
pub const DISTRIBUTION_CONSISTENT_KETAMA_SPY: u32 = 4;
/// `MEMCACHED_DISTRIBUTION_CONSISTENT_WEIGHTED`.
pub const DISTRIBUTION_CONSISTENT_WEIGHTED: u32 = 5;
/// `MEMCACHED_DISTRIBUTION_VIRTUAL_BUCKET`: a bucket table from `memcached_bucket_set`.
pub const DISTRIBUTION_VIRTUAL_BUCKET: u32 = 6;
/// `MEMCACHED_DISTRIBUTION_CONSISTENT_MAX`: one past the last distribution.
pub const DISTRIBUTION_CONSISTENT_MAX: u32 = 7;

/// What the selector needs to know about one server of the handle's array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerPoint<'a> {
    /// Host name exactly as stored (`10.0.0.1`, `cache.example`, `[::1]`, a socket path).
    pub name: &'a [u8],
    /// Port as stored (11211 for a server added with port 0).
    pub port: u16,
    /// Weight as stored. The continuum counts 0 as 1, as libmemcached stores it.
    pub weight: u32,
    /// False to leave the server out of a rebuild: auto-eject's servers whose retry time is
    /// still in the future. Always true when auto-eject is off.
    pub live: bool,
}

/// A key hash installed through `memcached_set_hashkit` with a custom function.
pub type CustomHash = Arc<dyn Fn(&[u8]) -> u32 + Send + Sync>;

/// The function behind `MEMCACHED_BEHAVIOR_HASH`.
#[derive(Clone)]
enum KeyHash {
    /// An algorithm of [`hash::hash`] that is available in this build.
    Builtin(u32),
    /// A caller's function, reported as `MEMCACHED_HASH_CUSTOM`.
    Custom(CustomHash),
}

impl KeyHash {
    fn algorithm(&self) -> u32 {
        match self {
            KeyHash::Builtin(alg) => *alg,
            KeyHash::Custom(_) => HASH_CUSTOM,
        }
    }

    fn digest(&self, key: &[u8]) -> u32 {
        match self {
            // Only available algorithms are stored, so the fallback is never taken. It is the
            // value memcached_generate_hash_value returns for the others.
            KeyHash::Builtin(alg) => hash::hash(*alg, key).unwrap_or(1),
            KeyHash::Custom(function) => function(key),
        }
    }
}

/// A `memcached_bucket_set` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketTable {
    /// Server index of each bucket ("master").
    pub host_map: Vec<u32>,
    /// Forward index of each bucket, 0 when none was given. Selection does not read it.
    pub forward_map: Vec<u32>,
    /// Replica count given with the table. Selection does not read it.
    pub replicas: u32,
}

/// The server-selection state of one handle.
///
/// `Clone` copies everything, continuum included. `memcached_clone` builds the copy's
/// continuum afresh instead, so a handle that clones should call [`Selector::servers_pushed`]
/// on the copy with its new server array.
#[derive(Clone)]
pub struct Selector {
    distribution: u32,
    /// libmemcached's internal "weighted ketama" flag: switches every consistent
    /// distribution to weight-proportional MD5 points.
    weighted: bool,
    key_hash: KeyHash,
    /// `MEMCACHED_BEHAVIOR_KETAMA_HASH`: stored and reported, never used for selection.
    distribution_hash: u32,
    continuum: Continuum,
    /// Hash the continuum's points were made with at the last rebuild, if it has any.
    continuum_hash: Option<u32>,
    buckets: Option<BucketTable>,
}

impl Default for Selector {
    fn default() -> Selector {
        Selector::new()
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("distribution", &self.distribution)
            .field("weighted", &self.weighted)
            .field("key_hash", &self.key_hash.algorithm())
            .field("distribution_hash", &self.distribution_hash)
            .field("continuum_points", &self.continuum.points().len())
            .field("continuum_hash", &self.continuum_hash)
            .field("buckets", &self.buckets.as_ref().map(|b| b.host_map.len()))
            .finish()
    }
}

// Every `Err(())` of the setters means `MEMCACHED_INVALID_ARGUMENTS`, which the C layer
// returns. An error type would carry no more information.
#[allow(clippy::result_unit_err)]
impl Selector {
    /// Creates the state of a fresh `memcached_create` handle: `MODULA`, one-at-a-time key
    /// and distribution hashes, weighted flag off, no continuum, no bucket table.
    pub fn new() -> Selector {
        Selector {
            distribution: DISTRIBUTION_MODULA,
            weighted: false,
            key_hash: KeyHash::Builtin(HASH_DEFAULT),
            distribution_hash: HASH_DEFAULT,
            continuum: Continuum::new(),
            continuum_hash: None,
            buckets: None,
        }
    }

    /// Returns the distribution, for `memcached_behavior_get(DISTRIBUTION)`.
    pub fn distribution(&self) -> u32 {
        self.distribution
    }

    /// Returns the key hash as a `memcached_hash_t` (`CUSTOM` for a custom function), for
    /// `memcached_behavior_get(HASH)` and also `memcached_behavior_get_distribution_hash()`,
    /// which in 1.1.4 reports the key hash.
    pub fn key_hash(&self) -> u32 {
        self.key_hash.algorithm()
    }

    /// Returns the stored distribution hash, for `memcached_behavior_get(KETAMA_HASH)`.
    pub fn distribution_hash(&self) -> u32 {
        self.distribution_hash
    }

    /// Returns the internal weighted flag.
    ///
    /// `memcached_behavior_get(KETAMA_WEIGHTED)` reports `is_weighted() && is_consistent()`.
    /// The flag survives a switch to `MODULA`, so a later `CONSISTENT_KETAMA_SPY` is weighted.
    pub fn is_weighted(&self) -> bool {
        self.weighted
    }

    /// Tells whether the distribution is one of the four continuum ones, which is what
    /// `memcached_behavior_get(KETAMA)` reports.
    pub fn is_consistent(&self) -> bool {
        is_consistent_distribution(self.distribution)
    }

    /// Returns the continuum points, sorted by value and then server index.
    pub fn continuum_points(&self) -> &[ContinuumPoint] {
        self.continuum.points()
    }

    /// Returns the `memcached_hash_t` the continuum points were made with at the last
    /// rebuild: the key hash of that moment, or `MD5` in weighted mode. `None` while the
    /// continuum is empty.
    pub fn continuum_hash(&self) -> Option<u32> {
        self.continuum_hash
    }

    /// Returns the `memcached_bucket_set` table, if one was set.
    pub fn bucket_table(&self) -> Option<&BucketTable> {
        self.buckets.as_ref()
    }

    /// Applies `memcached_behavior_set(DISTRIBUTION, d)`.
    ///
    /// Accepts 0..=6. `CONSISTENT` and `CONSISTENT_KETAMA` turn the weighted flag off,
    /// `CONSISTENT_WEIGHTED` turns it on, the others leave it. Then the distribution is run
    /// again, which rebuilds the continuum for the consistent ones. Like the C call, which
    /// passes the value through a 32-bit enum parameter, only the low 32 bits of `d` count
    /// (observed with libmemcached 1.1.4: 2^32 + 1 selects `CONSISTENT`).
    ///
    /// The handle has to sort its servers first when `SORT_HOSTS` is on, and to reseed its
    /// random source for `RANDOM`, since libmemcached does both when it runs a distribution.
    ///
    /// # Errors
    /// `Err(())` where libmemcached returns `MEMCACHED_INVALID_ARGUMENTS`: for 7 and above.
    pub fn set_distribution(&mut self, d: u64, servers: &[ServerPoint]) -> Result<(), ()> {
        let d = d as u32;
        match d {
            DISTRIBUTION_CONSISTENT | DISTRIBUTION_CONSISTENT_KETAMA => self.weighted = false,
            DISTRIBUTION_CONSISTENT_WEIGHTED => self.weighted = true,
            DISTRIBUTION_MODULA
            | DISTRIBUTION_RANDOM
            | DISTRIBUTION_CONSISTENT_KETAMA_SPY
            | DISTRIBUTION_VIRTUAL_BUCKET => {}
            _ => return Err(()),
        }
        self.distribution = d;
        self.rebuild(servers);
        Ok(())
    }

    /// Applies `memcached_behavior_set(KETAMA, v)`: distribution `CONSISTENT_KETAMA` (weighted
    /// flag off) when `v != 0`, else `MODULA` (flag kept). The hashes stay as they are.
    pub fn set_ketama(&mut self, v: u64, servers: &[ServerPoint]) {
        let d = if v != 0 {
            DISTRIBUTION_CONSISTENT_KETAMA
        } else {
            DISTRIBUTION_MODULA
        };
        // Both values are valid distributions, so this cannot fail.
        let _ = self.set_distribution(u64::from(d), servers);
    }

    /// Applies `memcached_behavior_set(KETAMA_WEIGHTED, v)`.
    ///
    /// `v == 0` is the same as `KETAMA` = 1. Otherwise the key hash and the distribution
    /// hash become `MD5` and the distribution `CONSISTENT_WEIGHTED` (flag on).
    pub fn set_ketama_weighted(&mut self, v: u64, servers: &[ServerPoint]) {
        if v == 0 {
            self.set_ketama(1, servers);
            return;
        }
        self.key_hash = KeyHash::Builtin(HASH_MD5);
        self.distribution_hash = HASH_MD5;
        let _ = self.set_distribution(u64::from(DISTRIBUTION_CONSISTENT_WEIGHTED), servers);
    }

    /// Applies `memcached_behavior_set(HASH, h)`. The continuum is NOT rebuilt.
    ///
    /// This is why the points of an unweighted continuum keep the hash that was active at
    /// the last rebuild while keys use the new one: "servers, then KETAMA, then HASH=MD5"
    /// places keys with MD5 on one-at-a-time points. libmemcached 1.1.4 does the same.
    ///
    /// Only the low 32 bits of `h` count, as in the C call.
    ///
    /// # Errors
    /// `Err(())` where libmemcached returns `MEMCACHED_INVALID_ARGUMENTS`: for `HSIEH` (not
    /// in Debian's build) and `CUSTOM`, which leave the hash unchanged, and for `MAX`, which
    /// also resets it to `DEFAULT`. Values above `MAX` succeed and change nothing.
    pub fn set_key_hash(&mut self, h: u64) -> Result<(), ()> {
        let mut alg = self.key_hash.algorithm();
        let result = apply_hash_setting(&mut alg, h);
        if alg != self.key_hash.algorithm() {
            self.key_hash = KeyHash::Builtin(alg);
        }
        result
    }

    /// Installs a custom key hash, as `memcached_set_hashkit` with a hashkit that has a custom
    /// function does. [`Selector::key_hash`] then reports `CUSTOM`. Like any key hash change,
    /// it reaches the continuum only at the next rebuild.
    pub fn set_custom_key_hash(&mut self, function: CustomHash) {
        self.key_hash = KeyHash::Custom(function);
    }

    /// Applies `memcached_behavior_set(KETAMA_HASH, h)`: stores the distribution hash, which
    /// nothing in 1.1.4 uses for selection.
    ///
    /// # Errors
    /// The same cases as [`Selector::set_key_hash`], with the same effects on the stored
    /// value (observed with libmemcached 1.1.4: `MAX` fails and resets it to `DEFAULT`).
    pub fn set_distribution_hash(&mut self, h: u64) -> Result<(), ()> {
        apply_hash_setting(&mut self.distribution_hash, h)
    }

    /// Follows `memcached_server_add_with_weight` (and `memcached_server_add`, which passes
    /// weight 0): `weight` as the caller gave it, `servers` already including the new one.
    ///
    /// A weight above 1 turns the weighted flag on, but only while a consistent distribution
    /// is active. Then the distribution is run again (see [`Selector::set_distribution`]
    /// for the handle's part).
    pub fn server_added(&mut self, weight: u32, servers: &[ServerPoint]) {
        if weight > 1 && self.is_consistent() {
            self.weighted = true;
        }
        self.rebuild(servers);
    }

    /// Follows `memcached_server_push`, `memcached_push` and the server copy of
    /// `memcached_clone`: any pushed server with weight above 1 turns the weighted flag on,
    /// whatever the distribution. Then the distribution is run again.
    pub fn servers_pushed(&mut self, any_weight_above_one: bool, servers: &[ServerPoint]) {
        if any_weight_above_one {
            self.weighted = true;
        }
        self.rebuild(servers);
    }

    /// Runs the distribution: for the four consistent distributions, rebuilds the continuum
    /// from the servers whose `live` flag is set. Other distributions keep no state here.
    ///
    /// Unweighted points are hashed with the current key hash, and they keep those values
    /// when `HASH` changes later (see [`Selector::set_key_hash`]). Weighted points always come
    /// from MD5. If no server is live, the old continuum stays, as in libmemcached. So does
    /// the old continuum if memory for the new one cannot be reserved.
    pub fn rebuild(&mut self, servers: &[ServerPoint]) {
        if !self.is_consistent() {
            return;
        }
        let key_hash = &self.key_hash;
        let point_hash = |name: &[u8]| key_hash.digest(name);
        let rule = BuildRule {
            spy_names: self.distribution == DISTRIBUTION_CONSISTENT_KETAMA_SPY,
            weighted: self.weighted,
            point_hash: &point_hash,
        };
        let points_hash = if self.weighted {
            HASH_MD5
        } else {
            key_hash.algorithm()
        };
        if self.continuum.rebuild(servers, &rule) == RebuildOutcome::Rebuilt {
            self.continuum_hash = Some(points_hash);
        }
    }

    /// Follows `memcached_servers_reset`: frees the continuum. Distribution, hashes, weighted
    /// flag and bucket table stay.
    pub fn clear(&mut self) {
        self.continuum.clear();
        self.continuum_hash = None;
    }

    /// Hashes `key` with the handle's key hash.
    ///
    /// This is step one of `memcached_generate_hash`, which libmemcached skips on a handle with
    /// exactly one server; [`Selector::pick`] returns 0 for one server whatever the hash.
    pub fn hash_key(&self, key: &[u8]) -> u32 {
        self.key_hash.digest(key)
    }

    /// Returns the index of the server that owns `hash`, out of `server_count` servers.
    ///
    /// `MODULA`: `hash % server_count`. `RANDOM`: a draw of `random` modulo the count.
    /// Consistent distributions: the continuum lookup (first point >= `hash`, wrapping to
    /// the first point). `VIRTUAL_BUCKET`: `host_map[hash & (buckets - 1)]`, or without a
    /// table `hash & (server_count - 1)`. O(log n), no allocation.
    ///
    /// The result is below `server_count`, and 0 when the count is 0 or 1. libmemcached
    /// divides by zero for 0 servers, reads beyond its array for an empty continuum and
    /// returns a bucket entry as it is, even one naming a missing server. Here an empty
    /// continuum gives 0 and an out-of-range index is reduced modulo `server_count`.
    pub fn pick(&self, hash: u32, server_count: usize, mut random: impl FnMut() -> u32) -> usize {
        if server_count <= 1 {
            return 0;
        }
        let count = server_count as u64;
        let index = match self.distribution {
            DISTRIBUTION_RANDOM => u64::from(random()) % count,
            DISTRIBUTION_CONSISTENT
            | DISTRIBUTION_CONSISTENT_KETAMA
            | DISTRIBUTION_CONSISTENT_KETAMA_SPY
            | DISTRIBUTION_CONSISTENT_WEIGHTED => {
                u64::from(self.continuum.lookup(hash).unwrap_or(0))
            }
            DISTRIBUTION_VIRTUAL_BUCKET => match &self.buckets {
                Some(table) => u64::from(bucket_master(table, hash)),
                None => u64::from(hash) & (count - 1),
            },
            _ => u64::from(hash) % count,
        };
        (index % count) as usize
    }

    /// Follows `memcached_bucket_set(host_map, forward_map, host_map.len(), replicas)`:
    /// switches to `VIRTUAL_BUCKET` (weighted flag kept) and stores the table.
    ///
    /// `forward_map` entries missing beyond its length count as 0. On success the handle has
    /// to sort its servers when `SORT_HOSTS` is on, because libmemcached runs the new
    /// distribution.
    ///
    /// # Errors
    /// `Err(())` for an empty `host_map`, with nothing changed. libmemcached then returns
    /// `MEMCACHED_INVALID_ARGUMENTS` after setting the old distribution again, which clears
    /// or sets the weighted flag and rebuilds. A handle gets the same state by calling
    /// [`Selector::set_distribution`] with the old distribution after this error.
    pub fn set_buckets(
        &mut self,
        host_map: &[u32],
        forward_map: Option<&[u32]>,
        replicas: u32,
    ) -> Result<(), ()> {
        if host_map.is_empty() {
            return Err(());
        }
        let forward = forward_map.unwrap_or_default();
        let forward_map = (0..host_map.len())
            .map(|i| forward.get(i).copied().unwrap_or(0))
            .collect();
        self.buckets = Some(BucketTable {
            host_map: host_map.to_vec(),
            forward_map,
            replicas,
        });
        self.distribution = DISTRIBUTION_VIRTUAL_BUCKET;
        Ok(())
    }
}

/// Tells whether `d` is one of the four distributions that use the continuum.
pub fn is_consistent_distribution(d: u32) -> bool {
    matches!(
        d,
        DISTRIBUTION_CONSISTENT
            | DISTRIBUTION_CONSISTENT_KETAMA
            | DISTRIBUTION_CONSISTENT_KETAMA_SPY
            | DISTRIBUTION_CONSISTENT_WEIGHTED
    )
}

/// Applies a `HASH` or `KETAMA_HASH` setting to `current` with libhashkit 1.1.4's rules:
/// available algorithms are taken (HSIEH too, which Debian's build lacks), `CUSTOM` fails,
/// `MAX` fails and resets to `DEFAULT`, and anything above `MAX` succeeds without effect.
fn apply_hash_setting(current: &mut u32, h: u64) -> Result<(), ()> {
    let alg = h as u32;
    match alg {
        HASH_CUSTOM => Err(()),
        HASH_MAX => {
            *current = HASH_DEFAULT;
            Err(())
        }
        _ if alg > HASH_MAX => Ok(()),
        _ => {
            *current = alg;
            Ok(())
        }
    }
}

/// Returns the server index of the bucket `hash` falls in. The mask assumes a power-of-two
/// bucket count, as libmemcached does. Any count still yields an index inside the table.
fn bucket_master(table: &BucketTable, hash: u32) -> u32 {
    let mask = table.host_map.len() - 1;
    table.host_map[hash as usize & mask]
}

/// Orders two servers as `SORT_HOSTS` does: by host name (`strcmp`, so bytes compare
/// unsigned and a name ends at its first NUL), then by port ascending.
///
/// Sort with a stable sort (`slice::sort_by`), so servers that compare equal keep their
/// order. Debian 12's glibc 2.36 `qsort` behaved the same in a test with arrays of 2 to
/// 100000 elements, although C does not require `qsort` to be stable.
pub fn host_order(a_name: &[u8], a_port: u16, b_name: &[u8], b_port: u16) -> Ordering {
    let until_nul =
        |name: &[u8]| -> usize { name.iter().position(|&b| b == 0).unwrap_or(name.len()) };
    let a = &a_name[..until_nul(a_name)];
    let b = &b_name[..until_nul(b_name)];
    a.cmp(b).then(a_port.cmp(&b_port))
}

#[cfg(test)]
mod tests {
    use super::hash::{HASH_CRC, HASH_FNV1A_32, HASH_HSIEH, HASH_MURMUR3};
    use super::*;

    /// A server array that mimics `memcached_server_add_with_weight`.
    #[derive(Default)]
    struct Pool {
        servers: Vec<(String, u16, u32, bool)>,
    }

    impl Pool {
        fn points(&self) -> Vec<ServerPoint<'_>> {
            self.servers
                .iter()
                .map(|(name, port, weight, live)| ServerPoint {
                    name: name.as_bytes(),
                    port: *port,
                    weight: *weight,
                    live: *live,
                })
                .collect()
        }

        fn add(&mut self, selector: &mut Selector, name: &str, port: u16, weight: u32) {
            let port = if port == 0 { 11211 } else { port };
            self.servers
                .push((name.to_string(), port, weight.max(1), true));
            selector.server_added(weight, &self.points());
        }

        fn pick(&self, selector: &Selector, key: &[u8]) -> usize {
            let count = self.servers.len();
            let hash = if count == 1 {
                0
            } else {
                selector.hash_key(key)
            };
            selector.pick(hash, count, || 0)
        }
    }

    fn three_servers(selector: &mut Selector) -> Pool {
        let mut pool = Pool::default();
        pool.add(selector, "10.0.0.1", 11211, 0);
        pool.add(selector, "10.0.0.2", 11212, 0);
        pool.add(selector, "cache.example.com", 0, 0);
        pool
    }

    fn four_servers(selector: &mut Selector, weighted: bool) -> Pool {
        let mut pool = Pool::default();
        let servers = [
            ("10.0.1.1", 11211),
            ("10.0.1.2", 11211),
            ("10.0.1.3", 11211),
            ("10.0.1.4", 22122),
        ];
        for (number, (name, port)) in (1u32..).zip(servers) {
            let weight = if weighted { number } else { 0 };
            pool.add(selector, name, port, weight);
        }
        pool
    }

    /// Runs `configure` on a fresh selector, adds servers with `add_servers` and returns the
    /// server chosen for `keyN`, N = 0..39, each prefixed with `prefix`.
    fn choices(
        configure: impl Fn(&mut Selector),
        add_servers: impl Fn(&mut Selector) -> Pool,
        prefix: &str,
    ) -> Vec<usize> {
        let mut selector = Selector::new();
        configure(&mut selector);
        let pool = add_servers(&mut selector);
        (0..40)
            .map(|n| pool.pick(&selector, format!("{prefix}key{n}").as_bytes()))
            .collect()
    }

    fn parse_row(row: &str) -> Vec<usize> {
        row.split(' ').map(|d| d.parse().expect("digit")).collect()
    }

    /// Values printed by libmemcached 1.1.4's `memcached_generate_hash` for `key0`..`key39`.
    #[test]
    fn reference_selections_match() {
        let none = |_: &mut Selector| {};
        let md5 = |s: &mut Selector| s.set_key_hash(u64::from(HASH_MD5)).unwrap();
        let consistent = |s: &mut Selector| {
            s.set_distribution(u64::from(DISTRIBUTION_CONSISTENT), &[])
                .unwrap();
        };
        let ketama_with = |hash: u32| {
            move |s: &mut Selector| {
                s.set_distribution(u64::from(DISTRIBUTION_CONSISTENT_KETAMA), &[])
                    .unwrap();
                s.set_key_hash(u64::from(hash)).unwrap();
            }
        };
        let spy_md5 = |s: &mut Selector| {
            s.set_distribution(u64::from(DISTRIBUTION_CONSISTENT_KETAMA_SPY), &[])
                .unwrap();
            s.set_key_hash(u64::from(HASH_MD5)).unwrap();
        };
        let weighted = |s: &mut Selector| s.set_ketama_weighted(1, &[]);
        let weighted_fnv = |s: &mut Selector| {
            s.set_ketama_weighted(1, &[]);
            s.set_key_hash(u64::from(HASH_FNV1A_32)).unwrap();
        };
        let three = |s: &mut Selector| three_servers(s);
        let four_weighted = |s: &mut Selector| four_servers(s, true);
        let four_unweighted = |s: &mut Selector| four_servers(s, false);
        let one = |s: &mut Selector| {
            let mut pool = Pool::default();
            pool.add(s, "10.0.0.1", 11211, 0);
            pool
        };

        let cases: Vec<(&str, Vec<usize>, &str)> = vec![
            (
                "modula",
                choices(none, three, ""),
                "2 2 2 2 2 2 2 1 1 1 0 1 0 0 0 0 0 1 1 1 2 2 2 1 1 1 1 1 1 1 0 0 0 1 2 1 1 2 2 2",
            ),
            (
                "modula-md5",
                choices(md5, three, ""),
                "2 0 2 2 2 0 2 2 2 1 1 2 1 1 2 2 2 2 2 0 2 2 1 0 1 1 2 0 1 1 0 2 2 1 2 1 2 0 2 0",
            ),
            (
                "consistent",
                choices(consistent, three, ""),
                "0 0 0 1 2 2 2 2 2 2 0 2 1 2 1 0 2 1 0 0 2 2 2 0 2 0 1 2 0 0 2 1 2 0 2 0 1 0 0 2",
            ),
            (
                "ketama",
                choices(ketama_with(HASH_DEFAULT), three, ""),
                "0 0 0 1 2 2 2 2 2 2 0 2 1 2 1 0 2 1 0 0 2 2 2 0 2 0 1 2 0 0 2 1 2 0 2 0 1 0 0 2",
            ),
            (
                "ketama-md5",
                choices(ketama_with(HASH_MD5), three, ""),
                "1 0 0 2 2 0 0 0 0 2 1 2 2 2 0 2 2 1 1 0 0 1 0 2 2 1 1 2 2 1 2 1 1 1 0 1 0 0 0 2",
            ),
            (
                "ketama-crc",
                choices(ketama_with(HASH_CRC), three, ""),
                "2 2 2 2 0 2 2 2 0 2 0 0 2 2 0 2 0 2 1 1 2 2 2 2 2 2 1 2 1 1 2 2 2 2 2 1 2 2 1 1",
            ),
            (
                "spy-md5",
                choices(spy_md5, three, ""),
                "1 0 2 0 2 0 2 2 1 2 0 0 0 1 0 1 1 2 0 2 0 1 1 2 2 1 2 1 1 0 1 2 2 0 2 1 2 0 2 1",
            ),
            (
                "weighted",
                choices(weighted, four_weighted, ""),
                "3 2 1 2 1 1 2 2 2 3 1 2 2 2 3 1 1 0 0 3 3 3 2 2 3 3 1 3 3 3 0 3 3 3 0 0 3 1 0 2",
            ),
            (
                "weighted-fnv",
                choices(weighted_fnv, four_weighted, ""),
                "2 3 2 0 3 3 2 3 3 3 1 2 3 3 2 3 3 3 3 2 3 2 3 3 3 2 3 3 3 2 1 3 2 2 1 2 3 2 1 2",
            ),
            (
                "consistent-w",
                choices(consistent, four_weighted, ""),
                "2 3 1 3 3 3 3 3 2 0 2 3 1 2 3 2 1 0 1 3 2 2 3 1 2 1 3 2 3 2 2 2 3 2 3 3 2 3 3 3",
            ),
            (
                "consistent-4",
                choices(consistent, four_unweighted, ""),
                "3 2 1 2 3 1 3 1 0 0 0 2 1 0 2 2 2 1 2 2 1 1 3 3 2 1 3 1 2 2 0 0 1 3 3 0 2 0 3 3",
            ),
            (
                "consistent-hwp",
                choices(consistent, three, "pfx:"),
                "1 2 0 2 0 0 1 2 2 2 2 1 0 0 0 2 0 2 1 2 2 2 2 2 2 1 2 2 1 2 2 1 2 0 0 0 2 0 2 0",
            ),
            (
                "modula-hwp",
                choices(none, three, "pfx:"),
                "1 1 1 0 0 1 1 2 0 2 0 0 0 0 1 0 1 1 1 1 0 1 0 0 0 0 2 0 2 2 2 2 1 1 1 2 0 0 0 0",
            ),
            (
                "one",
                choices(ketama_with(HASH_MD5), one, ""),
                "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
            ),
        ];
        for (name, got, expected) in cases {
            assert_eq!(got, parse_row(expected), "configuration {name}");
        }
    }

    #[test]
    fn fresh_selector_defaults() {
        let selector = Selector::new();
        assert_eq!(selector.distribution(), DISTRIBUTION_MODULA);
        assert_eq!(selector.key_hash(), HASH_DEFAULT);
        assert_eq!(selector.distribution_hash(), HASH_DEFAULT);
        assert!(!selector.is_weighted());
        assert!(!selector.is_consistent());
        assert!(selector.continuum_points().is_empty());
        assert_eq!(selector.continuum_hash(), None);
        assert!(selector.bucket_table().is_none());
    }

    #[test]
    fn key_hash_setting_quirks() {
        let mut selector = Selector::new();
        assert_eq!(selector.set_key_hash(u64::from(HASH_CRC)), Ok(()));
        assert_eq!(selector.key_hash(), HASH_CRC);

        assert_eq!(selector.set_key_hash(u64::from(HASH_HSIEH)), Ok(()));
        assert_eq!(selector.key_hash(), HASH_HSIEH, "HSIEH is offered");
        assert_eq!(selector.set_key_hash(u64::from(HASH_CRC)), Ok(()));
        assert_eq!(selector.set_key_hash(u64::from(HASH_CUSTOM)), Err(()));
        assert_eq!(selector.key_hash(), HASH_CRC, "CUSTOM leaves the hash");

        assert_eq!(selector.set_key_hash(13), Ok(()));
        assert_eq!(
            selector.key_hash(),
            HASH_CRC,
            "values above MAX change nothing"
        );

        assert_eq!(selector.set_key_hash(u64::from(HASH_MAX)), Err(()));
        assert_eq!(selector.key_hash(), HASH_DEFAULT, "MAX resets to DEFAULT");

        assert_eq!(selector.set_key_hash((1 << 32) + 2), Ok(()));
        assert_eq!(selector.key_hash(), HASH_CRC, "only the low 32 bits count");
    }

    #[test]
    fn distribution_hash_setting_quirks() {
        let mut selector = Selector::new();
        assert_eq!(
            selector.set_distribution_hash(u64::from(HASH_MURMUR3)),
            Ok(())
        );
        assert_eq!(selector.distribution_hash(), HASH_MURMUR3);
        assert_eq!(
            selector.key_hash(),
            HASH_DEFAULT,
            "the key hash is separate"
        );
        assert_eq!(
            selector.set_distribution_hash(u64::from(HASH_CUSTOM)),
            Err(())
        );
        assert_eq!(selector.distribution_hash(), HASH_MURMUR3);
        assert_eq!(selector.set_distribution_hash(13), Ok(()));
        assert_eq!(selector.distribution_hash(), HASH_MURMUR3);
        assert_eq!(selector.set_distribution_hash(u64::from(HASH_MAX)), Err(()));
        assert_eq!(selector.distribution_hash(), HASH_DEFAULT);
    }

    #[test]
    fn distribution_setting_and_weighted_flag() {
        let mut selector = Selector::new();
        for d in 0..DISTRIBUTION_CONSISTENT_MAX {
            assert_eq!(selector.set_distribution(u64::from(d), &[]), Ok(()), "{d}");
            assert_eq!(selector.distribution(), d);
        }
        assert_eq!(selector.set_distribution(7, &[]), Err(()));
        assert_eq!(selector.set_distribution(u64::MAX, &[]), Err(()));
        assert_eq!(selector.distribution(), DISTRIBUTION_VIRTUAL_BUCKET);
        assert_eq!(selector.set_distribution((1 << 32) + 1, &[]), Ok(()));
        assert_eq!(selector.distribution(), DISTRIBUTION_CONSISTENT);

        // KETAMA_WEIGHTED=1, then KETAMA=0 (MODULA keeps the flag), then SPY: still weighted.
        selector.set_ketama_weighted(1, &[]);
        assert!(selector.is_weighted());
        assert_eq!(selector.key_hash(), HASH_MD5);
        assert_eq!(selector.distribution_hash(), HASH_MD5);
        assert_eq!(selector.distribution(), DISTRIBUTION_CONSISTENT_WEIGHTED);
        selector.set_ketama(0, &[]);
        assert_eq!(selector.distribution(), DISTRIBUTION_MODULA);
        assert!(selector.is_weighted());
        selector
            .set_distribution(u64::from(DISTRIBUTION_CONSISTENT_KETAMA_SPY), &[])
            .unwrap();
        assert!(selector.is_weighted());

        selector.set_ketama(1, &[]);
        assert_eq!(selector.distribution(), DISTRIBUTION_CONSISTENT_KETAMA);
        assert!(!selector.is_weighted());
        assert_eq!(selector.key_hash(), HASH_MD5, "KETAMA leaves the hash");

        selector.set_ketama_weighted(1, &[]);
        selector.set_ketama_weighted(0, &[]);
        assert_eq!(selector.distribution(), DISTRIBUTION_CONSISTENT_KETAMA);
        assert!(!selector.is_weighted());
    }

    #[test]
    fn weight_turns_flag_on_by_call() {
        let heavy = [ServerPoint {
            name: b"a",
            port: 11211,
            weight: 2,
            live: true,
        }];

        let mut modula = Selector::new();
        modula.server_added(2, &heavy);
        assert!(!modula.is_weighted(), "add under MODULA ignores weights");
        modula.servers_pushed(true, &heavy);
        assert!(
            modula.is_weighted(),
            "push turns the flag on under any distribution"
        );

        let mut consistent = Selector::new();
        consistent.set_distribution(1, &[]).unwrap();
        consistent.server_added(1, &heavy);
        assert!(!consistent.is_weighted());
        consistent.server_added(2, &heavy);
        assert!(consistent.is_weighted());
        assert_eq!(consistent.continuum_points().len(), 160);
    }

    #[test]
    fn continuum_is_a_snapshot() {
        let mut selector = Selector::new();
        let mut pool = Pool::default();
        pool.add(&mut selector, "10.0.0.1", 11211, 0);
        pool.add(&mut selector, "10.0.0.2", 11211, 0);
        selector.set_ketama(1, &pool.points());
        assert_eq!(selector.continuum_hash(), Some(HASH_DEFAULT));

        selector.set_key_hash(u64::from(HASH_CRC)).unwrap();
        assert_eq!(
            selector.continuum_hash(),
            Some(HASH_DEFAULT),
            "HASH does not rebuild"
        );
        // CRC keys are below 32768, so on one-at-a-time points they all land on the owner
        // of the lowest point.
        let owner = selector.continuum_points()[0].index as usize;
        for n in 0..50 {
            let key = format!("key{n}");
            assert_eq!(pool.pick(&selector, key.as_bytes()), owner);
        }

        selector.rebuild(&pool.points());
        assert_eq!(selector.continuum_hash(), Some(HASH_CRC));
        selector.set_ketama_weighted(1, &pool.points());
        assert_eq!(selector.continuum_hash(), Some(HASH_MD5));
        selector.clear();
        assert_eq!(selector.continuum_hash(), None);
        assert!(selector.continuum_points().is_empty());
    }

    #[test]
    fn dead_servers_leave_and_all_dead_keeps() {
        let mut selector = Selector::new();
        selector.set_ketama(1, &[]);
        let mut pool = Pool::default();
        for n in 1..=3 {
            pool.add(&mut selector, &format!("10.0.0.{n}"), 11211, 0);
        }
        let before = selector.continuum_points().to_vec();

        pool.servers[1].3 = false;
        selector.rebuild(&pool.points());
        assert_eq!(selector.continuum_points().len(), 200);
        assert!(selector.continuum_points().iter().all(|p| p.index != 1));

        for server in &mut pool.servers {
            server.3 = false;
        }
        selector.rebuild(&pool.points());
        assert_eq!(
            selector.continuum_points().len(),
            200,
            "no live server keeps points"
        );

        for server in &mut pool.servers {
            server.3 = true;
        }
        selector.rebuild(&pool.points());
        assert_eq!(selector.continuum_points(), &before[..]);
    }

    #[test]
    fn pick_never_panics() {
        let mut selector = Selector::new();
        for hash in [0, 1, u32::MAX] {
            assert_eq!(selector.pick(hash, 0, || 7), 0);
            assert_eq!(selector.pick(hash, 1, || 7), 0);
        }
        assert_eq!(selector.pick(10, 3, || 7), 1);

        // A consistent distribution with an empty continuum.
        selector.set_ketama(1, &[]);
        assert_eq!(selector.pick(12345, 4, || 0), 0);

        selector
            .set_distribution(u64::from(DISTRIBUTION_RANDOM), &[])
            .unwrap();
        assert_eq!(selector.pick(0, 4, || 7), 3);
        assert_eq!(selector.pick(0, usize::MAX, || u32::MAX), u32::MAX as usize);
    }

    #[test]
    fn virtual_buckets_map_hashes() {
        let mut selector = Selector::new();
        selector
            .set_distribution(u64::from(DISTRIBUTION_VIRTUAL_BUCKET), &[])
            .unwrap();
        // Without a table: hash & (count - 1), observed with libmemcached 1.1.4 on 3 servers.
        assert_eq!(selector.pick(3230140454, 3, || 0), 2);
        assert_eq!(selector.pick(3708928313, 3, || 0), 0);

        assert_eq!(selector.set_buckets(&[], None, 0), Err(()));
        assert!(selector.bucket_table().is_none());

        selector.set_ketama(1, &[]);
        assert_eq!(selector.set_buckets(&[3, 2, 1, 0], None, 1), Ok(()));
        assert_eq!(selector.distribution(), DISTRIBUTION_VIRTUAL_BUCKET);
        let table = selector.bucket_table().expect("table set");
        assert_eq!(table.forward_map, vec![0, 0, 0, 0]);
        assert_eq!(table.replicas, 1);

        // Observed with libmemcached 1.1.4 on 3 servers and this table. Bucket 0 names
        // server 3, which does not exist; it is reduced to 0 here.
        assert_eq!(selector.pick(3230140454, 3, || 0), 1);
        assert_eq!(selector.pick(857173315, 3, || 0), 0);
        assert_eq!(selector.pick(3708928313, 3, || 0), 2);
        assert_eq!(selector.pick(3477808556, 3, || 0), 0);

        // A table of any length keeps indexes inside it.
        selector.set_buckets(&[1, 2, 0], Some(&[9]), 0).unwrap();
        assert_eq!(selector.bucket_table().unwrap().forward_map, vec![9, 0, 0]);
        for hash in [0, 1, 2, 3, u32::MAX] {
            assert!(selector.pick(hash, 3, || 0) < 3);
        }
    }

    #[test]
    fn custom_hash_is_used_for_keys_and_points() {
        let mut selector = Selector::new();
        selector.set_custom_key_hash(Arc::new(|key: &[u8]| key.len() as u32));
        assert_eq!(selector.key_hash(), HASH_CUSTOM);
        assert_eq!(selector.hash_key(b"abc"), 3);

        selector.set_ketama(1, &[]);
        let mut pool = Pool::default();
        pool.add(&mut selector, "a", 11211, 0);
        assert_eq!(selector.continuum_hash(), Some(HASH_CUSTOM));
        assert!(selector
            .continuum_points()
            .iter()
            .all(|p| p.value == 3 || p.value == 4));

        selector.set_key_hash(u64::from(HASH_MD5)).unwrap();
        assert_eq!(selector.key_hash(), HASH_MD5);
    }

    #[test]
    fn selector_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Selector>();
    }

    #[test]
    fn host_order_is_strcmp_then_port() {
        assert_eq!(host_order(b"a", 2, b"b", 1), Ordering::Less);
        assert_eq!(host_order(b"a", 2, b"a", 1), Ordering::Greater);
        assert_eq!(host_order(b"a", 1, b"a", 1), Ordering::Equal);
        assert_eq!(host_order(b"ab", 1, b"a", 9), Ordering::Greater);
        assert_eq!(host_order(b"Z", 1, b"a", 1), Ordering::Less);
        assert_eq!(
            host_order(&[0xe9], 1, b"z", 1),
            Ordering::Greater,
            "bytes are unsigned"
        );
        assert_eq!(
            host_order(b"a\0x", 5, b"a", 5),
            Ordering::Equal,
            "names end at NUL"
        );
    }
}
