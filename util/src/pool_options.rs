//! The pool sizes a configuration string requests (`--POOL-MIN=N`, `--POOL-MAX=N`).
//!
//! libmemcached parses the whole string in `memcached()` but offers no function that reads the
//! two sizes back, and the handle's layout is private to whichever libmemcached is loaded. So
//! `memcached_pool()` first lets `memcached()` validate the string and then scans it again here
//! for just these two options. The rules follow libmemcached's parser: statements are separated
//! by single spaces, keywords are case-insensitive, tab/CR/LF are dropped, a double-quoted
//! value is one token, `RESET` restores the defaults and `END` stops the scan.
//!
//! TODO: sizes given inside a file named by `--CONFIGURE-FILE=` or `INCLUDE` are not seen;
//! reading those files here would duplicate libmemcached's include handling.

/// Initial and maximum number of clones a pool keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSizes {
    pub initial: u32,
    pub max: u32,
}

impl Default for PoolSizes {
    /// libmemcached's defaults: one clone made up front, at most one in total.
    fn default() -> Self {
        Self { initial: 1, max: 1 }
    }
}

impl PoolSizes {
    /// Scans `options` for the sizes it sets, starting from the defaults.
    pub fn from_options(options: &[u8]) -> Self {
        let mut sizes = Self::default();
        for statement in split_statements(options) {
            if statement.eq_ignore_ascii_case(b"END") {
                break;
            }
            if statement.eq_ignore_ascii_case(b"RESET") {
                sizes = Self::default();
            } else if let Some(value) = option_value(&statement, b"--POOL-MIN=") {
                sizes.initial = parse_like_atoi(value);
            } else if let Some(value) = option_value(&statement, b"--POOL-MAX=") {
                sizes.max = parse_like_atoi(value);
            }
        }
        sizes
    }
}

/// Splits at single spaces outside double quotes, after dropping tab, CR and LF.
fn split_statements(options: &[u8]) -> Vec<Vec<u8>> {
    let mut statements = Vec::new();
    let mut current = Vec::new();
    let mut quoted = false;

    for &byte in options {
        match byte {
            b'\t' | b'\r' | b'\n' => {}
            b' ' if !quoted => statements.push(std::mem::take(&mut current)),
            b'"' => {
                quoted = !quoted;
                current.push(byte);
            }
            _ => current.push(byte),
        }
    }
    statements.push(current);
    statements
}

/// Returns the text after `prefix` when `statement` starts with it, ignoring ASCII case.
fn option_value<'a>(statement: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = statement.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &statement[prefix.len()..])
}

/// Leading decimal digits as C's `atoi` followed by a store into `uint32_t` gives them:
/// saturating at `LONG_MAX`, then truncated to 32 bits.
fn parse_like_atoi(digits: &[u8]) -> u32 {
    let value =
        digits
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .fold(0i64, |value, &digit| {
                value
                    .saturating_mul(10)
                    .saturating_add(i64::from(digit - b'0'))
            });
    value as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(options: &str) -> (u32, u32) {
        let sizes = PoolSizes::from_options(options.as_bytes());
        (sizes.initial, sizes.max)
    }

    #[test]
    fn defaults_without_pool_options() {
        assert_eq!(sizes("--SERVER=localhost"), (1, 1));
        assert_eq!(sizes(""), (1, 1));
    }

    #[test]
    fn reads_both_sizes_in_any_case() {
        assert_eq!(
            sizes("--SERVER=localhost --POOL-MIN=3 --POOL-MAX=10"),
            (3, 10)
        );
        assert_eq!(sizes("--pool-max=7 --Pool-Min=2"), (2, 7));
    }

    #[test]
    fn later_statements_override_and_reset_restores_defaults() {
        assert_eq!(sizes("--POOL-MAX=4 --POOL-MAX=9"), (1, 9));
        assert_eq!(
            sizes("--POOL-MIN=5 --POOL-MAX=9 RESET --POOL-MAX=2"),
            (1, 2)
        );
    }

    #[test]
    fn end_stops_the_scan() {
        assert_eq!(sizes("--POOL-MAX=4 END --POOL-MAX=9"), (1, 4));
    }

    #[test]
    fn quoted_values_are_one_token() {
        assert_eq!(sizes("--NAMESPACE=\"a --POOL-MAX=9\" --POOL-MIN=2"), (2, 1));
    }

    #[test]
    fn dropped_characters_glue_tokens() {
        assert_eq!(sizes("--POOL-MAX=1\t2"), (1, 12));
    }

    #[test]
    fn huge_numbers_wrap_like_atoi_into_uint32() {
        assert_eq!(sizes("--POOL-MAX=4294967297"), (1, 1));
        assert_eq!(sizes("--POOL-MAX=99999999999999999999999"), (1, u32::MAX));
    }
}
