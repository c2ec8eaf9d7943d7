//! The connection pool (`libmemcachedutil-1.0/pool.h`).
//!
//! A pool hands out clones of one master handle, each to one thread at a time. It creates
//! clones lazily up to its maximum, keeps returned ones for reuse (last returned, first handed
//! out), and makes callers wait when every clone is in use. One mutex guards all of it,
//! including the master; a condition variable wakes waiters when a clone comes back.
//!
//! Behaviour changes go through the pool (`memcached_pool_behavior_set`): they apply to the
//! master and to idle clones at once, and bump a generation counter. A clone that was lent out
//! under an older generation is replaced by a fresh clone of the master when it is released.

use std::collections::HashMap;
use std::ffi::c_char;
use std::ptr::{self, NonNull};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::boundary::{guard, write_out};
use crate::handle::OwnedHandle;
use crate::pool_options::PoolSizes;
use crate::sys::{self, memcached_behavior_t, memcached_return_t, memcached_st};

/// How long `memcached_pool_pop(pool, true, ..)` waits for a clone to come back.
const POP_BLOCKING_WAIT: Duration = Duration::from_secs(5);

/// A connection pool: clones of one master handle, each lent to one thread at a time.
///
/// Opaque to C. Made by `memcached_pool_create` or `memcached_pool`, freed by
/// `memcached_pool_destroy`.
pub struct memcached_pool_st {
    state: Mutex<PoolState>,
    clone_returned: Condvar,
    max_clones: u32,
}

struct PoolState {
    master: Master,
    idle: Vec<IdleClone>,
    /// Clones handed out, by address, with the generation they were made or updated under.
    lent: HashMap<NonNull<memcached_st>, u64>,
    /// Bumped by every successful `memcached_pool_behavior_set`.
    generation: u64,
}

// SAFETY: the raw handles inside (master, idle and lent clones) are only touched while the
// pool's mutex is held, and libmemcached handles have no thread affinity.
unsafe impl Send for PoolState {}

struct IdleClone {
    handle: OwnedHandle,
    generation: u64,
}

/// The pool's master handle and who frees it.
enum Master {
    /// From `memcached_pool_create`: the caller's, handed back by `memcached_pool_destroy`.
    CallerOwned(NonNull<memcached_st>),
    /// From `memcached_pool`: freed with the pool.
    PoolOwned(OwnedHandle),
}

impl Master {
    fn as_ptr(&self) -> *mut memcached_st {
        match self {
            Master::CallerOwned(handle) => handle.as_ptr(),
            Master::PoolOwned(handle) => handle.as_ptr(),
        }
    }
}

/// How long a fetch may wait when every clone is in use.
#[derive(Clone, Copy)]
enum Wait {
    No,
    Until(Instant),
    /// The requested timeout lies beyond what `Instant` can represent.
    Forever,
    /// The timeout had `tv_nsec` outside 0..1e9; reported only if a wait is needed.
    Invalid,
}

impl Wait {
    fn from_timespec(relative: Option<&libc::timespec>) -> Self {
        let Some(relative) = relative else {
            return Wait::No;
        };
        if relative.tv_sec == 0 && relative.tv_nsec == 0 {
            return Wait::No;
        }
        if !(0..1_000_000_000).contains(&relative.tv_nsec) {
            return Wait::Invalid;
        }

        // A negative timeout has already expired.
        let seconds = u64::try_from(relative.tv_sec).unwrap_or(0);
        let nanos = if relative.tv_sec < 0 {
            0
        } else {
            u32::try_from(relative.tv_nsec).unwrap_or(0)
        };
        match Instant::now().checked_add(Duration::new(seconds, nanos)) {
            Some(deadline) => Wait::Until(deadline),
            None => Wait::Forever,
        }
    }

    fn after(timeout: Duration) -> Self {
        Instant::now()
            .checked_add(timeout)
            .map_or(Wait::Forever, Wait::Until)
    }
}

impl PoolState {
    fn clone_master(&self) -> Option<OwnedHandle> {
        // SAFETY: the master is valid for the pool's lifetime. `PoolState` is only reachable
        // through the pool's mutex, so the caller holds it and no other thread uses the master.
        unsafe { OwnedHandle::clone_from(self.master.as_ptr()) }
    }

    fn clone_count(&self) -> usize {
        self.idle.len() + self.lent.len()
    }

