//! The libhashkit 1.1.0 C interface (`libhashkit-1.0/*.h`): hashkit objects, the hash
//! functions one by one, and the AES value encryption.
//!
//! Results match Debian's libhashkit 1.1.0, probed function by function. Where the real
//! library dereferences a NULL argument and crashes, these exports return the fallback their
//! documentation names instead.
//!
//! A `hashkit_st` keeps two `{ function, context }` slots. The built-in algorithms are the
//! `extern "C"` functions of [`BUILTIN_SLOT_FUNCTIONS`], so `hashkit_get_function` recognises an
//! algorithm by its function address and reports any other address, NULL included, as
//! `HASHKIT_HASH_CUSTOM`. This relies on each of those functions, being neither generic nor
//! `#[inline]`, having a single address in the built library. `_key` is NULL or owns a boxed
//! [`EncodingKey`].

#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_uchar, c_void, size_t};

use super::types::hashkit_hash_algorithm_t::{self, *};
use super::types::hashkit_return_t::{self, *};
use super::types::{hashkit_function_st, hashkit_hash_fn, hashkit_st};
use super::{boundary, bytes, PanicFallback};
use crate::dist::hash;
use crate::encoding::EncodingKey;

/// A `hashkit_hash_algorithm_t` as received from C, which may hold any `int`.
pub type hashkit_hash_algorithm_raw = c_int;
/// A `hashkit_return_t` as received from C, which may hold any `int`.
pub type hashkit_return_raw = c_int;

/// Bit of `hashkit_st.flags`: `is_base_same_distributed`.
const FLAG_BASE_SAME_DISTRIBUTED: u8 = 1;
/// Bit of `hashkit_st.options`: `is_allocated`, the struct came from `hashkit_create(NULL)`.
const OPTION_ALLOCATED: u8 = 1;

impl PanicFallback for hashkit_return_t {
    fn panic_fallback() -> Self {
        HASHKIT_FAILURE
    }
}

impl PanicFallback for hashkit_hash_algorithm_t {
    fn panic_fallback() -> Self {
        HASHKIT_HASH_MAX
    }
}

/// `hashkit_string_st`: a byte string returned by `hashkit_encrypt` and `hashkit_decrypt`.
/// It is opaque to C, which reads it with `hashkit_string_length` and `hashkit_string_c_str`
/// and releases it with `hashkit_string_free`.
pub struct hashkit_string_st {
    /// The bytes followed by one NUL, which is not part of the length.
    terminated: Vec<u8>,
}

impl hashkit_string_st {
    fn new(mut bytes: Vec<u8>) -> Self {
        bytes.push(0);
        hashkit_string_st { terminated: bytes }
    }

    fn len(&self) -> usize {
        self.terminated.len() - 1
    }
}

/// The signature of a hash slot function, `hashkit_hash_fn` without the Option.
type SlotFunction = unsafe extern "C" fn(*const c_char, size_t, *mut c_void) -> u32;

/// The slot function of each algorithm, indexed by `hashkit_hash_algorithm_t`. Whether an
/// algorithm may be selected is decided by [`hash::is_available`], not by this table.
pub const BUILTIN_SLOT_FUNCTIONS: [SlotFunction; 11] = [
    slot_one_at_a_time,
    slot_md5,
    slot_crc,
    slot_fnv1_64,
    slot_fnv1a_64,
    slot_fnv1_32,
    slot_fnv1a_32,
    slot_hsieh,
    slot_murmur,
    slot_jenkins,
    slot_murmur3,
];

/// Hashes the key at `key` with `function`, or returns 0 for NULL with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe fn hash_raw_key(key: *const c_char, key_length: size_t, function: fn(&[u8]) -> u32) -> u32 {
    // SAFETY: caller contract.
    match unsafe { bytes(key, key_length) } {
        Some(key) => function(key),
        None => 0,
    }
}

/// Slot function of `HASHKIT_HASH_DEFAULT`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_one_at_a_time(
    key: *const c_char,
    key_length: size_t,
    _: *mut c_void,
) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::one_at_a_time) })
}

/// Slot function of `HASHKIT_HASH_MD5`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_md5(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::md5) })
}

/// Slot function of `HASHKIT_HASH_CRC`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_crc(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::crc) })
}

/// Slot function of `HASHKIT_HASH_FNV1_64`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_fnv1_64(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::fnv1_64) })
}

/// Slot function of `HASHKIT_HASH_FNV1A_64`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_fnv1a_64(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::fnv1a_64) })
}

/// Slot function of `HASHKIT_HASH_FNV1_32`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_fnv1_32(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::fnv1_32) })
}

/// Slot function of `HASHKIT_HASH_FNV1A_32`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_fnv1a_32(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::fnv1a_32) })
}

/// Slot function of `HASHKIT_HASH_HSIEH`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_hsieh(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::hsieh) })
}

/// Slot function of `HASHKIT_HASH_MURMUR`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_murmur(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::murmur) })
}

/// Slot function of `HASHKIT_HASH_JENKINS`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_jenkins(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::jenkins) })
}

/// Slot function of `HASHKIT_HASH_MURMUR3`. The context is ignored.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
unsafe extern "C" fn slot_murmur3(key: *const c_char, key_length: size_t, _: *mut c_void) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::murmur3) })
}

/// Returns the slot function of an algorithm that [`hash::is_available`] offers, or None (for
/// `CUSTOM`, values outside 0..=10, and `HSIEH` in a build without it). `algorithm` uses the
/// shared numbering of `memcached_hash_t` and `hashkit_hash_algorithm_t`.
pub fn builtin_function(algorithm: u32) -> hashkit_hash_fn {
    if !hash::is_available(algorithm) {
        return None;
    }
    BUILTIN_SLOT_FUNCTIONS.get(algorithm as usize).copied()
}

/// Identifies the algorithm of a slot by its function address: `HASHKIT_HASH_CUSTOM` for
/// anything that is not one of [`BUILTIN_SLOT_FUNCTIONS`], NULL included.
pub fn algorithm_of(slot: &hashkit_function_st) -> hashkit_hash_algorithm_t {
    const ALGORITHMS: [hashkit_hash_algorithm_t; 11] = [
        HASHKIT_HASH_DEFAULT,
        HASHKIT_HASH_MD5,
        HASHKIT_HASH_CRC,
        HASHKIT_HASH_FNV1_64,
        HASHKIT_HASH_FNV1A_64,
        HASHKIT_HASH_FNV1_32,
        HASHKIT_HASH_FNV1A_32,
        HASHKIT_HASH_HSIEH,
        HASHKIT_HASH_MURMUR,
        HASHKIT_HASH_JENKINS,
        HASHKIT_HASH_MURMUR3,
    ];
    let Some(address) = slot.function.map(|f| f as usize) else {
        return HASHKIT_HASH_CUSTOM;
    };
    BUILTIN_SLOT_FUNCTIONS
        .iter()
        .zip(ALGORITHMS)
        .find(|(builtin, _)| **builtin as usize == address)
        .map_or(HASHKIT_HASH_CUSTOM, |(_, algorithm)| algorithm)
}

