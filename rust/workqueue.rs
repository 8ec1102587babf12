// SPDX-License-Identifier: GPL-2.0

//! A module-owned workqueue: work queued from fence callbacks and interrupt handlers must
//! finish before the module's code goes away, and the system workqueues cannot be flushed
//! by a module. [`ModuleQueue::init`] allocates the queue at module init; dropping the
//! returned [`ModuleQueueOwner`] at module exit drains and destroys it.
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h).

use super::bindings;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::{prelude::*, str::CStr, workqueue::Queue};

/// A workqueue slot in a `static`, filled for the module's lifetime.
pub struct ModuleQueue(AtomicPtr<kernel::bindings::workqueue_struct>);

impl ModuleQueue {
    /// An empty slot.
    pub const fn new() -> Self {
        Self(AtomicPtr::new(core::ptr::null_mut()))
    }

    /// Allocates the queue (unbound, for memory reclaim) into the slot.
    pub fn init(&'static self, name: &'static CStr) -> Result<ModuleQueueOwner> {
        // SAFETY: `name` is a static NUL-terminated string.
        let wq = unsafe { bindings::vgpu_helper_alloc_workqueue(name.as_char_ptr()) };
        if wq.is_null() {
            return Err(ENOMEM);
        }
        if self
            .0
            .compare_exchange(
                core::ptr::null_mut(),
                wq.cast(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            // SAFETY: Allocated above and never shared.
            unsafe { bindings::destroy_workqueue(wq.cast()) };
            return Err(EBUSY);
        }
        Ok(ModuleQueueOwner(self))
    }

    /// The queue; `None` outside of module init..exit.
    ///
    /// The reference is only valid until the owner is dropped, which the module does in
    /// its exit, after everything that could queue work (devices, files, fence callbacks)
    /// is gone; work already queued is drained there. This protocol is the module's to
    /// keep: the owner must not be dropped earlier.
    pub fn get(&self) -> Option<&Queue> {
        let wq = self.0.load(Ordering::Acquire);
        // SAFETY: A non-null pointer is a live workqueue until `ModuleQueueOwner` drops, which
        // happens at module exit, after every user of the module's code is gone (the queue
        // is drained there).
        (!wq.is_null()).then(|| unsafe { Queue::from_raw(wq) })
    }
}

impl Default for ModuleQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// Owns the queue of a [`ModuleQueue`]; dropping it drains and destroys the queue.
pub struct ModuleQueueOwner(&'static ModuleQueue);

impl Drop for ModuleQueueOwner {
    fn drop(&mut self) {
        let wq = self.0 .0.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !wq.is_null() {
            // SAFETY: Allocated by `init`; `destroy_workqueue` drains pending work first.
            unsafe { bindings::destroy_workqueue(wq.cast()) }
        }
    }
}