    fn lend(&mut self, clone: IdleClone) -> *mut memcached_st {
        let raw = clone.handle.into_raw();
        self.lent.insert(raw, clone.generation);
        raw.as_ptr()
    }
}

impl memcached_pool_st {
    fn new(master: Master, sizes: PoolSizes) -> Self {
        let mut state = PoolState {
            master,
            idle: Vec::with_capacity(sizes.max as usize),
            lent: HashMap::new(),
            generation: 0,
        };
        // A clone failure leaves a smaller pool; later fetches try again.
        for _ in 0..sizes.initial {
            let Some(handle) = state.clone_master() else {
                break;
            };
            state.idle.push(IdleClone {
                handle,
                generation: 0,
            });
        }

        Self {
            state: Mutex::new(state),
            clone_returned: Condvar::new(),
            max_clones: sizes.max,
        }
    }

    /// Lends an idle or new clone, or returns NULL with the reason (`SUCCESS` when cloning
    /// failed).
    fn fetch(&self, wait: Wait) -> (*mut memcached_st, memcached_return_t) {
        let mut state = self.state.lock();
        loop {
            if let Some(clone) = state.idle.pop() {
                return (state.lend(clone), sys::MEMCACHED_SUCCESS);
            }
            if state.clone_count() < self.max_clones as usize {
                let generation = state.generation;
                return match state.clone_master() {
                    Some(handle) => (
                        state.lend(IdleClone { handle, generation }),
                        sys::MEMCACHED_SUCCESS,
                    ),
                    None => (ptr::null_mut(), sys::MEMCACHED_SUCCESS),
                };
            }

            match wait {
                Wait::No => return (ptr::null_mut(), sys::MEMCACHED_NOTFOUND),
                Wait::Invalid => {
                    set_errno(libc::EINVAL);
                    return (ptr::null_mut(), sys::MEMCACHED_ERRNO);
                }
                Wait::Forever => self.clone_returned.wait(&mut state),
                Wait::Until(deadline) => {
                    let expired = self.clone_returned.wait_until(&mut state, deadline);
                    if expired.timed_out() && state.idle.is_empty() {
                        return (ptr::null_mut(), sys::MEMCACHED_TIMEOUT);
                    }
                }
            }
        }
    }

    fn release(&self, raw: NonNull<memcached_st>) -> memcached_return_t {
        let mut state = self.state.lock();
        let Some(mut generation) = state.lent.remove(&raw) else {
            return sys::MEMCACHED_INVALID_ARGUMENTS;
        };
        // SAFETY: `lent` holds only heap clones this pool made and handed out; removing the
        // entry makes this the single owner again.
        let mut handle = unsafe { OwnedHandle::from_raw(raw) };

        // Settings changed while it was lent: swap in a fresh clone (dropping the old one).
        if generation != state.generation {
            if let Some(fresh) = state.clone_master() {
                handle = fresh;
                generation = state.generation;
            }
        }
        state.idle.push(IdleClone { handle, generation });
        drop(state);

        self.clone_returned.notify_one();
        sys::MEMCACHED_SUCCESS
    }

    fn set_behavior(&self, flag: memcached_behavior_t, data: u64) -> memcached_return_t {
        let mut state = self.state.lock();
        let master = state.master.as_ptr();
        // SAFETY: the master is valid for the pool's lifetime; the mutex is held.
        let rc = unsafe { sys::memcached_behavior_set(master, flag, data) };
        if !sys::succeeded(rc) {
            return rc;
        }
        state.generation += 1;

        let generation = state.generation;
        let mut refused = Vec::new();
        for (index, clone) in state.idle.iter_mut().enumerate() {
            // SAFETY: an idle clone is owned by the pool; the mutex is held.
            let clone_rc =
                unsafe { sys::memcached_behavior_set(clone.handle.as_ptr(), flag, data) };
            if sys::succeeded(clone_rc) {
                clone.generation = generation;
            } else {
                refused.push(index);
            }
        }
        // A clone that refused the setting is replaced by a fresh clone, if one can be made.
        for index in refused {
            if let Some(fresh) = state.clone_master() {
                state.idle[index] = IdleClone {
                    handle: fresh,
                    generation,
                };
            }
        }
        rc
    }