/// Calls a slot's function on `key` with the slot's context, or returns 0 for a NULL function.
///
/// # Safety
/// The slot's function is NULL, one of [`BUILTIN_SLOT_FUNCTIONS`], or a C function that is
/// safe to call with a key and the slot's context.
pub unsafe fn call_slot(slot: &hashkit_function_st, key: &[u8]) -> u32 {
    match slot.function {
        // SAFETY: the key is a live slice; the function contract is the caller's.
        Some(function) => unsafe {
            function(key.as_ptr() as *const c_char, key.len(), slot.context)
        },
        None => 0,
    }
}

/// Builds the default slot: one-at-a-time without context.
fn default_slot() -> hashkit_function_st {
    hashkit_function_st {
        function: Some(slot_one_at_a_time),
        context: std::ptr::null_mut(),
    }
}

/// Initialises `kit` the way `hashkit_create` initialises caller storage: both slots to the
/// default algorithm, `is_base_same_distributed` set, `is_allocated` cleared, no key. Other
/// bits of `flags` and `options` stay as they were, and an earlier key is not freed.
pub fn init_hashkit(kit: &mut hashkit_st) {
    kit.base_hash = default_slot();
    kit.distribution_hash = default_slot();
    kit.flags |= FLAG_BASE_SAME_DISTRIBUTED;
    kit.options &= !OPTION_ALLOCATED;
    kit._key = std::ptr::null_mut();
}

/// Returns the encoding key of `kit`, if one is set.
///
/// # Safety
/// `kit._key` is NULL or was set by this module and not freed since.
pub unsafe fn encoding_key_of(kit: &hashkit_st) -> Option<&EncodingKey> {
    // SAFETY: caller contract: a non-NULL `_key` is a live Box<EncodingKey>.
    unsafe { (kit._key as *const EncodingKey).as_ref() }
}

/// Replaces the encoding key of `kit` as `hashkit_key` does: `None` removes it, any slice
/// (the empty one too) installs a new one. Returns whether a key is now set.
///
/// # Safety
/// `kit._key` is NULL or was set by this module and not freed since.
pub unsafe fn replace_encoding_key(kit: &mut hashkit_st, key: Option<&[u8]>) -> bool {
    // SAFETY: caller contract.
    unsafe { drop_encoding_key(kit) };
    match key {
        Some(key) => {
            kit._key = Box::into_raw(Box::new(EncodingKey::new(key))) as *mut c_void;
            true
        }
        None => false,
    }
}

/// Frees the encoding key of `kit`, if any, and clears `_key`.
///
/// # Safety
/// `kit._key` is NULL or was set by this module and not freed since.
unsafe fn drop_encoding_key(kit: &mut hashkit_st) {
    let key = std::mem::replace(&mut kit._key, std::ptr::null_mut());
    if !key.is_null() {
        // SAFETY: caller contract: a non-NULL `_key` came from Box::into_raw above.
        drop(unsafe { Box::from_raw(key as *mut EncodingKey) });
    }
}

/// Applies `hashkit_set_function` / `hashkit_set_distribution_function` to one slot, with
/// libhashkit 1.1.0's rules for each value.
fn apply_algorithm(
    slot: &mut hashkit_function_st,
    algorithm: hashkit_hash_algorithm_raw,
) -> hashkit_return_t {
    const CUSTOM: c_int = HASHKIT_HASH_CUSTOM as c_int;
    const MAX: c_int = HASHKIT_HASH_MAX as c_int;

    match algorithm {
        CUSTOM => HASHKIT_INVALID_ARGUMENT,
        // MAX resets the function but keeps the old context.
        MAX => {
            slot.function = Some(slot_one_at_a_time);
            HASHKIT_INVALID_HASH
        }
        0..MAX => match builtin_function(algorithm as u32) {
            Some(function) => {
                slot.function = Some(function);
                slot.context = std::ptr::null_mut();
                HASHKIT_SUCCESS
            }
            // An algorithm the build leaves out (HSIEH in Debian's).
            None => HASHKIT_INVALID_ARGUMENT,
        },
        // Values outside the enumeration succeed, clear the context and keep the function.
        _ => {
            slot.context = std::ptr::null_mut();
            HASHKIT_SUCCESS
        }
    }
}

/// Allocates a zeroed `hashkit_st` with the C allocator, or returns NULL when memory ran out.
fn allocate_hashkit() -> *mut hashkit_st {
    // SAFETY: calloc has no preconditions; the caller checks the result.
    unsafe { libc::calloc(1, std::mem::size_of::<hashkit_st>()) as *mut hashkit_st }
}

/// Initialises a hashkit in caller storage, or in a new allocation for NULL.
///
/// Both slots get the default algorithm (one-at-a-time), no context and no encoding key.
/// For caller storage only `is_allocated` is cleared and `is_base_same_distributed` set.
/// Other bits of the two flag bytes stay as they were, and an earlier encoding key is not
/// freed, as in libhashkit.
///
/// # Returns
/// `hash`, the new allocation, or NULL when memory ran out.
///
/// # Safety
/// `hash` is NULL or valid for reads and writes of a `hashkit_st`.
/// Ownership: release with `hashkit_free`, which also frees an allocated struct.
#[no_mangle]
pub unsafe extern "C" fn hashkit_create(hash: *mut hashkit_st) -> *mut hashkit_st {
    boundary(|| {
        let (kit, allocated) = if hash.is_null() {
            (allocate_hashkit(), true)
        } else {
            (hash, false)
        };
        // SAFETY: `kit` is NULL (checked by as_mut), the caller's valid storage, or a zeroed
        // allocation of the right size.
        let Some(fields) = (unsafe { kit.as_mut() }) else {
            return std::ptr::null_mut();
        };
        init_hashkit(fields);
        if allocated {
            fields.options |= OPTION_ALLOCATED;
        }
        kit
    })
}

/// Copies `source` into `destination` (or into a new allocation for NULL), encoding key
/// included. A NULL `source` makes this `hashkit_create(destination)`.
///
/// Both slots and the `flags` byte are copied, while `is_allocated` describes the
/// destination.
///
/// # Returns
/// The initialised destination, or NULL when memory ran out.
///
/// # Safety
/// `destination` is NULL or valid for writes of a `hashkit_st`; `source` is NULL or an
/// initialised hashkit. Ownership: release the copy with `hashkit_free`.
#[no_mangle]
pub unsafe extern "C" fn hashkit_clone(
    destination: *mut hashkit_st,
    source: *const hashkit_st,
) -> *mut hashkit_st {
    boundary(|| {
        // SAFETY: caller contract.
        let kit = unsafe { hashkit_create(destination) };
        if std::ptr::eq(kit, source) {
            // Copying a hashkit onto itself leaves it freshly created, as in libhashkit.
            return kit;
        }
        // SAFETY: `source` is NULL or an initialised hashkit (caller contract).
        let Some(source) = (unsafe { source.as_ref() }) else {
            return kit;
        };
        // SAFETY: hashkit_create returned NULL or an initialised hashkit that no one else
        // references during this call.
        let Some(copy) = (unsafe { kit.as_mut() }) else {
            return kit;
        };

        copy.base_hash = source.base_hash;
        copy.distribution_hash = source.distribution_hash;
        copy.flags = source.flags;
        // SAFETY: `source._key` is NULL or set by this module (caller contract).
        if let Some(key) = unsafe { encoding_key_of(source) } {
            copy._key = Box::into_raw(Box::new(key.clone())) as *mut c_void;
        }
        kit
    })
}

