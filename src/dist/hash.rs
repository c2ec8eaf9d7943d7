//! The key hash functions of `memcached_hash_t`, bit-exact with libhashkit 1.1.4 on x86_64.
//!
//! libhashkit reads the key through a plain `char *`, and `char` is signed on x86_64. So in
//! one-at-a-time and the four FNV variants a byte >= 0x80 enters the arithmetic sign-extended
//! (0x80 becomes 0xffff_ff80). CRC, MD5, MurmurHash2, MurmurHash3 and lookup3 read unsigned
//! bytes. All functions are total: any byte slice, including the empty one, gives a value.

use md5::{Digest, Md5};

/// `MEMCACHED_HASH_DEFAULT`: Bob Jenkins' one-at-a-time.
pub const HASH_DEFAULT: u32 = 0;
/// `MEMCACHED_HASH_MD5`.
pub const HASH_MD5: u32 = 1;
/// `MEMCACHED_HASH_CRC`.
pub const HASH_CRC: u32 = 2;
/// `MEMCACHED_HASH_FNV1_64`.
pub const HASH_FNV1_64: u32 = 3;
/// `MEMCACHED_HASH_FNV1A_64`.
pub const HASH_FNV1A_64: u32 = 4;
/// `MEMCACHED_HASH_FNV1_32`.
pub const HASH_FNV1_32: u32 = 5;
/// `MEMCACHED_HASH_FNV1A_32`.
pub const HASH_FNV1A_32: u32 = 6;
/// `MEMCACHED_HASH_HSIEH`: not compiled into Debian's libhashkit, available here.
pub const HASH_HSIEH: u32 = 7;
/// `MEMCACHED_HASH_MURMUR`.
pub const HASH_MURMUR: u32 = 8;
/// `MEMCACHED_HASH_JENKINS`.
pub const HASH_JENKINS: u32 = 9;
/// `MEMCACHED_HASH_MURMUR3`.
pub const HASH_MURMUR3: u32 = 10;
/// `MEMCACHED_HASH_CUSTOM`: a caller-supplied function, never computed here.
pub const HASH_CUSTOM: u32 = 11;
/// `MEMCACHED_HASH_MAX`: one past the last real algorithm.
pub const HASH_MAX: u32 = 12;

/// Computes `memcached_generate_hash_value(key, len, alg)`.
///
/// Returns `None` for `CUSTOM`, `MAX` and every number above it; the C function returns the
/// constant 1 for those, so a caller that mirrors it maps `None` to 1. Unlike Debian's
/// libmemcached, which is built without it and returns 1, `HSIEH` is computed.
pub fn hash(alg: u32, key: &[u8]) -> Option<u32> {
    let value = match alg {
        HASH_DEFAULT => one_at_a_time(key),
        HASH_MD5 => md5(key),
        HASH_CRC => crc(key),
        HASH_FNV1_64 => fnv1_64(key),
        HASH_FNV1A_64 => fnv1a_64(key),
        HASH_FNV1_32 => fnv1_32(key),
        HASH_FNV1A_32 => fnv1a_32(key),
        HASH_MURMUR => murmur(key),
        HASH_JENKINS => jenkins(key),
        HASH_MURMUR3 => murmur3(key),
        HASH_HSIEH => hsieh(key),
        _ => return None,
    };
    Some(value)
}

/// Tells whether `memcached_behavior_set(HASH, alg)` can select `alg`, which is the same set
/// for which [`hash`] returns a value.
pub fn is_available(alg: u32) -> bool {
    alg < HASH_MAX && alg != HASH_CUSTOM
}

/// Widens a byte the way x86_64 C widens a `char`: as a signed value.
fn signed_byte(b: u8) -> u32 {
    b as i8 as i32 as u32
}

/// Reads 4 bytes at `at` as a little-endian word. The caller guarantees they exist.
fn read_le32(key: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([key[at], key[at + 1], key[at + 2], key[at + 3]])
}

/// Reads the 0..=3 bytes of a block tail as a little-endian number.
fn read_tail_le(tail: &[u8]) -> u32 {
    tail.iter()
        .rev()
        .fold(0u32, |word, &b| (word << 8) | u32::from(b))
}