    fn behavior(&self, flag: memcached_behavior_t) -> u64 {
        let state = self.state.lock();
        // SAFETY: the master is valid for the pool's lifetime; the mutex is held.
        unsafe { sys::memcached_behavior_get(state.master.as_ptr(), flag) }
    }

    /// Frees the idle clones and a pool-owned master; returns a caller-owned master.
    fn destroy(self) -> *mut memcached_st {
        let state = self.state.into_inner();
        drop(state.idle);
        match state.master {
            Master::CallerOwned(master) => master.as_ptr(),
            Master::PoolOwned(master) => {
                drop(master);
                ptr::null_mut()
            }
        }
    }
}

fn set_errno(value: i32) {
    // SAFETY: `__errno_location` returns this thread's errno slot, always valid.
    unsafe { *libc::__errno_location() = value };
}

/// Borrows the pool behind a C pointer.
///
/// # Safety
/// `pool` is NULL or came from `memcached_pool_create`/`memcached_pool` and was not destroyed.
unsafe fn pool_ref<'a>(pool: *mut memcached_pool_st) -> Option<&'a memcached_pool_st> {
    // SAFETY: per the contract, a non-null pointer refers to a live boxed pool.
    unsafe { pool.as_ref() }
}

/// Creates a pool of clones of `mmc`.
///
/// Up to `initial` clones are made at once (fewer if cloning fails); more are made on demand
/// until `max` exist. The pool is safe to use from several threads at once.
///
/// # Returns
/// The new pool, or NULL when `mmc` is NULL, `initial` or `max` is 0, or `initial > max`.
///
/// Ownership: `mmc` stays the caller's, and must outlive the pool and not be used or freed
/// while the pool exists; `memcached_pool_destroy` returns it. Free the pool with
/// `memcached_pool_destroy`.
///
/// # Safety
/// `mmc` is NULL or a valid handle.
#[no_mangle]
pub extern "C" fn memcached_pool_create(
    mmc: *mut memcached_st,
    initial: u32,
    max: u32,
) -> *mut memcached_pool_st {
    guard(ptr::null_mut(), || {
        let Some(master) = NonNull::new(mmc) else {
            return ptr::null_mut();
        };
        if initial == 0 || max == 0 || initial > max {
            return ptr::null_mut();
        }
        let sizes = PoolSizes { initial, max };
        Box::into_raw(Box::new(memcached_pool_st::new(
            Master::CallerOwned(master),
            sizes,
        )))
    })
}

/// Creates a pool from a configuration string, as `memcached()` reads it.
///
/// The master handle comes from `memcached(option_string, option_string_length)`; the pool
/// sizes from its `--POOL-MIN=N` (default 1) and `--POOL-MAX=N` (default 1) options. As with
/// `memcached()`, a NULL string with length 0 means the `LIBMEMCACHED` environment variable.
///
/// # Returns
/// The new pool, or NULL when `memcached()` rejects the string or the sizes are invalid
/// (0, or minimum above maximum).
///
/// Ownership: the pool owns its master; `memcached_pool_destroy` frees both and returns NULL.
///
/// # Safety
/// `option_string` is NULL or valid for reading `option_string_length` bytes.
#[no_mangle]
pub extern "C" fn memcached_pool(
    option_string: *const c_char,
    option_string_length: usize,
) -> *mut memcached_pool_st {
    guard(ptr::null_mut(), || {
        // SAFETY: the string per this function's contract; errors are passed through as NULL.
        let raw = unsafe { sys::memcached(option_string, option_string_length) };
        let Some(raw) = NonNull::new(raw) else {
            return ptr::null_mut();
        };
        // SAFETY: `memcached()` returned a fresh heap handle that nothing else owns.
        let master = unsafe { OwnedHandle::from_raw(raw) };

        // SAFETY: `memcached()` accepted the arguments, so they satisfy this contract.
        let sizes = PoolSizes::from_options(&unsafe {
            configuration_text(option_string, option_string_length)
        });
        if sizes.initial == 0 || sizes.max == 0 || sizes.initial > sizes.max {
            return ptr::null_mut();
        }
        Box::into_raw(Box::new(memcached_pool_st::new(
            Master::PoolOwned(master),
            sizes,
        )))
    })
}

