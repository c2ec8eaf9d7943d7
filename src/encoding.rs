//! Value encryption for `memcached_set_encoding_key`, byte-compatible with Debian's libhashkit
//! 1.1.0 (shipped with libmemcached 1.1.4 and built with OpenSSL).
//!
//! libhashkit encrypts every value with AES-256-CBC and PKCS#7 padding, with one fixed IV per
//! key, so equal values give equal ciphertexts and an empty value becomes one 16-byte block.
//! The IV is bytes 32..48 of OpenSSL's `EVP_BytesToKey` with SHA-256, no salt and 5 rounds
//! over the key bytes. The AES key is *not* the derived key: libhashkit hands the caller's key
//! buffer itself to the cipher, which reads 32 bytes from it. So for a key of 32 bytes or more
//! the AES key is its first 32 bytes, and for a shorter key the real library also reads the
//! memory after the key. [`EncodingKey::new`] uses zero bytes there. That matches the real
//! library whenever the caller's key buffer is zero-filled up to 32 bytes, and no
//! implementation can match it in general.
//!
//! How libmemcached 1.1.4 applies the key, observed against memcached 1.6.18:
//! * `memcached_set_encoding_key(mc, NULL, n)` turns encryption off and returns `SUCCESS`. A
//!   non-NULL key turns it on, even with length 0, and replaces an earlier key. A NULL handle
//!   gives `MEMCACHED_INVALID_ARGUMENTS`. `memcached_clone` copies the key.
//! * set, add, replace and cas send [`EncodingKey::encrypt`] of the value in both protocols.
//!   Flags and expiration are unchanged.
//! * append, prepend, increment and decrement (with or without an initial value) return
//!   `MEMCACHED_NOT_SUPPORTED` and send nothing, in both protocols.
//! * Text-protocol retrievals decrypt every non-empty value. An empty stored value comes back
//!   empty without an attempt to decrypt it. When decryption fails, the library records
//!   `MEMCACHED_FAILURE` with the message "hashkit_decrypt() failed", shuts the connection down
//!   and drops the rest of the reply. `memcached_get` then returns NULL, with
//!   `MEMCACHED_NOTFOUND` on a handle whose previous get found nothing, and with
//!   `MEMCACHED_FAILURE` right after a get that returned a value.
//! * Binary-protocol retrievals return the stored bytes without decrypting them.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use sha2::{Digest, Sha256};

type Aes256CbcEncryptor = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDecryptor = cbc::Decryptor<aes::Aes256>;

/// AES block size in bytes. Every ciphertext is a non-zero multiple of it.
pub const BLOCK_LEN: usize = 16;

/// Length of the AES-256 key in bytes, which is also how many bytes of the caller's key
/// buffer the real library reads.
const CIPHER_KEY_LEN: usize = 32;

/// The `EVP_BytesToKey` round count libhashkit passes.
const DERIVATION_ROUNDS: usize = 5;

/// The message libmemcached records when a stored value does not decrypt.
pub const DECRYPT_FAILED_MESSAGE: &str = "hashkit_decrypt() failed";

/// The message for append, prepend, increment and decrement while a key is set.
/// libmemcached 1.1.4 spells it "Operation not allowed while encyrption is enabled".
pub const NOT_ALLOWED_MESSAGE: &str = "Operation not allowed while encryption is enabled";

/// The cipher state derived from an encoding key.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodingKey {
    cipher_key: [u8; CIPHER_KEY_LEN],
    iv: [u8; BLOCK_LEN],
}

impl std::fmt::Debug for EncodingKey {
    /// Prints no key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncodingKey(..)")
    }
}

impl EncodingKey {
    /// Derives the cipher state from the bytes given to `memcached_set_encoding_key`.
    ///
    /// Every byte string is a valid key, the empty one included. A NULL key pointer, which
    /// turns encryption off, has to be handled by the caller before building a slice.
    pub fn new(key: &[u8]) -> Self {
        let mut cipher_key = [0u8; CIPHER_KEY_LEN];
        let used = key.len().min(CIPHER_KEY_LEN);
        cipher_key[..used].copy_from_slice(&key[..used]);
        EncodingKey {
            cipher_key,
            iv: derive_iv(key),
        }
    }

