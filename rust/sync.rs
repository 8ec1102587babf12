// SPDX-License-Identifier: GPL-2.0

//! An interrupt-safe spinlock: a [`kernel::sync::lock::Backend`] that disables local
//! interrupts while held (`spin_lock_irqsave`).
//!
//! Virtqueue callbacks run in hard interrupt context, so state they share with process
//! context needs this; the kernel crate of 7.2 only has the plain `SpinLock`. Because it
//! is a regular `Backend`, [`kernel::sync::CondVar`] works with its guards.

use kernel::{bindings, ffi::c_ulong, prelude::*, sync::lock::Backend};

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

/// A `struct completion` with the timed waits the 7.2 kernel crate's `Completion` lacks:
/// teardown paths must wait for the device with a bound but without being cut short by a
/// signal (a process being killed still has to release its objects).
///
/// C header: [`include/linux/completion.h`](srctree/include/linux/completion.h).
#[pin_data]
pub struct Completion {
    #[pin]
    inner: kernel::types::Opaque<super::bindings::completion>,
}

// SAFETY: `struct completion` is designed for use from any context; it has its own lock.
unsafe impl Send for Completion {}
// SAFETY: As above.
unsafe impl Sync for Completion {}

/// How a timed wait of a [`Completion`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitResult {
    /// Completed.
    Done,
    /// The timeout passed first.
    Timeout,
    /// A signal arrived first (interruptible waits only).
    Signal,
}

impl Completion {
    /// A completion that has not completed.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            inner <- kernel::types::Opaque::ffi_init(|p: *mut super::bindings::completion| {
                // SAFETY: `p` is valid for writes; `init_completion` initialises it in place.
                unsafe { super::bindings::vgpu_helper_init_completion(p) }
            }),
        })
    }

    fn raw(&self) -> *mut super::bindings::completion {
        self.inner.get()
    }

    /// Completes it for every present and future waiter. Any context.
    pub fn complete_all(&self) {
        // SAFETY: The completion is initialised.
        unsafe { super::bindings::complete_all(self.raw()) }
    }

    /// Waits up to `jiffies` (not interrupted by signals).
    pub fn wait_timeout(&self, jiffies: kernel::time::Jiffies) -> WaitResult {
        // SAFETY: The completion is initialised.
        let left = unsafe { super::bindings::wait_for_completion_timeout(self.raw(), jiffies) };
        if left == 0 {
            WaitResult::Timeout
        } else {
            WaitResult::Done
        }
    }

    /// Waits up to `jiffies`, or until a fatal signal arrives (the task is being killed,
    /// so its system call will not be restarted).
    pub fn wait_killable_timeout(&self, jiffies: kernel::time::Jiffies) -> WaitResult {
        // SAFETY: The completion is initialised.
        let r =
            unsafe { super::bindings::wait_for_completion_killable_timeout(self.raw(), jiffies) };
        match r {
            0 => WaitResult::Timeout,
            r if r < 0 => WaitResult::Signal,
            _ => WaitResult::Done,
        }
    }

    /// Waits up to `jiffies`, or until a signal arrives.
    pub fn wait_interruptible_timeout(&self, jiffies: kernel::time::Jiffies) -> WaitResult {
        // SAFETY: The completion is initialised.
        let r = unsafe {
            super::bindings::wait_for_completion_interruptible_timeout(self.raw(), jiffies)
        };
        match r {
            0 => WaitResult::Timeout,
            r if r < 0 => WaitResult::Signal,
            _ => WaitResult::Done,
        }
    }
}
