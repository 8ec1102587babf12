// SPDX-License-Identifier: GPL-2.0

//! An ID allocator (`struct ida`): small integer ids, lowest free first.
//!
//! C header: [`include/linux/idr.h`](srctree/include/linux/idr.h).

use super::bindings;
use kernel::{prelude::*, types::Opaque};

/// A `struct ida`. It has its own internal lock, so `&Ida` may allocate and free from any
/// thread.
#[pin_data(PinnedDrop)]
pub struct Ida {
    #[pin]
    raw: Opaque<bindings::ida>,
}

// SAFETY: The IDA serialises all operations with its internal xarray lock.
unsafe impl Send for Ida {}
// SAFETY: As above.
unsafe impl Sync for Ida {}

impl Ida {
    /// An empty allocator.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `ida_init` initialises the (pinned) slot in place.
            raw <- Opaque::ffi_init(|p: *mut bindings::ida| unsafe {
                bindings::vgpu_helper_ida_init(p)
            }),
        })
    }

    /// Allocates the lowest free id in `min..=max`; `ENOSPC` when all are taken.
    pub fn alloc(&self, min: u32, max: u32) -> Result<u32> {
        let (Ok(lo), Ok(hi)) = (i32::try_from(min), i32::try_from(max)) else {
            return Err(EINVAL);
        };
        // SAFETY: `raw` is an initialised IDA (pinned, valid until drop).
        let id = unsafe {
            bindings::ida_alloc_range(
                self.raw.get(),
                lo as u32,
                hi as u32,
                kernel::bindings::GFP_KERNEL,
            )
        };
        kernel::error::to_result(id)?;
        Ok(id as u32)
    }

    /// Returns `id` (from [`Ida::alloc`] of this allocator) to the pool.
    pub fn free(&self, id: u32) {
        // SAFETY: `raw` is an initialised IDA; freeing an id that is not allocated only
        // warns, and callers pass ids they allocated.
        unsafe { bindings::ida_free(self.raw.get(), id) }
    }
}

#[pinned_drop]
impl PinnedDrop for Ida {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: The IDA is initialised and no longer used.
        unsafe { bindings::ida_destroy(self.raw.get()) }
    }
}
