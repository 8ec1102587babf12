// SPDX-License-Identifier: GPL-2.0

//! An interrupt-safe spinlock: a [`kernel::sync::lock::Backend`] that disables local
//! interrupts while held (`spin_lock_irqsave`).
//!
//! Virtqueue callbacks run in hard interrupt context, so state they share with process
//! context needs this; the kernel crate of 7.2 only has the plain `SpinLock`. Because it
//! is a regular `Backend`, [`kernel::sync::CondVar`] works with its guards.

use kernel::{bindings, ffi::c_ulong, sync::lock::Backend};

/// Backend of [`SpinLockIrq`].
pub struct SpinLockIrqBackend;

/// A spinlock taken with interrupts disabled.
pub type SpinLockIrq<T> = kernel::sync::lock::Lock<T, SpinLockIrqBackend>;

/// Creates a [`SpinLockIrq`] initialiser with a lockdep class for this call site.
#[macro_export]
macro_rules! new_spinlock_irq {
    ($inner:expr, $name:literal) => {
        $crate::ext::sync::SpinLockIrq::new(
            $inner,
            kernel::c_str!($name),
            kernel::static_lock_class!(),
        )
    };
}

// SAFETY: `lock` and `unlock` use `spin_lock_irqsave`/`spin_unlock_irqrestore` on the same
// `spinlock_t`, initialised by `init` before first use, giving mutual exclusion; the saved
// interrupt flags travel in the guard state and are restored exactly once by `unlock`.
unsafe impl Backend for SpinLockIrqBackend {
    type State = bindings::spinlock_t;
    type GuardState = c_ulong;

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: The caller guarantees `ptr` is valid for writes and `name`/`key` are valid
        // for the lifetime of the lock.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees `ptr` points to an initialised lock. The two bindgen
        // views of `spinlock_t` are the same C type.
        unsafe { super::bindings::vgpu_helper_spin_lock_irqsave(ptr.cast()) }
    }

    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        let mut flags: c_ulong = 0;
        // SAFETY: The caller guarantees `ptr` points to an initialised lock; `flags` is a
        // valid local the helper writes the saved interrupt state into.
        let taken =
            unsafe { super::bindings::vgpu_helper_spin_trylock_irqsave(ptr.cast(), &mut flags) };
        (taken != 0).then_some(flags)
    }

    unsafe fn unlock(ptr: *mut Self::State, flags: &Self::GuardState) {
        // SAFETY: The caller guarantees the lock is held by this context with these flags.
        unsafe { super::bindings::vgpu_helper_spin_unlock_irqrestore(ptr.cast(), *flags) }
    }

    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // SAFETY: The caller guarantees `ptr` points to an initialised lock.
        unsafe { bindings::spin_assert_is_held(ptr) }
    }
}