/// Hashes with Bob Jenkins' one-at-a-time (`MEMCACHED_HASH_DEFAULT`), bytes sign-extended.
pub fn one_at_a_time(key: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &b in key {
        h = h.wrapping_add(signed_byte(b));
        h = h.wrapping_add(h << 10);
        h ^= h >> 6;
    }
    h = h.wrapping_add(h << 3);
    h ^= h >> 11;
    h.wrapping_add(h << 15)
}

/// Computes the RFC 1321 MD5 digest, as `libhashkit_md5_signature` does.
pub fn md5_digest(key: &[u8]) -> [u8; 16] {
    Md5::digest(key).into()
}

/// Hashes with MD5 (`MEMCACHED_HASH_MD5`): the first four digest bytes, little-endian.
pub fn md5(key: &[u8]) -> u32 {
    let digest = md5_digest(key);
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Hashes with CRC (`MEMCACHED_HASH_CRC`): bits 16..=30 of the standard CRC-32 (IEEE, as
/// zlib's `crc32`), so every value is below 32768.
pub fn crc(key: &[u8]) -> u32 {
    (crc32fast::hash(key) >> 16) & 0x7fff
}

/// Hashes with 64-bit FNV-1 (`MEMCACHED_HASH_FNV1_64`) and keeps the low 32 bits.
pub fn fnv1_64(key: &[u8]) -> u32 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    let mut h = OFFSET_BASIS;
    for &b in key {
        h = h.wrapping_mul(PRIME);
        h ^= b as i8 as i64 as u64;
    }
    h as u32
}

/// Hashes with libhashkit's `FNV1A_64` (`MEMCACHED_HASH_FNV1A_64`).
///
/// Despite the name, libhashkit 1.1.4 computes this in 32 bits with the low halves of the
/// 64-bit offset basis and prime, so it is not the low half of a real 64-bit FNV-1a.
pub fn fnv1a_64(key: &[u8]) -> u32 {
    const OFFSET_BASIS_LOW: u32 = 0x8422_2325;
    const PRIME_LOW: u32 = 0x0000_01b3;

    let mut h = OFFSET_BASIS_LOW;
    for &b in key {
        h ^= signed_byte(b);
        h = h.wrapping_mul(PRIME_LOW);
    }
    h
}

const FNV_32_OFFSET_BASIS: u32 = 0x811c_9dc5;
const FNV_32_PRIME: u32 = 0x0100_0193;

/// Hashes with 32-bit FNV-1 (`MEMCACHED_HASH_FNV1_32`), bytes sign-extended.
pub fn fnv1_32(key: &[u8]) -> u32 {
    let mut h = FNV_32_OFFSET_BASIS;
    for &b in key {
        h = h.wrapping_mul(FNV_32_PRIME);
        h ^= signed_byte(b);
    }
    h
}

/// Hashes with 32-bit FNV-1a (`MEMCACHED_HASH_FNV1A_32`), bytes sign-extended.
pub fn fnv1a_32(key: &[u8]) -> u32 {
    let mut h = FNV_32_OFFSET_BASIS;
    for &b in key {
        h ^= signed_byte(b);
        h = h.wrapping_mul(FNV_32_PRIME);
    }
    h
}

/// Hashes with Paul Hsieh's SuperFastHash, zero seed, as libhashkit 1.1.4 does when built with
/// it.
///
/// Debian's build leaves it out (its `libhashkit_hsieh()` returns 0); this library offers it.
/// The last byte of a 3-byte tail is read sign-extended, like the C code.
pub fn hsieh(key: &[u8]) -> u32 {
    if key.is_empty() {
        return 0;
    }
    let get16 = |at: usize| u32::from(key[at]) | (u32::from(key[at + 1]) << 8);

    let mut h: u32 = 0;
    let blocks = key.len() / 4;
    for block in 0..blocks {
        let at = block * 4;
        h = h.wrapping_add(get16(at));
        let t = (get16(at + 2) << 11) ^ h;
        h = (h << 16) ^ t;
        h = h.wrapping_add(h >> 11);
    }

    let at = blocks * 4;
    match key.len() % 4 {
        3 => {
            h = h.wrapping_add(get16(at));
            h ^= h << 16;
            h ^= signed_byte(key[at + 2]) << 18;
            h = h.wrapping_add(h >> 11);
        }
        2 => {
            h = h.wrapping_add(get16(at));
            h ^= h << 11;
            h = h.wrapping_add(h >> 17);
        }
        1 => {
            h = h.wrapping_add(u32::from(key[at]));
            h ^= h << 10;
            h = h.wrapping_add(h >> 1);
        }
        _ => {}
    }

    h ^= h << 3;
    h = h.wrapping_add(h >> 5);
    h ^= h << 4;
    h = h.wrapping_add(h >> 17);
    h ^= h << 25;
    h.wrapping_add(h >> 6)
}

/// The seed libhashkit derives from the key length for both Murmur variants. The length is
/// truncated to 32 bits, as the C code's `uint32_t` cast does.
fn murmur_seed(len: usize) -> u32 {
    0xdead_beef_u32.wrapping_mul(len as u32)
}

/// Hashes with MurmurHash2, 32-bit (`MEMCACHED_HASH_MURMUR`), seed `0xdeadbeef * len`.
pub fn murmur(key: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let len = key.len() as u32;

    let mut h = murmur_seed(key.len()) ^ len;
    let mut blocks = key.chunks_exact(4);
    for block in &mut blocks {
        let mut w = read_le32(block, 0);
        w = w.wrapping_mul(M);
        w ^= w >> 24;
        w = w.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= w;
    }

    let tail = blocks.remainder();
    if !tail.is_empty() {
        h ^= read_tail_le(tail);
        h = h.wrapping_mul(M);
    }

    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

/// Hashes with MurmurHash3 x86 32-bit (`MEMCACHED_HASH_MURMUR3`), seed `0xdeadbeef * len`.
pub fn murmur3(key: &[u8]) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let scramble = |w: u32| w.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);

    let mut h = murmur_seed(key.len());
    let mut blocks = key.chunks_exact(4);
    for block in &mut blocks {
        h ^= scramble(read_le32(block, 0));
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }

    let tail = blocks.remainder();
    if !tail.is_empty() {
        h ^= scramble(read_tail_le(tail));
    }

    // The C code takes the length as an `int`; only its low 32 bits reach the result.
    h ^= key.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Hashes with Bob Jenkins' lookup3 `hashlittle` and initial value 13
/// (`MEMCACHED_HASH_JENKINS`). The empty key gives `0xdeadbefc`.
pub fn jenkins(key: &[u8]) -> u32 {
    const INITVAL: u32 = 13;

    let start = 0xdead_beef_u32
        .wrapping_add(key.len() as u32)
        .wrapping_add(INITVAL);
    let (mut a, mut b, mut c) = (start, start, start);

    // Every full 12-byte block except the last one is mixed; the last 1..=12 bytes are
    // zero-padded and finalised.
    let mut rest = key;
    while rest.len() > 12 {
        a = a.wrapping_add(read_le32(rest, 0));
        b = b.wrapping_add(read_le32(rest, 4));
        c = c.wrapping_add(read_le32(rest, 8));
        lookup3_mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }

    let mut last = [0u8; 12];
    last[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(read_le32(&last, 0));
    b = b.wrapping_add(read_le32(&last, 4));
    c = c.wrapping_add(read_le32(&last, 8));
    lookup3_final(&mut a, &mut b, &mut c);
    c
}

/// The `mix()` step of lookup3.
fn lookup3_mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);

    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);

    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);

    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);

    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);

    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

