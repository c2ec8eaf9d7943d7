//! Owned libmemcached handles: created here, freed on drop.
//!
//! The ping, flush and pid helpers each talk to one server through a short-lived handle; the
//! pool keeps clones of its master. Both go through [`OwnedHandle`], so every handle this
//! library creates is freed on every path, including early returns.

use std::ffi::c_char;
use std::ptr::{self, NonNull};

use crate::sys::{self, memcached_return_t, memcached_st, pid_t};

/// A heap `memcached_st` that this library created and must free.
pub struct OwnedHandle(NonNull<memcached_st>);

// SAFETY: a libmemcached handle has no thread affinity; it only must not be used by two
// threads at once. An `OwnedHandle` is either used by the one thread that created it, or kept
// inside a pool whose mutex serialises every access.
unsafe impl Send for OwnedHandle {}

impl OwnedHandle {
    /// Creates a handle with default behaviours and no servers; `None` if allocation failed.
    pub fn create() -> Option<Self> {
        // SAFETY: with NULL, libmemcached allocates the handle itself.
        let raw = unsafe { sys::memcached_create(ptr::null_mut()) };
        NonNull::new(raw).map(Self)
    }

    /// Clones `source` (servers, behaviours, namespace) into a new heap handle; `None` on failure.
    ///
    /// # Safety
    /// `source` is a valid handle that no other thread uses during the call.
    pub unsafe fn clone_from(source: *const memcached_st) -> Option<Self> {
        // SAFETY: NULL destination makes libmemcached allocate; `source` per the contract.
        let raw = unsafe { sys::memcached_clone(ptr::null_mut(), source) };
        NonNull::new(raw).map(Self)
    }

    /// Takes ownership of a handle that came back from C.
    ///
    /// # Safety
    /// `raw` is a heap handle that nothing else frees.
    pub unsafe fn from_raw(raw: NonNull<memcached_st>) -> Self {
        Self(raw)
    }

    /// Gives up ownership; the caller must eventually pass the pointer to `memcached_free`.
    pub fn into_raw(self) -> NonNull<memcached_st> {
        let raw = self.0;
        std::mem::forget(self);
        raw
    }

    pub fn as_ptr(&self) -> *mut memcached_st {
        self.0.as_ptr()
    }

    /// `memcached_server_add`.
    ///
    /// # Safety
    /// `hostname` is NULL or a NUL-terminated string.
    pub unsafe fn add_server(&self, hostname: *const c_char, port: u16) -> memcached_return_t {
        // SAFETY: the handle is live; `hostname` per the contract (libmemcached maps NULL to
        // "localhost").
        unsafe { sys::memcached_server_add(self.as_ptr(), hostname, port) }
    }

    /// `memcached_set_sasl_auth_data`.
    ///
    /// # Safety
    /// Each pointer is NULL or a NUL-terminated string.
    pub unsafe fn set_credentials(
        &self,
        username: *const c_char,
        password: *const c_char,
    ) -> memcached_return_t {
        // SAFETY: the handle is live; the strings per the contract (libmemcached copies them
        // and rejects NULL).
        unsafe { sys::memcached_set_sasl_auth_data(self.as_ptr(), username, password) }
    }

    /// Requests every server's version (`memcached_version`).
    pub fn request_versions(&self) -> memcached_return_t {
        // SAFETY: the handle is live and used by this thread only.
        unsafe { sys::memcached_version(self.as_ptr()) }
    }

    /// `memcached_flush` with expiration 0 (now).
    pub fn flush_now(&self) -> memcached_return_t {
        // SAFETY: the handle is live and used by this thread only.
        unsafe { sys::memcached_flush(self.as_ptr(), 0) }
    }

    /// Reads the first server's process id from `stats`, or returns the code that explains
    /// its absence (`UNKNOWN_STAT_KEY` when the reply carried no pid).
    pub fn first_server_pid(&self) -> Result<pid_t, memcached_return_t> {
        let mut rc = sys::MEMCACHED_SUCCESS;
        // SAFETY: the handle is live; NULL args means the general statistics group.
        let stats = unsafe { sys::memcached_stat(self.as_ptr(), ptr::null_mut(), &mut rc) };

        let outcome = if !sys::succeeded(rc) {
            Err(rc)
        } else if stats.is_null() {
            Err(sys::MEMCACHED_UNKNOWN_STAT_KEY)
        } else {
            // SAFETY: non-null; element 0 belongs to the first server and contains at least
            // the prefix declared in `memcached_stat_st`.
            let pid = unsafe { (*stats).pid };
            // An unset field reads 0 or -1; no memcached server runs as either.
            if pid > 0 {
                Ok(pid)
            } else {
                Err(sys::MEMCACHED_UNKNOWN_STAT_KEY)
            }
        };

        if !stats.is_null() {
            // SAFETY: `stats` came from `memcached_stat` on this handle and is freed once.
            unsafe { sys::memcached_stat_free(self.as_ptr(), stats) };
        }
        outcome
    }

    /// Replaces `SOME_ERRORS` by the first server's own error code when that server recorded
    /// one, so single-server callers learn why (for example `CONNECTION_FAILURE`).
    pub fn explain_some_errors(&self, rc: memcached_return_t) -> memcached_return_t {
        if rc != sys::MEMCACHED_SOME_ERRORS {
            return rc;
        }
        // SAFETY: the handle is live; position 0 exists or NULL comes back.
        let server = unsafe { sys::memcached_server_instance_by_position(self.as_ptr(), 0) };
        if server.is_null() {
            return rc;
        }
        // SAFETY: `server` is owned by the live handle and valid until it changes.
        let recorded = unsafe { !sys::memcached_server_error(server).is_null() };
        if recorded {
            // SAFETY: as above.
            unsafe { sys::memcached_server_error_return(server) }
        } else {
            rc
        }
    }
}

impl Drop for OwnedHandle {
    fn drop(&mut self) {
        // SAFETY: this value owns the heap handle, and drop runs once.
        unsafe { sys::memcached_free(self.as_ptr()) };
    }
}