/// Compares the hash setup of two hashkits: both slots (function and context) and the
/// `is_base_same_distributed` bit. The encoding key and other flag bits do not count.
///
/// # Returns
/// true when they match, false when they differ or either pointer is NULL (even both).
///
/// # Safety
/// Each pointer is NULL or points to an initialised hashkit.
#[no_mangle]
pub unsafe extern "C" fn hashkit_compare(
    first: *const hashkit_st,
    second: *const hashkit_st,
) -> bool {
    boundary(|| {
        // SAFETY: caller contract.
        let (Some(first), Some(second)) = (unsafe { first.as_ref() }, unsafe { second.as_ref() })
        else {
            return false;
        };
        let same_slot = |a: &hashkit_function_st, b: &hashkit_function_st| {
            a.function.map(|f| f as usize) == b.function.map(|f| f as usize)
                && a.context == b.context
        };
        same_slot(&first.base_hash, &second.base_hash)
            && same_slot(&first.distribution_hash, &second.distribution_hash)
            && (first.flags & FLAG_BASE_SAME_DISTRIBUTED)
                == (second.flags & FLAG_BASE_SAME_DISTRIBUTED)
    })
}

/// Frees the encoding key of a hashkit and, when `hashkit_create` allocated it, the struct.
/// NULL is ignored (libhashkit crashes on it).
///
/// # Safety
/// `hash` is NULL or an initialised hashkit that is not used again, except that caller
/// storage may be passed to `hashkit_create` again.
#[no_mangle]
pub unsafe extern "C" fn hashkit_free(hash: *mut hashkit_st) {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(kit) = (unsafe { hash.as_mut() }) else {
            return;
        };
        // SAFETY: `_key` of an initialised hashkit is NULL or set by this module.
        unsafe { drop_encoding_key(kit) };
        if kit.options & OPTION_ALLOCATED != 0 {
            // SAFETY: the allocated bit is only set on structs from allocate_hashkit (calloc).
            unsafe { libc::free(hash as *mut c_void) };
        }
    })
}

/// Sets, replaces or removes the AES encoding key of a hashkit. A NULL `key` removes it, and
/// any other pointer installs a key of `key_length` bytes, even of length 0.
///
/// # Returns
/// true when a key is set afterwards, false for a NULL `key` or a NULL `kit`.
///
/// # Safety
/// `kit` is NULL or an initialised hashkit; `key` is NULL or valid for reads of
/// `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn hashkit_key(
    kit: *mut hashkit_st,
    key: *const c_char,
    key_length: size_t,
) -> bool {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(kit) = (unsafe { kit.as_mut() }) else {
            return false;
        };
        let key = if key.is_null() {
            None
        } else {
            // SAFETY: caller contract; `key` is non-NULL here.
            match unsafe { bytes(key, key_length) } {
                Some(key) => Some(key),
                None => return false,
            }
        };
        // SAFETY: `_key` of an initialised hashkit is NULL or set by this module.
        unsafe { replace_encoding_key(kit, key) }
    })
}

/// Applies `crypt` (encrypt or decrypt with the kit's key) to the source bytes.
///
/// # Safety
/// The contract of `hashkit_encrypt`.
unsafe fn crypt_with_kit(
    kit: *mut hashkit_st,
    source: *const c_char,
    source_length: size_t,
    crypt: impl FnOnce(&EncodingKey, &[u8]) -> Option<Vec<u8>>,
) -> *mut hashkit_string_st {
    // SAFETY: caller contract.
    let Some(kit) = (unsafe { kit.as_ref() }) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `_key` of an initialised hashkit is NULL or set by this module.
    let Some(key) = (unsafe { encoding_key_of(kit) }) else {
        return std::ptr::null_mut();
    };
    // SAFETY: caller contract.
    let Some(source) = (unsafe { bytes(source, source_length) }) else {
        return std::ptr::null_mut();
    };
    match crypt(key, source) {
        Some(output) => Box::into_raw(Box::new(hashkit_string_st::new(output))),
        None => std::ptr::null_mut(),
    }
}

/// Encrypts bytes with the hashkit's encoding key (AES-256-CBC, PKCS#7 padding), as
/// `memcached_set` does with values once `memcached_set_encoding_key` was called.
///
/// # Returns
/// A new string of 16 to 16 + `source_length` bytes, or NULL when `kit` is NULL, has no key
/// (libhashkit crashes there), or `source` is NULL with a non-zero length.
///
/// # Safety
/// `kit` is NULL or an initialised hashkit; `source` is NULL or valid for reads of
/// `source_length` bytes. Ownership: release the string with `hashkit_string_free`.
#[no_mangle]
pub unsafe extern "C" fn hashkit_encrypt(
    kit: *mut hashkit_st,
    source: *const c_char,
    source_length: size_t,
) -> *mut hashkit_string_st {
    boundary(|| {
        // SAFETY: caller contract, forwarded.
        unsafe {
            crypt_with_kit(kit, source, source_length, |key, data| {
                Some(key.encrypt(data))
            })
        }
    })
}

/// Decrypts bytes made by `hashkit_encrypt` with the same key.
///
/// # Returns
/// A new string with the plain bytes, or NULL when `kit` is NULL or has no key, `source` is
/// NULL with a non-zero length, or decryption fails (empty input, a length that is not a
/// multiple of 16, bad padding).
///
/// # Safety
/// `kit` is NULL or an initialised hashkit; `source` is NULL or valid for reads of
/// `source_length` bytes. Ownership: release the string with `hashkit_string_free`.
#[no_mangle]
pub unsafe extern "C" fn hashkit_decrypt(
    kit: *mut hashkit_st,
    source: *const c_char,
    source_length: size_t,
) -> *mut hashkit_string_st {
    boundary(|| {
        // SAFETY: caller contract, forwarded.
        unsafe { crypt_with_kit(kit, source, source_length, |key, data| key.decrypt(data)) }
    })
}

