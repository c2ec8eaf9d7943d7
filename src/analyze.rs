//! `memcached_analyze`: a summary over the statistics array of `memcached_stat`.
//!
//! The rules below reproduce libmemcached 1.1.4, observed by passing crafted
//! `memcached_stat_st` arrays to it:
//! * Sums of items, bytes, hits and gets wrap modulo 2^64.
//! * `average_item_size` is total bytes / total items, truncated to 32 bits, or 0 without items.
//! * `oldest_server` is the first server with the largest uptime. The uptime is compared and
//!   stored after truncation to 32 bits.
//! * `most_consumed_server` is the first server with the largest `bytes`.
//! * `least_free_server` has the smallest `limit_maxbytes - bytes` (wrapping). A remaining
//!   value of 0 counts as "none seen yet", so the next server replaces it. Otherwise the first
//!   smallest wins.
//! * `pool_hit_ratio` is `hits / gets * 100` in double precision, or 0 when either sum is 0.
//!
//! The C function allocates the result with the handle's `calloc(server_count, 56)`, writes
//! `root`, sets `*error` to `SUCCESS` and returns it. For a NULL handle or a NULL stats array it
//! returns NULL and leaves `*error` unchanged. With zero servers it writes past its zero-size
//! allocation, and `memcached_analyze_free` (which frees through the root handle's allocator)
//! crashes on NULL. This module computes the fields and leaves those choices to the export.

use crate::ffi::types::{memcached_analysis_st, memcached_stat_st};