/// The `final()` step of lookup3.
fn lookup3_final(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The twelve keys of the reference table, in column order K1..K12.
    const KEYS: [&[u8]; 12] = [
        b"",
        b"a",
        b"ab",
        b"abc",
        b"abcd",
        b"hello",
        b"foobar",
        b"memcached",
        b"0123456789abcdef",
        b"The quick brown fox jumps over the lazy dog",
        &[0x80, 0xff],
        &[0x6b, 0xe9, 0x79],
    ];

    /// Values printed by libmemcached 1.1.4's `memcached_generate_hash_value` for [`KEYS`]
    /// (HSIEH from the 1.1.4 source built with it), one row per algorithm.
    const TABLE: [(u32, &str, [u32; 12]); 11] = [
        (
            HASH_DEFAULT,
            "DEFAULT",
            [
                0, 3392050242, 1172708952, 3977453403, 3448463878, 3372029979, 4182965735,
                3654361592, 4028760775, 1369346549, 13776397, 3131465373,
            ],
        ),
        (
            HASH_MD5,
            "MD5",
            [
                3649838548, 3111502092, 1140096536, 2555380112, 1282538722, 708854109, 586569784,
                1357326829, 2377069120, 2642219166, 173548770, 2590026440,
            ],
        ),
        (
            HASH_CRC,
            "CRC",
            [
                0, 26807, 7811, 13604, 28034, 13840, 7926, 11903, 26820, 16719, 22360, 7590,
            ],
        ),
        (
            HASH_FNV1_64,
            "FNV1_64",
            [
                2216829733, 2248259518, 3035314104, 1806675403, 4219752341, 3183334599, 2765990338,
                851125154, 998436033, 2112060110, 3035301522, 2490176886,
            ],
        ),
        (
            HASH_FNV1A_64,
            "FNV1A_64",
            [
                2216829733, 2248273036, 3041237098, 88168267, 3993445597, 2158673163, 4147734504,
                1034523368, 3853346685, 3890508048, 3045546208, 3398579904,
            ],
        ),
        (
            HASH_FNV1_32,
            "FNV1_32",
            [
                2166136261, 84696446, 1886858552, 1134309195, 3118363509, 3069866343, 837857890,
                13562914, 2652598081, 3922226286, 1400307634, 662470230,
            ],
        ),
        (
            HASH_FNV1A_32,
            "FNV1A_32",
            [
                2166136261, 3826002220, 1294271946, 440920331, 3459545533, 1335831723, 3214735720,
                4220693320, 2277258045, 76545936, 2489175584, 2430212416,
            ],
        ),
        (
            HASH_HSIEH,
            "HSIEH",
            [
                0, 2472816263, 1535905475, 3843582778, 984896216, 327428805, 128288300, 2946060514,
                3097489547, 471461527, 3417067344, 2737957056,
            ],
        ),
        (
            HASH_MURMUR,
            "MURMUR",
            [
                0, 1262581116, 3820310011, 2064434216, 4016735919, 1377504255, 2884435735,
                1827675704, 43138349, 818385189, 1769343525, 28191469,
            ],
        ),
        (
            HASH_JENKINS,
            "JENKINS",
            [
                3735928572, 3768813200, 3249891675, 2403423744, 3574732058, 772589811, 266177376,
                270986666, 3760384329, 314054204, 300575878, 2950212896,
            ],
        ),
        (
            HASH_MURMUR3,
            "MURMUR3",
            [
                0, 2289228744, 2181799184, 634628250, 180520834, 1067880409, 2271945056, 123328338,
                1656019349, 2603515018, 1916609850, 3136967958,
            ],
        ),
    ];

    #[test]
    fn reference_table_matches() {
        for (alg, name, expected) in TABLE {
            for (key, want) in KEYS.iter().zip(expected) {
                let got = hash(alg, key).expect("algorithm is available");
                assert_eq!(got, want, "{name} of {key:02x?}");
            }
        }
    }

    #[test]
    fn unavailable_algorithms_give_none() {
        for alg in [HASH_CUSTOM, HASH_MAX, 13, 255, u32::MAX] {
            assert_eq!(hash(alg, b"key"), None, "algorithm {alg}");
            assert!(!is_available(alg), "algorithm {alg}");
        }
    }

    #[test]
    fn available_algorithms_give_some() {
        for alg in 0..HASH_MAX {
            let available = alg != HASH_CUSTOM;
            assert_eq!(hash(alg, b"key").is_some(), available, "algorithm {alg}");
            assert_eq!(is_available(alg), available, "algorithm {alg}");
        }
    }

    #[test]
    fn crc_stays_below_32768() {
        for len in 0..300usize {
            let key: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            assert!(crc(&key) < 32768, "length {len}");
        }
    }

    #[test]
    fn md5_digest_of_empty_key() {
        let expected = [
            0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8,
            0x42, 0x7e,
        ];
        assert_eq!(md5_digest(b""), expected);
    }
}