/// Selects the key hash algorithm of a hashkit and clears its context.
///
/// # Returns
/// * `HASHKIT_SUCCESS` for an available algorithm, and also for values outside the
///   enumeration, which only clear the context.
/// * `HASHKIT_INVALID_ARGUMENT` for `CUSTOM` (use `hashkit_set_custom_function`), for an
///   algorithm the build leaves out, and for a NULL `hash`. Nothing changes then. Debian's
///   build leaves out `HSIEH`, but this one offers it.
/// * `HASHKIT_INVALID_HASH` for `HASHKIT_HASH_MAX`, which resets the function to the default
///   but keeps the context.
///
/// # Safety
/// `hash` is NULL or an initialised hashkit.
#[no_mangle]
pub unsafe extern "C" fn hashkit_set_function(
    hash: *mut hashkit_st,
    hash_algorithm: hashkit_hash_algorithm_raw,
) -> hashkit_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { hash.as_mut() } {
            Some(kit) => apply_algorithm(&mut kit.base_hash, hash_algorithm),
            None => HASHKIT_INVALID_ARGUMENT,
        }
    })
}

/// Installs a caller's key hash function with its context.
///
/// # Returns
/// * `HASHKIT_SUCCESS`.
/// * `HASHKIT_FAILURE` for a NULL `function`, which changes nothing.
/// * `HASHKIT_INVALID_ARGUMENT` for a NULL `hash`.
///
/// # Safety
/// `hash` is NULL or an initialised hashkit. `function` must be safe to call with any key
/// and `context` for as long as the hashkit uses it.
#[no_mangle]
pub unsafe extern "C" fn hashkit_set_custom_function(
    hash: *mut hashkit_st,
    function: hashkit_hash_fn,
    context: *mut c_void,
) -> hashkit_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { hash.as_mut() } {
            Some(kit) => set_custom_slot(&mut kit.base_hash, function, context),
            None => HASHKIT_INVALID_ARGUMENT,
        }
    })
}

fn set_custom_slot(
    slot: &mut hashkit_function_st,
    function: hashkit_hash_fn,
    context: *mut c_void,
) -> hashkit_return_t {
    if function.is_none() {
        return HASHKIT_FAILURE;
    }
    slot.function = function;
    slot.context = context;
    HASHKIT_SUCCESS
}

/// Reports the key hash algorithm of a hashkit.
///
/// # Returns
/// The algorithm, `HASHKIT_HASH_CUSTOM` for a function that is not built in, and
/// `HASHKIT_HASH_DEFAULT` for a NULL `hash`.
///
/// # Safety
/// `hash` is NULL or an initialised hashkit.
#[no_mangle]
pub unsafe extern "C" fn hashkit_get_function(hash: *const hashkit_st) -> hashkit_hash_algorithm_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { hash.as_ref() } {
            Some(kit) => algorithm_of(&kit.base_hash),
            None => HASHKIT_HASH_DEFAULT,
        }
    })
}

/// Selects the distribution hash algorithm of a hashkit, with the rules and return codes of
/// `hashkit_set_function`. libmemcached stores this value but does not use it to pick servers.
///
/// # Returns
/// The codes of `hashkit_set_function`. A NULL `hash` gives `HASHKIT_INVALID_ARGUMENT`, where
/// libhashkit crashes.
///
/// # Safety
/// `hash` is NULL or an initialised hashkit.
#[no_mangle]
pub unsafe extern "C" fn hashkit_set_distribution_function(
    hash: *mut hashkit_st,
    hash_algorithm: hashkit_hash_algorithm_raw,
) -> hashkit_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { hash.as_mut() } {
            Some(kit) => apply_algorithm(&mut kit.distribution_hash, hash_algorithm),
            None => HASHKIT_INVALID_ARGUMENT,
        }
    })
}

/// Installs a caller's distribution hash function with its context.
///
/// # Returns
/// * `HASHKIT_SUCCESS`.
/// * `HASHKIT_FAILURE` for a NULL `function`, which changes nothing.
/// * `HASHKIT_INVALID_ARGUMENT` for a NULL `hash`.
///
/// # Safety
/// `hash` is NULL or an initialised hashkit. `function` must be safe to call with any key
/// and `context` for as long as the hashkit uses it.
#[no_mangle]
pub unsafe extern "C" fn hashkit_set_custom_distribution_function(
    hash: *mut hashkit_st,
    function: hashkit_hash_fn,
    context: *mut c_void,
) -> hashkit_return_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { hash.as_mut() } {
            Some(kit) => set_custom_slot(&mut kit.distribution_hash, function, context),
            None => HASHKIT_INVALID_ARGUMENT,
        }
    })
}

/// Reports the distribution hash algorithm of a hashkit.
///
/// # Returns
/// The algorithm, `HASHKIT_HASH_CUSTOM` for a function that is not built in, and
/// `HASHKIT_HASH_DEFAULT` for a NULL `hash`.
///
/// # Safety
/// `hash` is NULL or an initialised hashkit.
#[no_mangle]
pub unsafe extern "C" fn hashkit_get_distribution_function(
    hash: *const hashkit_st,
) -> hashkit_hash_algorithm_t {
    boundary(|| {
        // SAFETY: caller contract.
        match unsafe { hash.as_ref() } {
            Some(kit) => algorithm_of(&kit.distribution_hash),
            None => HASHKIT_HASH_DEFAULT,
        }
    })
}

/// Hashes a key with the hashkit's key hash function and context.
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL `hash` or a NULL function (libhashkit crashes on both).
///
/// # Safety
/// `hash` is NULL or an initialised hashkit whose function accepts `key` and `key_length`
/// (the built-in functions accept NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn hashkit_digest(
    hash: *const hashkit_st,
    key: *const c_char,
    key_length: size_t,
) -> u32 {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(kit) = (unsafe { hash.as_ref() }) else {
            return 0;
        };
        match kit.base_hash.function {
            // SAFETY: the pointers are passed through as the caller gave them; the function
            // contract is the caller's.
            Some(function) => unsafe { function(key, key_length, kit.base_hash.context) },
            None => 0,
        }
    })
}

/// Hashes a key with one algorithm, without a hashkit.
///
/// # Returns
/// The 32-bit hash, or 1 for `CUSTOM`, `MAX`, values outside the enumeration, algorithms the
/// build leaves out (Debian's returns 1 for `HSIEH`, this one computes it), and a NULL key
/// with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_digest(
    key: *const c_char,
    key_length: size_t,
    hash_algorithm: hashkit_hash_algorithm_raw,
) -> u32 {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(key) = (unsafe { bytes(key, key_length) }) else {
            return 1;
        };
        let Ok(algorithm) = u32::try_from(hash_algorithm) else {
            return 1;
        };
        hash::hash(algorithm, key).unwrap_or(1)
    })
}

/// Tells whether an algorithm can be used in this build.
///
/// # Returns
/// true for every algorithm the build offers and for `CUSTOM`, false for `MAX` and values
/// outside the enumeration. Debian's build returns false for `HSIEH`, but this one offers it.
#[no_mangle]
pub extern "C" fn libhashkit_has_algorithm(hash_algorithm: hashkit_hash_algorithm_raw) -> bool {
    boundary(|| {
        hash_algorithm == HASHKIT_HASH_CUSTOM as c_int
            || u32::try_from(hash_algorithm)
                .is_ok_and(|algorithm| builtin_function(algorithm).is_some())
    })
}