/// Copies the configuration text that `memcached(string, length)` parsed.
///
/// # Safety
/// `string` is NULL or valid for reading `length` bytes.
unsafe fn configuration_text(string: *const c_char, length: usize) -> Vec<u8> {
    if string.is_null() {
        return std::env::var_os("LIBMEMCACHED")
            .map(std::ffi::OsString::into_encoded_bytes)
            .unwrap_or_default();
    }
    // SAFETY: non-null checked above; `length` bytes readable per the contract.
    unsafe { std::slice::from_raw_parts(string.cast::<u8>(), length) }.to_vec()
}

/// Destroys a pool.
///
/// Idle clones are freed. Clones still handed out are not; they must not be passed to the
/// pool afterwards (free them with `memcached_free`).
///
/// # Returns
/// The caller-owned master of a pool from `memcached_pool_create`, now free for the caller to
/// use or free. NULL for a pool from `memcached_pool` (its master is freed here), for a NULL
/// `pool`, or after an internal error.
///
/// # Safety
/// `pool` is NULL or a live pool; no other thread uses it during or after the call.
#[no_mangle]
pub extern "C" fn memcached_pool_destroy(pool: *mut memcached_pool_st) -> *mut memcached_st {
    guard(ptr::null_mut(), || {
        if pool.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: non-null; per the contract it is a live pool from `Box::into_raw` that no
        // other thread uses any more.
        let pool = unsafe { Box::from_raw(pool) };
        pool.destroy()
    })
}

/// Takes a handle from the pool, waiting up to `relative_time` when all are in use.
///
/// An idle clone is handed out first. Without one, a new clone is made while fewer than the
/// maximum exist, and after that the call waits for a release. A NULL `relative_time`, or
/// `{0, 0}`, means do not wait.
///
/// # Returns
/// The handle, with `MEMCACHED_SUCCESS` in `*rc` (when `rc` is not NULL), or NULL with one of:
/// - `MEMCACHED_NOTFOUND`: every clone is in use and no wait was requested;
/// - `MEMCACHED_TIMEOUT`: the wait expired;
/// - `MEMCACHED_ERRNO` (errno `EINVAL`): `tv_nsec` is outside 0..999999999;
/// - `MEMCACHED_INVALID_ARGUMENTS`: `pool` is NULL;
/// - `MEMCACHED_SUCCESS`: a new clone could not be made;
/// - `MEMCACHED_FAILURE`: an internal error.
///
/// Ownership: the handle stays the pool's; give it back with `memcached_pool_release`, never
/// `memcached_free` it while the pool exists. Use it from one thread at a time.
///
/// # Safety
/// - `pool` is NULL or a live pool.
/// - `relative_time` is NULL or points to a readable `struct timespec`.
/// - `rc` is NULL or valid for writing one `memcached_return_t`.
#[no_mangle]
pub extern "C" fn memcached_pool_fetch(
    pool: *mut memcached_pool_st,
    relative_time: *mut libc::timespec,
    rc: *mut memcached_return_t,
) -> *mut memcached_st {
    let (handle, outcome) = guard((ptr::null_mut(), sys::MEMCACHED_FAILURE), || {
        // SAFETY: `pool` per this function's contract.
        let Some(pool) = (unsafe { pool_ref(pool) }) else {
            return (ptr::null_mut(), sys::MEMCACHED_INVALID_ARGUMENTS);
        };
        // SAFETY: `relative_time` is NULL or readable per this function's contract.
        let wait = Wait::from_timespec(unsafe { relative_time.as_ref() });
        pool.fetch(wait)
    });
    // SAFETY: `rc` per this function's contract.
    unsafe { write_out(rc, outcome) };
    handle
}

/// Takes a handle from the pool; with `block`, waits up to 5 seconds when all are in use.
///
/// The same as `memcached_pool_fetch` with a timeout of 5 seconds (`block` true) or none.
///
/// # Returns
/// The handle, or NULL with the reason in `*rc`, as for `memcached_pool_fetch`.
///
/// Ownership: as for `memcached_pool_fetch`.
///
/// # Safety
/// - `pool` is NULL or a live pool.
/// - `rc` is NULL or valid for writing one `memcached_return_t`.
#[no_mangle]
pub extern "C" fn memcached_pool_pop(
    pool: *mut memcached_pool_st,
    block: bool,
    rc: *mut memcached_return_t,
) -> *mut memcached_st {
    let (handle, outcome) = guard((ptr::null_mut(), sys::MEMCACHED_FAILURE), || {
        // SAFETY: `pool` per this function's contract.
        let Some(pool) = (unsafe { pool_ref(pool) }) else {
            return (ptr::null_mut(), sys::MEMCACHED_INVALID_ARGUMENTS);
        };
        pool.fetch(if block {
            Wait::after(POP_BLOCKING_WAIT)
        } else {
            Wait::No
        })
    });
    // SAFETY: `rc` per this function's contract.
    unsafe { write_out(rc, outcome) };
    handle
}

