//! The panic boundary every export runs its body through.
//!
//! A panic must not unwind into C. Each export names the value its C caller gets instead
//! (false, -1, NULL or a failure code). The panic is swallowed here without printing anything,
//! because the process belongs to the caller and libmemcachedutil has no error channel.
//!
//! Silencing needs a panic hook. This cdylib links its own copy of the Rust standard library,
//! so the hook installed here gets only this library's panics, never the host program's or
//! libmemcached's. Outside a guarded call it still defers to the previous hook, which keeps
//! `cargo test` output intact.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static INSIDE_GUARD: Cell<bool> = const { Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs `body`, or returns `fallback` if it panics.
///
/// The closure is asserted unwind-safe: after a panic the export returns at once, and the only
/// shared state (a pool's mutex) does not poison, so a pool stays usable, at worst with one
/// handle fewer than before.
pub fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    install_quiet_hook();
    let was_inside = INSIDE_GUARD.with(|inside| inside.replace(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    INSIDE_GUARD.with(|inside| inside.set(was_inside));
    outcome.unwrap_or(fallback)
}

fn install_quiet_hook() {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !INSIDE_GUARD.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Writes `value` through `out` unless `out` is NULL.
///
/// # Safety
/// `out` is NULL or valid for one aligned write of `T`.
pub unsafe fn write_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-null checked above; the caller guarantees it is valid for writes.
        unsafe { out.write(value) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_returns_fallback_on_panic() {
        let value = guard(-1, || -> i32 { panic!("boom") });
        assert_eq!(value, -1);
    }

    #[test]
    fn guard_passes_normal_return_through() {
        assert_eq!(guard(-1, || 7), 7);
    }

    #[test]
    fn write_out_ignores_null() {
        let mut slot = 0;
        // SAFETY: a NULL pointer and a pointer to a live local are both allowed.
        unsafe {
            write_out(std::ptr::null_mut::<i32>(), 5);
            write_out(&mut slot, 5);
        }
        assert_eq!(slot, 5);
    }
}