/// Names of the algorithms, NUL-terminated, indexed by value.
static ALGORITHM_NAMES: [&str; 12] = [
    "DEFAULT\0",
    "MD5\0",
    "CRC\0",
    "FNV1_64\0",
    "FNV1A_64\0",
    "FNV1_32\0",
    "FNV1A_32\0",
    "HSIEH\0",
    "MURMUR\0",
    "JENKINS\0",
    "MURMUR3\0",
    "CUSTOM\0",
];

/// Returns the name of an algorithm: "DEFAULT", "MD5", "CRC", "FNV1_64", "FNV1A_64",
/// "FNV1_32", "FNV1A_32", "HSIEH", "MURMUR", "JENKINS", "MURMUR3", "CUSTOM", and "INVALID"
/// for every other value. The string is static and never NULL.
#[no_mangle]
pub extern "C" fn libhashkit_string_hash(
    hash_algorithm: hashkit_hash_algorithm_raw,
) -> *const c_char {
    boundary(|| {
        let name = usize::try_from(hash_algorithm)
            .ok()
            .and_then(|index| ALGORITHM_NAMES.get(index))
            .copied()
            .unwrap_or("INVALID\0");
        name.as_ptr() as *const c_char
    })
}

/// Returns the text of a hashkit result code: "SUCCESS", "FAILURE", "MEMORY ALLOCATION
/// FAILURE", "INVALID hashkit_hash_algorithm_t", "INVALID ARGUMENT", and
/// "INVALID hashkit_return_t" for every other value. `ptr` is ignored and may be NULL. The
/// string is static and never NULL.
#[no_mangle]
pub extern "C" fn hashkit_strerror(ptr: *mut hashkit_st, rc: hashkit_return_raw) -> *const c_char {
    let _ = ptr;
    boundary(|| {
        let text = match rc {
            0 => "SUCCESS\0",
            1 => "FAILURE\0",
            2 => "MEMORY ALLOCATION FAILURE\0",
            3 => "INVALID hashkit_hash_algorithm_t\0",
            4 => "INVALID ARGUMENT\0",
            _ => "INVALID hashkit_return_t\0",
        };
        text.as_ptr() as *const c_char
    })
}

/// Frees a string from `hashkit_encrypt` or `hashkit_decrypt`. NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or a string from this library that was not freed yet.
#[no_mangle]
pub unsafe extern "C" fn hashkit_string_free(ptr: *mut hashkit_string_st) {
    boundary(|| {
        if !ptr.is_null() {
            // SAFETY: caller contract: the pointer came from Box::into_raw in crypt_with_kit.
            drop(unsafe { Box::from_raw(ptr) });
        }
    })
}

/// Returns the length of a hashkit string in bytes, without the terminating NUL, or 0 for
/// NULL (where libhashkit crashes).
///
/// # Safety
/// `self_` is NULL or a live string from this library.
#[no_mangle]
pub unsafe extern "C" fn hashkit_string_length(self_: *const hashkit_string_st) -> size_t {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { self_.as_ref() }.map_or(0, hashkit_string_st::len)
    })
}

/// Returns the bytes of a hashkit string, followed by a NUL that is not part of the length.
/// The pointer stays valid until the string is freed. NULL gives NULL, where libhashkit
/// aborts.
///
/// # Safety
/// `self_` is NULL or a live string from this library.
#[no_mangle]
pub unsafe extern "C" fn hashkit_string_c_str(self_: *const hashkit_string_st) -> *const c_char {
    boundary(|| {
        // SAFETY: caller contract.
        unsafe { self_.as_ref() }.map_or(std::ptr::null(), |string| {
            string.terminated.as_ptr() as *const c_char
        })
    })
}

/// Computes `libhashkit_md5_signature`: the 16-byte MD5 digest of the key, written to
/// `result`. Nothing is written when `result` is NULL or `key` is NULL with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `length` bytes; `result` is NULL or valid for writes of
/// 16 bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_md5_signature(
    key: *const c_uchar,
    length: size_t,
    result: *mut c_uchar,
) {
    boundary(|| {
        // SAFETY: caller contract.
        let Some(key) = (unsafe { bytes(key as *const c_char, length) }) else {
            return;
        };
        if result.is_null() {
            return;
        }
        let digest = hash::md5_digest(key);
        // SAFETY: `result` is non-NULL and valid for 16 bytes (caller contract).
        unsafe { std::ptr::copy_nonoverlapping(digest.as_ptr(), result, digest.len()) };
    })
}

/// Hashes a key with Bob Jenkins' one-at-a-time (`HASHKIT_HASH_DEFAULT`).
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_one_at_a_time(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::one_at_a_time) })
}

/// Hashes a key with libhashkit's FNV1_64 (64-bit FNV-1, low 32 bits).
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_fnv1_64(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::fnv1_64) })
}

/// Hashes a key with libhashkit's FNV1A_64, which 1.1.x computes in 32 bits.
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_fnv1a_64(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::fnv1a_64) })
}

/// Hashes a key with 32-bit FNV-1.
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_fnv1_32(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::fnv1_32) })
}

/// Hashes a key with 32-bit FNV-1a.
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_fnv1a_32(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::fnv1a_32) })
}

/// Hashes a key with libhashkit's CRC: bits 16..=30 of the CRC-32, so below 32768.
///
/// # Returns
/// The hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_crc32(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::crc) })
}

/// Hashes a key with Paul Hsieh's SuperFastHash, as the libhashkit source computes it.
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length. A build without the
/// algorithm returns 0 for every key, as Debian's libhashkit does.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_hsieh(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hsieh_if_available) })
}

fn hsieh_if_available(key: &[u8]) -> u32 {
    hash::hash(hash::HASH_HSIEH, key).unwrap_or(0)
}

/// Hashes a key with MurmurHash2 (32-bit, seed derived from the length).
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_murmur(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::murmur) })
}

/// Hashes a key with MurmurHash3 x86 32-bit (seed derived from the length).
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_murmur3(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::murmur3) })
}

/// Hashes a key with Bob Jenkins' lookup3 `hashlittle`, initial value 13.
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_jenkins(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::jenkins) })
}