/// Computes the analysis of `stats`, one element per server in server order. `root` is NULL
/// in the result, for the export to fill in.
pub fn analyze(stats: &[memcached_stat_st]) -> memcached_analysis_st {
    let mut result = memcached_analysis_st {
        root: std::ptr::null_mut(),
        average_item_size: 0,
        longest_uptime: 0,
        least_free_server: 0,
        most_consumed_server: 0,
        oldest_server: 0,
        pool_hit_ratio: 0.0,
        most_used_bytes: 0,
        least_remaining_bytes: 0,
    };
    let mut total_items: u64 = 0;
    let mut total_bytes: u64 = 0;
    let mut total_hits: u64 = 0;
    let mut total_gets: u64 = 0;

    for (index, stat) in stats.iter().enumerate() {
        // The C library numbers servers with uint32_t.
        let server = index as u32;
        // `curr_items` is a C `unsigned long`, 64 bits here but 32 bits on some targets.
        #[allow(clippy::useless_conversion)]
        let items = u64::from(stat.curr_items);
        total_items = total_items.wrapping_add(items);
        total_bytes = total_bytes.wrapping_add(stat.bytes);
        total_hits = total_hits.wrapping_add(stat.get_hits);
        total_gets = total_gets.wrapping_add(stat.cmd_get);

        if stat.bytes > result.most_used_bytes {
            result.most_used_bytes = stat.bytes;
            result.most_consumed_server = server;
        }

        let uptime = stat.uptime as u32;
        if uptime > result.longest_uptime {
            result.longest_uptime = uptime;
            result.oldest_server = server;
        }

        let remaining = stat.limit_maxbytes.wrapping_sub(stat.bytes);
        if result.least_remaining_bytes == 0 || remaining < result.least_remaining_bytes {
            result.least_remaining_bytes = remaining;
            result.least_free_server = server;
        }
    }

    if let Some(average) = total_bytes.checked_div(total_items) {
        result.average_item_size = average as u32;
    }
    if total_hits > 0 && total_gets > 0 {
        result.pool_hit_ratio = total_hits as f64 / total_gets as f64 * 100.0;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields a test sets on one server: items, uptime, bytes, limit_maxbytes, get_hits
    /// and cmd_get.
    type Row = (u64, u64, u64, u64, u64, u64);

    fn stats(rows: &[Row]) -> Vec<memcached_stat_st> {
        rows.iter()
            .map(|&(items, uptime, bytes, limit, hits, gets)| {
                // SAFETY: memcached_stat_st is plain integers, a char array and two raw
                // pointers, for all of which zero bytes are a valid value.
                let mut stat: memcached_stat_st = unsafe { std::mem::zeroed() };
                stat.curr_items = items as libc::c_ulong;
                stat.uptime = uptime as libc::c_ulong;
                stat.bytes = bytes;
                stat.limit_maxbytes = limit;
                stat.get_hits = hits;
                stat.cmd_get = gets;
                stat
            })
            .collect()
    }

    /// The analysis fields in C order, root left out: average_item_size, longest_uptime,
    /// least_free_server, most_consumed_server, oldest_server, pool_hit_ratio,
    /// most_used_bytes, least_remaining_bytes.
    type Fields = (u32, u32, u32, u32, u32, f64, u64, u64);

    fn fields(rows: &[Row]) -> Fields {
        let a = analyze(&stats(rows));
        assert!(a.root.is_null());
        (
            a.average_item_size,
            a.longest_uptime,
            a.least_free_server,
            a.most_consumed_server,
            a.oldest_server,
            a.pool_hit_ratio,
            a.most_used_bytes,
            a.least_remaining_bytes,
        )
    }

    /// Each case with the fields libmemcached 1.1.4 printed for the same array.
    #[test]
    fn analyze_matches_libmemcached() {
        let cases: &[(&str, &[Row], Fields)] = &[
            (
                "three servers",
                &[
                    (10, 100, 1000, 10000, 5, 10),
                    (20, 300, 5000, 10000, 1, 10),
                    (30, 200, 3000, 20000, 0, 0),
                ],
                (150, 300, 1, 1, 1, 30.0, 5000, 5000),
            ),
            (
                "all zero",
                &[(0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0)],
                (0, 0, 1, 0, 0, 0.0, 0, 0),
            ),
            (
                "one server",
                &[(3, 50, 10, 100, 1, 3)],
                (3, 50, 0, 0, 0, 33.33333333333333, 10, 90),
            ),
            (
                "ties keep the first",
                &[
                    (1, 100, 500, 1000, 2, 3),
                    (1, 100, 500, 1000, 2, 3),
                    (1, 100, 500, 1000, 2, 3),
                ],
                (500, 100, 0, 0, 0, 66.66666666666666, 500, 500),
            ),
            (
                "bytes above limit wrap",
                &[(7, 10, 100, 50, 0, 0), (7, 10, 200, 100, 0, 0)],
                (21, 10, 1, 1, 0, 0.0, 200, 18446744073709551516),
            ),
            (
                "large values",
                &[
                    (
                        4_000_000_000,
                        5_000_000_000,
                        18_000_000_000_000_000_000,
                        u64::MAX,
                        3,
                        7,
                    ),
                    (4_000_000_000, 1, 1, 2, 0, 0),
                ],
                (
                    2250000000,
                    705032704,
                    1,
                    0,
                    0,
                    42.857142857142854,
                    18_000_000_000_000_000_000,
                    1,
                ),
            ),
            (
                "no hits",
                &[(1, 1, 10, 100, 0, 5), (1, 1, 20, 100, 0, 5)],
                (15, 1, 1, 1, 0, 0.0, 20, 80),
            ),
            (
                "average truncates",
                &[(3, 1, 10, 100, 1, 3), (0, 1, 20, 100, 0, 0)],
                (10, 1, 1, 1, 0, 33.33333333333333, 20, 80),
            ),
            (
                "ties in the middle",
                &[
                    (1, 5, 10, 1000, 0, 0),
                    (1, 9, 10, 500, 0, 0),
                    (1, 9, 10, 500, 0, 0),
                    (1, 2, 800, 900, 0, 0),
                ],
                (207, 9, 3, 3, 1, 0.0, 800, 100),
            ),
            (
                "uptime compared in 32 bits",
                &[(1, 4_294_967_297, 0, 0, 0, 0), (1, 2, 0, 0, 0, 0)],
                (0, 2, 1, 0, 1, 0.0, 0, 0),
            ),
            (
                "hits without gets",
                &[(1, 1, 0, 0, 5, 0), (1, 1, 0, 0, 0, 0)],
                (0, 1, 1, 0, 0, 0.0, 0, 0),
            ),
            (
                "more hits than gets",
                &[(1, 1, 0, 0, 9, 3)],
                (0, 1, 0, 0, 0, 300.0, 0, 0),
            ),
            (
                "bytes without items",
                &[(0, 1, 100, 1000, 0, 0)],
                (0, 1, 0, 0, 0, 0.0, 100, 900),
            ),
            (
                "byte sum wraps",
                &[(1, 1, u64::MAX, 0, 0, 0), (1, 1, 2, 0, 0, 0)],
                (0, 1, 0, 0, 0, 0.0, u64::MAX, 1),
            ),
            (
                "zero remaining is replaced",
                &[
                    (1, 1, 0, 100, 0, 0),
                    (1, 1, 100, 100, 0, 0),
                    (1, 1, 10, 100, 0, 0),
                ],
                (36, 1, 2, 1, 0, 0.0, 100, 90),
            ),
        ];
        for (name, rows, expected) in cases {
            assert_eq!(fields(rows), *expected, "{name}");
        }
    }

    #[test]
    fn analyze_empty_array_is_zero() {
        assert_eq!(fields(&[]), (0, 0, 0, 0, 0, 0.0, 0, 0));
    }
}
