//! `libmemcached_util_version_check` (`libmemcachedutil-1.0/version.h`).

use std::ffi::c_void;

use crate::boundary::guard;
use crate::sys::{self, memcached_instance_st, memcached_return_t, memcached_st};

/// A version as one comparable number: `major * 65536 + minor * 256 + micro`.
fn version_number(major: u8, minor: u8, micro: u8) -> u32 {
    (u32::from(major) << 16) | (u32::from(minor) << 8) | u32::from(micro)
}

/// Context of the per-server callback: the requested version and the result so far.
struct VersionCheck {
    wanted: u32,
    all_new_enough: bool,
}

/// Checks that every server of `memc` runs at least version `major.minor.micro`.
///
/// The servers are asked for their versions first (`memcached_version`), so the result
/// reflects the running servers.
///
/// # Returns
/// true when every server reported a version at least as new as the one requested. false when
/// `memc` is NULL, when the version request failed, or when a server is older or did not
/// report a version. A handle with no servers gives whatever `memcached_version` returns for
/// it (false for libmemcached 1.1.4, which reports `MEMCACHED_NO_SERVERS`).
///
/// # Safety
/// `memc` is NULL or a valid handle that no other thread uses during the call.
#[no_mangle]
pub extern "C" fn libmemcached_util_version_check(
    memc: *mut memcached_st,
    major_version: u8,
    minor_version: u8,
    micro_version: u8,
) -> bool {
    guard(false, || {
        if memc.is_null() {
            return false;
        }
        // SAFETY: non-null checked above; the caller guarantees a valid, unshared handle.
        if !sys::succeeded(unsafe { sys::memcached_version(memc) }) {
            return false;
        }

        let mut check = VersionCheck {
            wanted: version_number(major_version, minor_version, micro_version),
            all_new_enough: true,
        };
        let callbacks: [sys::memcached_server_fn; 1] = [Some(compare_server_version)];
        // SAFETY: the handle as above; `callbacks` contains one function and `check` outlives
        // the call, which invokes the callback synchronously.
        unsafe {
            sys::memcached_server_cursor(
                memc,
                callbacks.as_ptr(),
                std::ptr::addr_of_mut!(check).cast::<c_void>(),
                1,
            )
        };
        check.all_new_enough
    })
}

/// Cursor callback: clears `all_new_enough` for a server that is older than wanted or whose
/// version is unknown (libmemcached reports 255 as the major version then).
unsafe extern "C" fn compare_server_version(
    _memc: *const memcached_st,
    server: *const memcached_instance_st,
    context: *mut c_void,
) -> memcached_return_t {
    // SAFETY: `context` is the `VersionCheck` passed to `memcached_server_cursor` above, and no
    // other reference to it exists during the cursor walk.
    let check = unsafe { &mut *context.cast::<VersionCheck>() };
    // SAFETY: `server` is an instance of the handle being walked, valid during the callback.
    let (major, minor, micro) = unsafe {
        (
            sys::memcached_server_major_version(server),
            sys::memcached_server_minor_version(server),
            sys::memcached_server_micro_version(server),
        )
    };

    if major != u8::MAX && version_number(major, minor, micro) >= check.wanted {
        return sys::MEMCACHED_SUCCESS;
    }
    check.all_new_enough = false;
    sys::MEMCACHED_FAILURE
}

#[cfg(test)]
mod tests {
    use super::version_number;

    #[test]
    fn version_numbers_order_like_versions() {
        assert_eq!(version_number(1, 6, 18), 0x01_06_12);
        assert!(version_number(1, 6, 18) > version_number(1, 4, 255));
        assert!(version_number(2, 0, 0) > version_number(1, 255, 255));
    }
}