/// Hashes a key with MD5: the first four digest bytes read little-endian.
///
/// # Returns
/// The 32-bit hash, or 0 for a NULL key with a non-zero length.
///
/// # Safety
/// `key` is NULL or valid for reads of `key_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn libhashkit_md5(key: *const c_char, key_length: size_t) -> u32 {
    // SAFETY: caller contract.
    boundary(|| unsafe { hash_raw_key(key, key_length, hash::md5) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    /// Builds a zero-filled hashkit in Rust storage, as C code would declare one on its stack.
    fn blank() -> hashkit_st {
        hashkit_st {
            base_hash: hashkit_function_st {
                function: None,
                context: std::ptr::null_mut(),
            },
            distribution_hash: hashkit_function_st {
                function: None,
                context: std::ptr::null_mut(),
            },
            flags: 0,
            options: 0,
            _key: std::ptr::null_mut(),
        }
    }

    fn created() -> hashkit_st {
        let mut kit = blank();
        // SAFETY: `kit` is valid storage.
        let returned = unsafe { hashkit_create(&mut kit) };
        assert!(std::ptr::eq(returned, &kit));
        kit
    }

    fn text(ptr: *const c_char) -> &'static str {
        // SAFETY: the exports under test return static NUL-terminated strings.
        unsafe { CStr::from_ptr(ptr) }.to_str().unwrap()
    }

    unsafe extern "C" fn custom_hash(
        _: *const c_char,
        key_length: size_t,
        context: *mut c_void,
    ) -> u32 {
        4242 + key_length as u32 + context as usize as u32
    }

    unsafe extern "C" fn other_custom_hash(_: *const c_char, _: size_t, _: *mut c_void) -> u32 {
        7
    }

    fn context(value: usize) -> *mut c_void {
        value as *mut c_void
    }

    #[test]
    fn create_sets_defaults_and_keeps_other_bits() {
        let mut kit = blank();
        kit.flags = 0xfe;
        kit.options = 0xff;
        kit.base_hash.context = context(0x1234);
        // SAFETY: `kit` is valid storage.
        unsafe { hashkit_create(&mut kit) };

        assert_eq!(kit.flags, 0xff);
        assert_eq!(kit.options, 0xfe);
        assert!(kit.base_hash.context.is_null());
        assert!(kit._key.is_null());
        assert_eq!(algorithm_of(&kit.base_hash), HASHKIT_HASH_DEFAULT);
        assert_eq!(algorithm_of(&kit.distribution_hash), HASHKIT_HASH_DEFAULT);
    }

    #[test]
    fn create_null_allocates() {
        // SAFETY: NULL requests an allocation, which is freed below.
        let kit = unsafe { hashkit_create(std::ptr::null_mut()) };
        assert!(!kit.is_null());
        // SAFETY: `kit` is a live allocation from hashkit_create.
        let fields = unsafe { &*kit };
        assert_eq!(fields.flags, 0x01);
        assert_eq!(fields.options, 0x01);
        // SAFETY: `kit` came from hashkit_create(NULL) and is not used afterwards.
        unsafe { hashkit_free(kit) };
    }

    /// (value, code, algorithm afterwards, context kept) for a kit holding MD5 with a
    /// context, as libhashkit 1.1.0 behaves except for HSIEH, which this build offers.
    #[test]
    fn set_function_follows_libhashkit_rules() {
        let cases: &[(c_int, hashkit_return_t, hashkit_hash_algorithm_t, bool)] = &[
            (0, HASHKIT_SUCCESS, HASHKIT_HASH_DEFAULT, false),
            (1, HASHKIT_SUCCESS, HASHKIT_HASH_MD5, false),
            (2, HASHKIT_SUCCESS, HASHKIT_HASH_CRC, false),
            (6, HASHKIT_SUCCESS, HASHKIT_HASH_FNV1A_32, false),
            (7, HASHKIT_SUCCESS, HASHKIT_HASH_HSIEH, false),
            (10, HASHKIT_SUCCESS, HASHKIT_HASH_MURMUR3, false),
            (11, HASHKIT_INVALID_ARGUMENT, HASHKIT_HASH_MD5, true),
            (12, HASHKIT_INVALID_HASH, HASHKIT_HASH_DEFAULT, true),
            (13, HASHKIT_SUCCESS, HASHKIT_HASH_MD5, false),
            (1000, HASHKIT_SUCCESS, HASHKIT_HASH_MD5, false),
            (-1, HASHKIT_SUCCESS, HASHKIT_HASH_MD5, false),
        ];
        for &(value, code, algorithm, context_kept) in cases {
            for distribution in [false, true] {
                let mut kit = created();
                let slot = if distribution {
                    &mut kit.distribution_hash
                } else {
                    &mut kit.base_hash
                };
                slot.function = builtin_function(1);
                slot.context = context(0x55);

                // SAFETY: `kit` is an initialised hashkit.
                let (returned, now) = unsafe {
                    if distribution {
                        (
                            hashkit_set_distribution_function(&mut kit, value),
                            hashkit_get_distribution_function(&kit),
                        )
                    } else {
                        (
                            hashkit_set_function(&mut kit, value),
                            hashkit_get_function(&kit),
                        )
                    }
                };
                let slot = if distribution {
                    &kit.distribution_hash
                } else {
                    &kit.base_hash
                };
                assert_eq!(returned, code, "value {value}, distribution {distribution}");
                assert_eq!(now, algorithm, "value {value}, distribution {distribution}");
                assert_eq!(slot.context == context(0x55), context_kept, "value {value}");
            }
        }
    }

    #[test]
    fn set_function_leaves_flags_alone() {
        let mut kit = created();
        // SAFETY: `kit` is an initialised hashkit.
        unsafe { hashkit_set_function(&mut kit, HASHKIT_HASH_MD5 as c_int) };
        assert_eq!(
            kit.flags & FLAG_BASE_SAME_DISTRIBUTED,
            FLAG_BASE_SAME_DISTRIBUTED
        );
        assert_eq!(algorithm_of(&kit.distribution_hash), HASHKIT_HASH_DEFAULT);
    }

    #[test]
    fn custom_function_is_called_with_context() {
        let mut kit = created();
        // SAFETY: `kit` is an initialised hashkit; custom_hash ignores the key bytes.
        unsafe {
            assert_eq!(
                hashkit_set_custom_function(&mut kit, None, context(9)),
                HASHKIT_FAILURE
            );
            assert_eq!(hashkit_get_function(&kit), HASHKIT_HASH_DEFAULT);
            assert_eq!(
                hashkit_set_custom_function(&mut kit, Some(custom_hash), context(8)),
                HASHKIT_SUCCESS
            );
            assert_eq!(hashkit_get_function(&kit), HASHKIT_HASH_CUSTOM);
            assert_eq!(
                hashkit_get_distribution_function(&kit),
                HASHKIT_HASH_DEFAULT
            );
            assert_eq!(
                hashkit_digest(&kit, b"abc".as_ptr() as *const c_char, 3),
                4242 + 3 + 8
            );
            assert_eq!(call_slot(&kit.base_hash, b"ab"), 4242 + 2 + 8);
            assert_eq!(
                hashkit_set_custom_distribution_function(
                    &mut kit,
                    Some(other_custom_hash),
                    context(1)
                ),
                HASHKIT_SUCCESS
            );
            assert_eq!(hashkit_get_distribution_function(&kit), HASHKIT_HASH_CUSTOM);
        }
    }

    #[test]
    fn digest_uses_selected_algorithm() {
        let mut kit = created();
        let key = b"hello";
        // SAFETY: `kit` is an initialised hashkit and `key` a live buffer.
        unsafe {
            assert_eq!(
                hashkit_digest(&kit, key.as_ptr() as *const c_char, 5),
                3372029979
            );
            hashkit_set_function(&mut kit, HASHKIT_HASH_JENKINS as c_int);
            assert_eq!(
                hashkit_digest(&kit, key.as_ptr() as *const c_char, 5),
                772589811
            );
            assert_eq!(hashkit_digest(&kit, std::ptr::null(), 0), 3735928572);
            assert_eq!(
                hashkit_digest(std::ptr::null(), key.as_ptr() as *const c_char, 5),
                0
            );
        }
    }

    #[test]
    fn compare_checks_slots_and_same_bit() {
        let base = created();
        let mut other = created();
        // SAFETY: all pointers are initialised hashkits or NULL.
        let compare = |a: &hashkit_st, b: &hashkit_st| unsafe { hashkit_compare(a, b) };
        assert!(compare(&base, &base));
        assert!(compare(&base, &other));

        other.flags |= 0x02;
        other.options ^= 0x01;
        other._key = context(1);
        assert!(
            compare(&base, &other),
            "other flag bits, options and key do not count"
        );

        let mut changed = created();
        changed.flags &= !FLAG_BASE_SAME_DISTRIBUTED;
        assert!(!compare(&base, &changed));
        let mut changed = created();
        changed.base_hash.context = context(1);
        assert!(!compare(&base, &changed));
        let mut changed = created();
        changed.distribution_hash.function = builtin_function(1);
        assert!(!compare(&base, &changed));
        let mut changed = created();
        changed.distribution_hash.context = context(1);
        assert!(!compare(&base, &changed));

        // SAFETY: NULL is accepted.
        unsafe {
            assert!(!hashkit_compare(&base, std::ptr::null()));
            assert!(!hashkit_compare(std::ptr::null(), &base));
            assert!(!hashkit_compare(std::ptr::null(), std::ptr::null()));
        }
    }

    #[test]
    fn clone_copies_slots_flags_and_key() {
        let mut source = created();
        source.flags = 0xfe;
        // SAFETY: `source` is an initialised hashkit and the key a live buffer.
        unsafe {
            hashkit_set_custom_function(&mut source, Some(custom_hash), context(3));
            assert!(hashkit_key(
                &mut source,
                b"secret".as_ptr() as *const c_char,
                6
            ));
        }
        let mut copy = blank();
        copy.options = 0xff;

        // SAFETY: both are valid storage; `source` is initialised.
        let returned = unsafe { hashkit_clone(&mut copy, &source) };

        assert!(std::ptr::eq(returned, &copy));
        assert_eq!(copy.flags, 0xfe);
        assert_eq!(copy.options, 0xfe);
        assert_eq!(algorithm_of(&copy.base_hash), HASHKIT_HASH_CUSTOM);
        assert_eq!(copy.base_hash.context, context(3));
        assert_ne!(copy._key, source._key);
        // SAFETY: both keys were set by this module.
        unsafe {
            assert_eq!(encoding_key_of(&copy), encoding_key_of(&source));
            hashkit_free(&mut copy);
            hashkit_free(&mut source);
        }
        assert!(copy._key.is_null());
    }

    #[test]
    fn clone_of_null_is_create() {
        let mut copy = blank();
        copy.base_hash.context = context(5);
        // SAFETY: `copy` is valid storage and NULL is accepted as source.
        unsafe { hashkit_clone(&mut copy, std::ptr::null()) };
        assert_eq!(algorithm_of(&copy.base_hash), HASHKIT_HASH_DEFAULT);
        assert!(copy.base_hash.context.is_null());

        // SAFETY: NULL destination and source allocate a default hashkit, freed below.
        let allocated = unsafe { hashkit_clone(std::ptr::null_mut(), std::ptr::null()) };
        assert!(!allocated.is_null());
        // SAFETY: `allocated` is live and not used afterwards.
        unsafe {
            assert_eq!((*allocated).options & OPTION_ALLOCATED, OPTION_ALLOCATED);
            hashkit_free(allocated);
        }
    }

    #[test]
    fn key_null_removes_and_empty_installs() {
        let mut kit = created();
        let key = b"secret";
        // SAFETY: `kit` is initialised and the key pointers live or NULL.
        unsafe {
            assert!(!hashkit_key(&mut kit, std::ptr::null(), 6));
            assert!(kit._key.is_null());
            assert!(hashkit_key(&mut kit, key.as_ptr() as *const c_char, 0));
            assert!(!kit._key.is_null());
            assert!(hashkit_key(&mut kit, key.as_ptr() as *const c_char, 6));
            assert!(!hashkit_key(&mut kit, std::ptr::null(), 0));
            assert!(kit._key.is_null());
            assert!(!hashkit_key(
                std::ptr::null_mut(),
                key.as_ptr() as *const c_char,
                6
            ));
        }
    }

    fn string_bytes(string: *mut hashkit_string_st) -> Vec<u8> {
        assert!(!string.is_null());
        // SAFETY: `string` is a live string from this module; it is freed here.
        unsafe {
            let length = hashkit_string_length(string);
            let start = hashkit_string_c_str(string) as *const u8;
            assert_eq!(*start.add(length), 0, "missing NUL terminator");
            let bytes = std::slice::from_raw_parts(start, length).to_vec();
            hashkit_string_free(string);
            bytes
        }
    }

    #[test]
    fn encrypt_and_decrypt_match_libhashkit() {
        // libhashkit 1.1.0's ciphertext of "hello" with the key "secret" (zero-filled buffer).
        let expected: [u8; 16] = [
            0xde, 0xce, 0x95, 0x7b, 0xab, 0xaf, 0x5f, 0x29, 0x7a, 0x14, 0x75, 0xaa, 0x91, 0x3b,
            0x6e, 0x2e,
        ];
        let mut kit = created();
        // SAFETY: `kit` is initialised and all buffers live.
        unsafe {
            assert!(hashkit_encrypt(&mut kit, b"hello".as_ptr() as *const c_char, 5).is_null());
            hashkit_key(&mut kit, b"secret".as_ptr() as *const c_char, 6);
            let encrypted = string_bytes(hashkit_encrypt(
                &mut kit,
                b"hello".as_ptr() as *const c_char,
                5,
            ));
            assert_eq!(encrypted, expected);
            let decrypted = string_bytes(hashkit_decrypt(
                &mut kit,
                expected.as_ptr() as *const c_char,
                16,
            ));
            assert_eq!(decrypted, b"hello");

            assert_eq!(
                string_bytes(hashkit_encrypt(&mut kit, std::ptr::null(), 0)).len(),
                16
            );
            assert!(hashkit_decrypt(&mut kit, std::ptr::null(), 0).is_null());
            assert!(hashkit_decrypt(&mut kit, b"hello".as_ptr() as *const c_char, 5).is_null());
            assert!(
                hashkit_decrypt(&mut kit, b"0123456789abcdef".as_ptr() as *const c_char, 16)
                    .is_null()
            );
            assert!(hashkit_encrypt(&mut kit, std::ptr::null(), 5).is_null());
            assert!(
                hashkit_encrypt(std::ptr::null_mut(), b"x".as_ptr() as *const c_char, 1).is_null()
            );
            hashkit_free(&mut kit);
        }
    }

    #[test]
    fn string_accessors_accept_null() {
        // SAFETY: NULL is accepted by all three.
        unsafe {
            assert_eq!(hashkit_string_length(std::ptr::null()), 0);
            assert!(hashkit_string_c_str(std::ptr::null()).is_null());
            hashkit_string_free(std::ptr::null_mut());
        }
    }

    /// Keys and the values libhashkit 1.1.0 printed for them, per algorithm 0..=10 except
    /// HSIEH, whose values come from the libhashkit source built with it.
    #[test]
    fn digest_functions_match_libhashkit() {
        let keys: [&[u8]; 5] = [
            b"",
            b"a",
            b"hello",
            b"The quick brown fox jumps over the lazy dog",
            &[0x80, 0xff],
        ];
        let table: [(c_int, [u32; 5]); 11] = [
            (0, [0, 3392050242, 3372029979, 1369346549, 13776397]),
            (
                1,
                [3649838548, 3111502092, 708854109, 2642219166, 173548770],
            ),
            (2, [0, 26807, 13840, 16719, 22360]),
            (
                3,
                [2216829733, 2248259518, 3183334599, 2112060110, 3035301522],
            ),
            (
                4,
                [2216829733, 2248273036, 2158673163, 3890508048, 3045546208],
            ),
            (
                5,
                [2166136261, 84696446, 3069866343, 3922226286, 1400307634],
            ),
            (
                6,
                [2166136261, 3826002220, 1335831723, 76545936, 2489175584],
            ),
            (7, [0, 2472816263, 327428805, 471461527, 3417067344]),
            (8, [0, 1262581116, 1377504255, 818385189, 1769343525]),
            (9, [3735928572, 3768813200, 772589811, 314054204, 300575878]),
            (10, [0, 2289228744, 1067880409, 2603515018, 1916609850]),
        ];
        let singles: [unsafe extern "C" fn(*const c_char, size_t) -> u32; 11] = [
            libhashkit_one_at_a_time,
            libhashkit_md5,
            libhashkit_crc32,
            libhashkit_fnv1_64,
            libhashkit_fnv1a_64,
            libhashkit_fnv1_32,
            libhashkit_fnv1a_32,
            libhashkit_hsieh,
            libhashkit_murmur,
            libhashkit_jenkins,
            libhashkit_murmur3,
        ];
        for (algorithm, expected) in table {
            for (key, value) in keys.iter().zip(expected) {
                let (ptr, len) = (key.as_ptr() as *const c_char, key.len());
                let mut kit = created();
                // SAFETY: `key` is a live buffer of `len` bytes and `kit` initialised.
                unsafe {
                    assert_eq!(
                        libhashkit_digest(ptr, len, algorithm),
                        value,
                        "alg {algorithm} key {key:?}"
                    );
                    assert_eq!(
                        singles[algorithm as usize](ptr, len),
                        value,
                        "alg {algorithm} key {key:?}"
                    );
                    assert_eq!(hashkit_set_function(&mut kit, algorithm), HASHKIT_SUCCESS);
                    assert_eq!(
                        hashkit_digest(&kit, ptr, len),
                        value,
                        "alg {algorithm} key {key:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn digest_of_unavailable_algorithms_is_one() {
        for algorithm in [-1, 11, 12, 13, 100] {
            // SAFETY: the key is a live buffer.
            let value = unsafe { libhashkit_digest(b"a".as_ptr() as *const c_char, 1, algorithm) };
            assert_eq!(value, 1, "alg {algorithm}");
        }
        // SAFETY: NULL with a non-zero length is rejected without a read.
        unsafe {
            assert_eq!(libhashkit_digest(std::ptr::null(), 5, 0), 1);
            assert_eq!(libhashkit_one_at_a_time(std::ptr::null(), 5), 0);
        }
    }

    #[test]
    fn md5_signature_writes_digest() {
        let mut result = [0u8; 16];
        // SAFETY: `result` has 16 writable bytes; NULL outputs are accepted.
        unsafe {
            libhashkit_md5_signature(b"hello".as_ptr(), 5, result.as_mut_ptr());
            libhashkit_md5_signature(b"hello".as_ptr(), 5, std::ptr::null_mut());
        }
        let expected = [
            0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76, 0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17,
            0xc5, 0x92,
        ];
        assert_eq!(result, expected);
    }

    #[test]
    fn has_algorithm_and_names() {
        let available: Vec<c_int> = (-2..15).filter(|&a| libhashkit_has_algorithm(a)).collect();
        assert_eq!(available, (0..=11).collect::<Vec<_>>());

        let names: Vec<&str> = (-1..14).map(|a| text(libhashkit_string_hash(a))).collect();
        let expected = [
            "INVALID", "DEFAULT", "MD5", "CRC", "FNV1_64", "FNV1A_64", "FNV1_32", "FNV1A_32",
            "HSIEH", "MURMUR", "JENKINS", "MURMUR3", "CUSTOM", "INVALID", "INVALID",
        ];
        assert_eq!(names, expected);
    }

    #[test]
    fn strerror_texts() {
        let texts: Vec<&str> = (-1..7)
            .map(|rc| text(hashkit_strerror(std::ptr::null_mut(), rc)))
            .collect();
        let expected = [
            "INVALID hashkit_return_t",
            "SUCCESS",
            "FAILURE",
            "MEMORY ALLOCATION FAILURE",
            "INVALID hashkit_hash_algorithm_t",
            "INVALID ARGUMENT",
            "INVALID hashkit_return_t",
            "INVALID hashkit_return_t",
        ];
        assert_eq!(texts, expected);
    }

    #[test]
    fn null_hashkit_fallbacks() {
        // SAFETY: every export accepts NULL here.
        unsafe {
            assert_eq!(
                hashkit_set_function(std::ptr::null_mut(), 1),
                HASHKIT_INVALID_ARGUMENT
            );
            assert_eq!(
                hashkit_set_distribution_function(std::ptr::null_mut(), 1),
                HASHKIT_INVALID_ARGUMENT
            );
            assert_eq!(
                hashkit_set_custom_function(
                    std::ptr::null_mut(),
                    Some(custom_hash),
                    std::ptr::null_mut()
                ),
                HASHKIT_INVALID_ARGUMENT
            );
            assert_eq!(hashkit_get_function(std::ptr::null()), HASHKIT_HASH_DEFAULT);
            assert_eq!(
                hashkit_get_distribution_function(std::ptr::null()),
                HASHKIT_HASH_DEFAULT
            );
            hashkit_free(std::ptr::null_mut());
        }
    }
}
