//! The ketama continuum: a sorted ring of 32-bit points, each owned by one server.
//!
//! The construction reproduces libmemcached 1.1.4's `update_continuum()` point for point, so a
//! key lands on the same server as in a C client that shares the pool.

use super::hash::md5_digest;
use super::ServerPoint;

/// Points per server when the weighted flag is off (`MEMCACHED_POINTS_PER_SERVER`).
pub const POINTS_PER_SERVER: u32 = 100;

/// Point budget per server in weighted mode (`MEMCACHED_POINTS_PER_SERVER_KETAMA`). Each
/// server's share of it is rounded down to a multiple of 4, see [`weighted_point_count`].
pub const POINTS_PER_SERVER_KETAMA: u32 = 160;

/// The port that point names leave out outside of spymemcached mode
/// (`MEMCACHED_DEFAULT_PORT`).
const DEFAULT_PORT: u16 = 11211;

/// One point of the continuum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContinuumPoint {
    /// Position on the 32-bit ring.
    pub value: u32,
    /// Index of the owning server in the handle's server array.
    pub index: u32,
}

/// How the points of one rebuild are named and hashed.
pub struct BuildRule<'h> {
    /// Names points `/host:port-N` (spymemcached) instead of `host-N` / `host:port-N`.
    pub spy_names: bool,
    /// Uses the weighted scheme: weight-proportional counts, four points per MD5 digest.
    pub weighted: bool,
    /// Hash of an unweighted point name: the handle's key hash at rebuild time.
    pub point_hash: &'h dyn Fn(&[u8]) -> u32,
}

/// What [`Continuum::rebuild`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebuildOutcome {
    /// The points were replaced.
    Rebuilt,
    /// No server was live, so the old points stay, as in libmemcached.
    NoLiveServer,
    /// Memory for the new points could not be reserved, so the old points stay.
    /// libmemcached returns `MEMCACHED_MEMORY_ALLOCATION_FAILURE` in that case.
    OutOfMemory,
}

/// The sorted points of the last rebuild.
#[derive(Clone, Debug, Default)]
pub struct Continuum {
    points: Vec<ContinuumPoint>,
}

impl Continuum {
    /// Creates an empty continuum.
    pub fn new() -> Continuum {
        Continuum { points: Vec::new() }
    }

    /// Returns the points, sorted by value and then by server index.
    pub fn points(&self) -> &[ContinuumPoint] {
        &self.points
    }

    /// Drops every point and its memory, as `memcached_servers_reset` frees the continuum.
    pub fn clear(&mut self) {
        self.points = Vec::new();
    }

    /// Rebuilds the points from the servers whose `live` flag is set, in array order.
    pub fn rebuild(&mut self, servers: &[ServerPoint], rule: &BuildRule) -> RebuildOutcome {
        let live_count = servers.iter().filter(|s| s.live).count();
        if live_count == 0 {
            return RebuildOutcome::NoLiveServer;
        }
        let total_weight: u64 = servers
            .iter()
            .filter(|s| s.live)
            .map(|s| u64::from(effective_weight(s.weight)))
            .sum();

        let count_points = |server: &ServerPoint| -> u32 {
            if rule.weighted {
                weighted_point_count(server.weight, total_weight, live_count)
            } else {
                POINTS_PER_SERVER
            }
        };
        let needed: usize = servers
            .iter()
            .filter(|s| s.live)
            .map(|s| count_points(s) as usize)
            .fold(0usize, usize::saturating_add);
        let extra = needed.saturating_sub(self.points.len());
        if self.points.try_reserve_exact(extra).is_err() {
            return RebuildOutcome::OutOfMemory;
        }

        self.points.clear();
        let mut name = Vec::with_capacity(64);
        for (index, server) in servers.iter().enumerate() {
            if !server.live {
                continue;
            }
            // Indexes beyond u32 cannot occur in a C handle, whose server count is a uint32_t.
            let index = index as u32;
            let count = count_points(server);
            if rule.weighted {
                for group in 0..count / 4 {
                    write_point_name(&mut name, server, rule.spy_names, group);
                    let digest = md5_digest(&name);
                    for word in digest.chunks_exact(4) {
                        let value = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
                        self.points.push(ContinuumPoint { value, index });
                    }
                }
            } else {
                for number in 0..count {
                    write_point_name(&mut name, server, rule.spy_names, number);
                    let value = (rule.point_hash)(&name);
                    self.points.push(ContinuumPoint { value, index });
                }
            }
        }

        // Equal values are ordered by server index, so on a collision the server that comes
        // first in the array owns the keys that land there.
        self.points.sort_unstable_by_key(|p| (p.value, p.index));
        RebuildOutcome::Rebuilt
    }

    /// Returns the server index owning `hash`: the first point whose value is >= `hash`, or
    /// the first point of all when `hash` is above every point. `None` when empty.
    pub fn lookup(&self, hash: u32) -> Option<u32> {
        let at = self.points.partition_point(|p| p.value < hash);
        self.points
            .get(at)
            .or_else(|| self.points.first())
            .map(|p| p.index)
    }
}