    /// Encrypts a value as libhashkit's `hashkit_encrypt` does. The result is 1 to 16 bytes
    /// longer than `value`, rounded up to whole blocks.
    pub fn encrypt(&self, value: &[u8]) -> Vec<u8> {
        Aes256CbcEncryptor::new(&self.cipher_key.into(), &self.iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(value)
    }

    /// Decrypts stored bytes as libhashkit's `hashkit_decrypt` does.
    ///
    /// Returns None where libhashkit fails: for empty input, a length that is not a multiple
    /// of [`BLOCK_LEN`], or invalid PKCS#7 padding after decryption (the usual sign of a wrong
    /// key or bytes that were never encrypted). A wrong key can still pass the padding check,
    /// about once in 256 tries, and then yields garbage, as with the real library.
    pub fn decrypt(&self, data: &[u8]) -> Option<Vec<u8>> {
        if data.is_empty() || data.len() % BLOCK_LEN != 0 {
            return None;
        }
        Aes256CbcDecryptor::new(&self.cipher_key.into(), &self.iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(data)
            .ok()
    }
}

/// Computes the IV half of `EVP_BytesToKey(SHA-256, no salt, 5 rounds)` for a 32-byte key
/// and a 16-byte IV. The first digest block is the derived key, which libhashkit computes
/// but never uses. The IV is the start of the second block.
fn derive_iv(key: &[u8]) -> [u8; BLOCK_LEN] {
    let derived_key = hash_rounds(&[key]);
    let second_block = hash_rounds(&[&derived_key, key]);

    let mut iv = [0u8; BLOCK_LEN];
    iv.copy_from_slice(&second_block[..BLOCK_LEN]);
    iv
}

/// Hashes the concatenation of `parts`, then hashes the digest again until
/// [`DERIVATION_ROUNDS`] hashes were applied.
fn hash_rounds(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    let mut digest: [u8; 32] = hasher.finalize().into();
    for _ in 1..DERIVATION_ROUNDS {
        digest = Sha256::digest(digest).into();
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ciphertexts printed by Debian's libhashkit 1.1.0 (`hashkit_key` + `hashkit_encrypt`),
    /// each key placed at the start of a zero-filled 64-byte buffer. The rows of `secret` with
    /// an empty value, `secret` with "hello", and the empty key with "hello" were also read
    /// back raw from memcached after libmemcached's `memcached_set` with the same key.
    const VECTORS: &[(&[u8], &[u8], &str)] = &[
        (b"secret", b"", "20e75e1f1fb083571c6341c3777dcde2"),
        (b"secret", b"hello", "dece957babaf5f297a1475aa913b6e2e"),
        (
            b"secret",
            b"aaaaaaaaaaaaaaa",
            "0a212502779819f829d7467daddcb672",
        ),
        (
            b"secret",
            b"bbbbbbbbbbbbbbbb",
            "670583153c32758a6dd1cae4fde48a451098db869d8831b543e1db3c32ee6923",
        ),
        (
            b"secret",
            b"ccccccccccccccccc",
            "a9efc23d6ed80b8cd328859d8d3cc653813d89420348f3d9c75fdc41e4614b01",
        ),
        (
            b"secret",
            b"dddddddddddddddddddddddddddddddd",
            "59770ef2a3fa65dad9d6b24a2e01ad693da479f293f88e078dffded1d86bf30c\
             7ff1a603a2e58c71b14f96bc80ea8ad5",
        ),
        (
            b"secret",
            b"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
            "a6052ee5ca88526394320bb9e62081d7f6e69eb7c129a8d6913c3074799cb57d\
             f94bb21902344d5d420325dd1a61f21b",
        ),
        (b"", b"", "aeb105da30af3e39f9d00857687e23e6"),
        (b"", b"hello", "5c9a647b3ce3e798170ff2e92aa683fe"),
        (
            b"0123456789abcdef0123456789abcdef",
            b"",
            "6c6450eac1d413437412bc63fe5fd8f6",
        ),
        (
            b"0123456789abcdef0123456789abcdef",
            b"hello",
            "7adc595ced4a05f966554c11853ecbff",
        ),
        (
            b"The quick brown fox jumps over the lazy dog",
            b"",
            "7c0372e932ca2113b5e0a0f4f14b049b",
        ),
        (
            b"The quick brown fox jumps over the lazy dog",
            b"hello",
            "1390e922f186898003c713f731195aa5",
        ),
        (
            b"abcdefghijklmnopqrstuvwxyz01234",
            b"",
            "ff1b8c5dd560b428be144579e87c2317",
        ),
        (
            b"abcdefghijklmnopqrstuvwxyz01234",
            b"hello",
            "869a69ac1ef36bd6fcfd7a179f2708dd",
        ),
    ];

    /// Builds the 33-byte key 0x80, 0x81, ..., 0x9f, 0xff, whose bytes a signed `char` would
    /// misread.
    fn high_key() -> Vec<u8> {
        let mut key: Vec<u8> = (0x80..0xa0).collect();
        key.push(0xff);
        key
    }

    const HIGH_KEY_VECTORS: &[(&[u8], &str)] = &[
        (b"", "62ad6ec455d6505c6c5a46e3eaff6014"),
        (b"hello", "591d09c852c632ccee932b8fb9493491"),
    ];

    /// libhashkit's ciphertexts of the bytes 0..=255 under two keys.
    const SECRET_BYTES_256: &str = "\
        e211a2f0783d0efcaa6a5aacb61582bf271375780177dd2b7c9f0acb5333a805\
        e7ed7ccc123030280b2420546a7f0adf2256b1362aab42cecf07b6718d0e0fc0\
        f5d067f0c840a03d300e4597f4fd14d6ccc5c5d2748b094bcca77900bc1a47b1\
        78657175fe54bf3e3174973afb0c694b257de193995dbd11d1fa6d1a47b7b200\
        e37428ab7290f72c3ce8b94b5b646ee526584c487d5b906042ff76c4bf1999a9\
        3dcb806eed474be8df7ac2c1c9c0edee782f23802c4cfdc53a0d4b255862e721\
        406dbc68036ba6c817e834d76c6fd2a6e0bba6bf4ad9027df4f87169548560b0\
        b0c1f0325d634b7e17480443f998a344ed44a863d6dd324683bada31a1085911\
        a1c0631b1cae60dfc01e626d9c478a2d";
    const K32_BYTES_256: &str = "\
        896274761b151e3adc629be981e5cfec77d2f0ed98d84ca975875783984b8b26\
        c5bb83d42b7c9c6c437bf652561d9d410a54fe86a3c9fb6b31a3c22eada11877\
        d04eee3d4a924b6515eed4d8e585acac9700039c57b335d7b71aa31a2219a5a1\
        ea7e74ac0347cc6c36190b0fddc27ad1b7e659582c379306ef83f412f95bb91d\
        53a3b2332c81d33437bc72628cd789bdd4cb037553095fc8c0af5162fd6aba4b\
        b1d880ac192173c75e3b98cc828f32c07a71d03fe0af562d297c0607c07b18cb\
        62338d20e020bb82394eb513adcce925d517822bd0b37176fd174063f64e042e\
        dd0f2042491986c35609ffd5bb39fd9e091f1243a428ccf4c9783fc4c32fb9a6\
        7ff09f47268f851439cf69de0023970f";

    fn unhex(text: &str) -> Vec<u8> {
        assert_eq!(text.len() % 2, 0, "odd hex length");
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex digit"))
            .collect()
    }

    fn all_bytes() -> Vec<u8> {
        (0..=255).collect()
    }

    #[test]
    fn encrypt_matches_libhashkit() {
        for (key, value, expected) in VECTORS {
            let encrypted = EncodingKey::new(key).encrypt(value);
            assert_eq!(encrypted, unhex(expected), "key {key:?}, value {value:?}");
        }
        let high = EncodingKey::new(&high_key());
        for (value, expected) in HIGH_KEY_VECTORS {
            assert_eq!(high.encrypt(value), unhex(expected), "value {value:?}");
        }
    }

    /// A 71-byte value that libmemcached 1.1.4 stored with the key "secret", read back raw.
    const FOX_TWICE: &[u8] =
        b"The quick brown fox jumps over the lazy dog, twice: The quick brown fox";
    const SECRET_FOX_TWICE: &str = "\
        e114e6ce90dae20a5845e5a08803e47269b1f04068b153d2065d3990add88de0\
        05bca721b1342eb296aea05add54c82114d16c0b49a723f172e4bb5b59dc648e\
        a3187cddd1eb7df38c49fe154c7d7746";

    #[test]
    fn encrypt_matches_memcached_set() {
        let secret = EncodingKey::new(b"secret");
        assert_eq!(secret.encrypt(FOX_TWICE), unhex(SECRET_FOX_TWICE));
        assert_eq!(
            secret.decrypt(&unhex(SECRET_FOX_TWICE)).as_deref(),
            Some(FOX_TWICE)
        );
    }

    #[test]
    fn encrypt_long_value_matches_libhashkit() {
        let secret = EncodingKey::new(b"secret");
        assert_eq!(secret.encrypt(&all_bytes()), unhex(SECRET_BYTES_256));
        let k32 = EncodingKey::new(b"0123456789abcdef0123456789abcdef");
        assert_eq!(k32.encrypt(&all_bytes()), unhex(K32_BYTES_256));
    }

    #[test]
    fn decrypt_reverses_libhashkit() {
        for (key, value, ciphertext) in VECTORS {
            let decrypted = EncodingKey::new(key).decrypt(&unhex(ciphertext));
            assert_eq!(decrypted.as_deref(), Some(*value), "key {key:?}");
        }
        let secret = EncodingKey::new(b"secret");
        assert_eq!(secret.decrypt(&unhex(SECRET_BYTES_256)), Some(all_bytes()));
    }

    #[test]
    fn long_key_ignores_buffer_after_it() {
        // libhashkit printed this for the 35-byte key with 0x00 and with 0x41 filling the
        // buffer after it: past 32 bytes only the IV depends on the key.
        let key = EncodingKey::new(b"0123456789abcdef0123456789abcdefXYZ");
        assert_eq!(
            key.encrypt(b"hello"),
            unhex("7c2009f4b3360bd78c4029313f2fa97e")
        );
        let prefix = EncodingKey::new(b"0123456789abcdef0123456789abcdef");
        assert_eq!(key.cipher_key, prefix.cipher_key);
        assert_ne!(key.iv, prefix.iv);
    }

    #[test]
    fn derived_iv_matches_openssl() {
        // EVP_BytesToKey(aes-256-cbc, sha256, NULL, "secret", 6, 5, key, iv) as printed
        // from the real library under a debugger.
        let key = EncodingKey::new(b"secret");
        assert_eq!(key.iv.to_vec(), unhex("378a79fa32a705e4b74ff0fd8f825a6f"));
    }

    #[test]
    fn decrypt_rejects_bad_lengths() {
        let key = EncodingKey::new(b"secret");
        assert_eq!(key.decrypt(b""), None);
        assert_eq!(key.decrypt(b"hello"), None);
        assert_eq!(key.decrypt(b"0123456789abcdefg"), None);
    }

    #[test]
    fn decrypt_rejects_plain_and_foreign_data() {
        let key = EncodingKey::new(b"secret");
        // Values a plain client stored: libhashkit fails on all of them.
        assert_eq!(key.decrypt(b"0123456789abcdef"), None);
        assert_eq!(key.decrypt(b"0123456789abcdef0123456789abcdef"), None);
        // A valid first block followed by a copy of itself ends in bad padding.
        let block = unhex("dece957babaf5f297a1475aa913b6e2e");
        let doubled = [block.clone(), block].concat();
        assert_eq!(key.decrypt(&doubled), None);
        // A different key does not decrypt libhashkit's ciphertext of "hello".
        let wrong = EncodingKey::new(b"wrongkey");
        assert_eq!(
            wrong.decrypt(&unhex("dece957babaf5f297a1475aa913b6e2e")),
            None
        );
    }

    #[test]
    fn encrypt_pads_to_whole_blocks() {
        let key = EncodingKey::new(b"k");
        for len in 0..=48 {
            let value = vec![b'x'; len];
            let encrypted = key.encrypt(&value);
            assert_eq!(
                encrypted.len(),
                (len / BLOCK_LEN + 1) * BLOCK_LEN,
                "length {len}"
            );
            assert_eq!(key.decrypt(&encrypted), Some(value), "length {len}");
        }
    }

    #[test]
    fn debug_hides_key() {
        let text = format!("{:?}", EncodingKey::new(b"secret"));
        assert_eq!(text, "EncodingKey(..)");
    }
}