/// Gives a handle back to the pool it came from.
///
/// If behaviours were changed through `memcached_pool_behavior_set` while the handle was out,
/// it is replaced by a fresh clone of the master (and freed), so the next user gets the new
/// settings. One thread waiting in `memcached_pool_fetch` is woken.
///
/// # Returns
/// `MEMCACHED_SUCCESS`, or `MEMCACHED_INVALID_ARGUMENTS` for a NULL pool or handle and for a
/// handle that this pool did not lend out or that was already released. `MEMCACHED_FAILURE`
/// after an internal error.
///
/// # Safety
/// `pool` is NULL or a live pool. `mmc` is NULL or any pointer; it is only compared with the
/// handles the pool lent out.
#[no_mangle]
pub extern "C" fn memcached_pool_release(
    pool: *mut memcached_pool_st,
    mmc: *mut memcached_st,
) -> memcached_return_t {
    guard(sys::MEMCACHED_FAILURE, || {
        // SAFETY: `pool` per this function's contract.
        let (Some(pool), Some(handle)) = (unsafe { pool_ref(pool) }, NonNull::new(mmc)) else {
            return sys::MEMCACHED_INVALID_ARGUMENTS;
        };
        pool.release(handle)
    })
}

/// The same as `memcached_pool_release`.
///
/// # Returns
/// As for `memcached_pool_release`.
///
/// # Safety
/// As for `memcached_pool_release`.
#[no_mangle]
pub extern "C" fn memcached_pool_push(
    pool: *mut memcached_pool_st,
    mmc: *mut memcached_st,
) -> memcached_return_t {
    memcached_pool_release(pool, mmc)
}

/// Sets a behaviour on the pool's master and on every idle clone.
///
/// Clones that are handed out get the change when they are released (they are replaced by a
/// fresh clone of the master then). An idle clone that refuses the value is replaced the
/// same way.
///
/// # Returns
/// `MEMCACHED_SUCCESS`; the master's error from `memcached_behavior_set` when it refused the
/// value (nothing else is changed then); `MEMCACHED_INVALID_ARGUMENTS` for a NULL pool;
/// `MEMCACHED_FAILURE` after an internal error.
///
/// # Safety
/// `pool` is NULL or a live pool.
#[no_mangle]
pub extern "C" fn memcached_pool_behavior_set(
    pool: *mut memcached_pool_st,
    flag: memcached_behavior_t,
    data: u64,
) -> memcached_return_t {
    guard(sys::MEMCACHED_FAILURE, || {
        // SAFETY: `pool` per this function's contract.
        match unsafe { pool_ref(pool) } {
            Some(pool) => pool.set_behavior(flag, data),
            None => sys::MEMCACHED_INVALID_ARGUMENTS,
        }
    })
}

/// Reads a behaviour of the pool's master into `*value`.
///
/// # Returns
/// `MEMCACHED_SUCCESS`; `MEMCACHED_INVALID_ARGUMENTS` for a NULL pool or `value`;
/// `MEMCACHED_FAILURE` after an internal error.
///
/// # Safety
/// `pool` is NULL or a live pool; `value` is NULL or valid for writing one `uint64_t`.
#[no_mangle]
pub extern "C" fn memcached_pool_behavior_get(
    pool: *mut memcached_pool_st,
    flag: memcached_behavior_t,
    value: *mut u64,
) -> memcached_return_t {
    guard(sys::MEMCACHED_FAILURE, || {
        // SAFETY: `pool` per this function's contract.
        let Some(pool) = (unsafe { pool_ref(pool) }) else {
            return sys::MEMCACHED_INVALID_ARGUMENTS;
        };
        if value.is_null() {
            return sys::MEMCACHED_INVALID_ARGUMENTS;
        }
        let current = pool.behavior(flag);
        // SAFETY: non-null checked above; writable per this function's contract.
        unsafe { value.write(current) };
        sys::MEMCACHED_SUCCESS
    })
}