/// A server's weight as the continuum counts it: libmemcached stores weight 0 as 1.
fn effective_weight(weight: u32) -> u32 {
    weight.max(1)
}

/// Returns the number of weighted-mode points of a server with weight `weight`, out of live
/// servers whose weights sum to `total_weight`.
///
/// libmemcached computes `floor(w / total * 160 / 4 * live + 1e-10) * 4` in C `float`, one
/// rounding per operation, and the single precision shows: 25 equal servers get 156 points
/// each, not 160, and weights 100 and 1 give 316 and 0 points. The steps below keep that
/// order and precision.
pub fn weighted_point_count(weight: u32, total_weight: u64, live_count: usize) -> u32 {
    let total = total_weight.max(1) as f32;
    let share = effective_weight(weight) as f32 / total;
    let scaled = share * POINTS_PER_SERVER_KETAMA as f32 / 4.0 * live_count as f32;
    let nudged = scaled + 0.000_000_000_1_f32;
    // `as` saturates, so even an out-of-range float cannot wrap around.
    (f64::from(nudged).floor() * 4.0) as u32
}

/// Writes the name of point `number` of `server` into `out`, replacing its contents.
///
/// The name is `host-N` for port 11211 and `host:port-N` otherwise; spymemcached mode always
/// writes `/host:port-N`. The host name ends at its first NUL byte, as C's `%s` reads it.
fn write_point_name(out: &mut Vec<u8>, server: &ServerPoint, spy_names: bool, number: u32) {
    let host = server.name.split(|&b| b == 0).next().unwrap_or_default();

    out.clear();
    if spy_names {
        out.push(b'/');
    }
    out.extend_from_slice(host);
    if spy_names || server.port != DEFAULT_PORT {
        out.push(b':');
        push_decimal(out, u32::from(server.port));
    }
    out.push(b'-');
    push_decimal(out, number);
}

/// Appends `value` in decimal without padding, as `%u` prints it.
fn push_decimal(out: &mut Vec<u8>, value: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::hash;

    fn server(name: &str, port: u16, weight: u32) -> ServerPoint<'_> {
        ServerPoint {
            name: name.as_bytes(),
            port,
            weight,
            live: true,
        }
    }

    fn point_name(server: &ServerPoint, spy_names: bool, number: u32) -> String {
        let mut out = Vec::new();
        write_point_name(&mut out, server, spy_names, number);
        String::from_utf8(out).expect("test names are ASCII")
    }

    fn build(servers: &[ServerPoint], spy_names: bool, weighted: bool) -> Continuum {
        let md5 = |name: &[u8]| hash::md5(name);
        let rule = BuildRule {
            spy_names,
            weighted,
            point_hash: &md5,
        };
        let mut continuum = Continuum::new();
        assert_eq!(continuum.rebuild(servers, &rule), RebuildOutcome::Rebuilt);
        continuum
    }

    fn points_of(continuum: &Continuum, index: u32) -> usize {
        continuum
            .points()
            .iter()
            .filter(|p| p.index == index)
            .count()
    }

    #[test]
    fn point_names_follow_port_rule() {
        let plain = server("10.0.0.1", 11211, 1);
        let other_port = server("10.0.0.2", 11212, 1);
        assert_eq!(point_name(&plain, false, 0), "10.0.0.1-0");
        assert_eq!(point_name(&plain, false, 99), "10.0.0.1-99");
        assert_eq!(point_name(&other_port, false, 7), "10.0.0.2:11212-7");
        assert_eq!(point_name(&plain, true, 0), "/10.0.0.1:11211-0");
        assert_eq!(
            point_name(&other_port, true, 4294967295),
            "/10.0.0.2:11212-4294967295"
        );
    }

    #[test]
    fn point_name_stops_at_nul() {
        let with_nul = ServerPoint {
            name: b"host\0ignored",
            port: 11211,
            weight: 1,
            live: true,
        };
        assert_eq!(point_name(&with_nul, false, 3), "host-3");
    }

    #[test]
    fn weighted_counts_use_single_precision() {
        assert_eq!(weighted_point_count(1, 25, 25), 156);
        assert_eq!(weighted_point_count(100, 101, 2), 316);
        assert_eq!(weighted_point_count(1, 101, 2), 0);
        assert_eq!(weighted_point_count(1, 6, 3), 80);
        assert_eq!(weighted_point_count(2, 6, 3), 160);
        assert_eq!(weighted_point_count(3, 6, 3), 240);
        assert_eq!(weighted_point_count(1, 1, 1), 160);
        for n in [47u32, 50, 55, 61, 71, 94, 100] {
            let count = weighted_point_count(1, u64::from(n), n as usize);
            assert!(count < 160, "{n} equal servers give {count} points each");
        }
        for n in [2u32, 3, 4, 5, 10, 20] {
            assert_eq!(
                weighted_point_count(1, u64::from(n), n as usize),
                160,
                "{n} servers"
            );
        }
    }

    #[test]
    fn weighted_counts_survive_extremes() {
        assert_eq!(weighted_point_count(0, 0, 0), 0);
        assert_eq!(weighted_point_count(u32::MAX, u64::from(u32::MAX), 1), 160);
        assert_eq!(weighted_point_count(u32::MAX, u64::MAX, 1), 0);
        let huge = weighted_point_count(1, 1, usize::MAX);
        assert!(huge > 0);
    }

    #[test]
    fn unweighted_build_has_hundred_points_each() {
        let servers = [server("a", 11211, 1), server("b", 11211, 9)];
        let continuum = build(&servers, false, false);
        assert_eq!(continuum.points().len(), 200);
        assert_eq!(points_of(&continuum, 0), 100);
        assert_eq!(points_of(&continuum, 1), 100);
        let first = hash::md5(b"a-0");
        assert!(continuum
            .points()
            .iter()
            .any(|p| p.value == first && p.index == 0));
    }

    #[test]
    fn weighted_build_splits_digests() {
        let servers = [server("10.0.0.1", 11211, 1)];
        let continuum = build(&servers, false, true);
        assert_eq!(continuum.points().len(), 160);
        let digest = md5_digest(b"10.0.0.1-0");
        for word in digest.chunks_exact(4) {
            let value = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            assert!(continuum.points().iter().any(|p| p.value == value));
        }
    }

    #[test]
    fn points_are_sorted_with_index_ties() {
        // Two servers with the same name and port produce identical points.
        let servers = [server("same", 11211, 1), server("same", 11211, 1)];
        let continuum = build(&servers, false, false);
        let points = continuum.points();
        for pair in points.windows(2) {
            assert!((pair[0].value, pair[0].index) <= (pair[1].value, pair[1].index));
        }
        assert_eq!(points[0].index, 0);
        assert_eq!(points[1].index, 1);
        assert_eq!(continuum.lookup(points[0].value), Some(0));
    }

    #[test]
    fn lookup_takes_first_not_below_and_wraps() {
        let mut continuum = Continuum::new();
        continuum.points = vec![
            ContinuumPoint {
                value: 10,
                index: 2,
            },
            ContinuumPoint {
                value: 20,
                index: 0,
            },
            ContinuumPoint {
                value: 30,
                index: 1,
            },
        ];
        assert_eq!(continuum.lookup(0), Some(2));
        assert_eq!(continuum.lookup(10), Some(2));
        assert_eq!(continuum.lookup(11), Some(0));
        assert_eq!(continuum.lookup(30), Some(1));
        assert_eq!(continuum.lookup(31), Some(2));
        assert_eq!(continuum.lookup(u32::MAX), Some(2));
    }

    #[test]
    fn empty_and_dead_inputs_keep_old_points() {
        let mut continuum = Continuum::new();
        assert_eq!(continuum.lookup(5), None);

        let live = [server("a", 11211, 1)];
        let oaat = |name: &[u8]| hash::one_at_a_time(name);
        let rule = BuildRule {
            spy_names: false,
            weighted: false,
            point_hash: &oaat,
        };
        assert_eq!(continuum.rebuild(&live, &rule), RebuildOutcome::Rebuilt);
        assert_eq!(continuum.points().len(), 100);

        let dead = [ServerPoint {
            live: false,
            ..server("b", 11211, 1)
        }];
        assert_eq!(
            continuum.rebuild(&dead, &rule),
            RebuildOutcome::NoLiveServer
        );
        assert_eq!(
            continuum.points().len(),
            100,
            "no live server keeps the old points"
        );
        assert_eq!(continuum.rebuild(&[], &rule), RebuildOutcome::NoLiveServer);
        assert_eq!(continuum.points().len(), 100);

        continuum.clear();
        assert!(continuum.points().is_empty());
    }

    #[test]
    fn dead_servers_are_left_out() {
        let servers = [
            server("a", 11211, 1),
            ServerPoint {
                live: false,
                ..server("b", 11211, 1)
            },
            server("c", 11211, 1),
        ];
        let continuum = build(&servers, false, false);
        assert_eq!(continuum.points().len(), 200);
        assert_eq!(points_of(&continuum, 1), 0);
        assert_eq!(points_of(&continuum, 2), 100);

        // In weighted mode the dead server's weight is not part of the total either.
        let weighted = build(&servers, false, true);
        assert_eq!(points_of(&weighted, 0), 160);
        assert_eq!(points_of(&weighted, 2), 160);
    }

    #[test]
    fn zero_weight_counts_as_one() {
        let servers = [server("a", 11211, 0), server("b", 11211, 1)];
        let continuum = build(&servers, false, true);
        assert_eq!(points_of(&continuum, 0), 160);
        assert_eq!(points_of(&continuum, 1), 160);
    }
}
