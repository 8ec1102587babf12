// SPDX-License-Identifier: GPL-2.0

//! dma-bufs as an importer meets them (`struct dma_buf`).
//!
//! C header: [`include/linux/dma-buf.h`](srctree/include/linux/dma-buf.h).

use super::bindings;
use core::{marker::PhantomData, ptr::NonNull};

/// A dma-buf borrowed for the duration of a call (e.g. the PRIME import hook, whose caller
/// holds a reference).
pub struct DmaBufRef<'a> {
    raw: NonNull<bindings::dma_buf>,
    _p: PhantomData<&'a bindings::dma_buf>,
}

impl DmaBufRef<'_> {
    /// # Safety
    ///
    /// `raw` is a live dma-buf on which the caller holds a reference for the borrow's life.
    pub(crate) unsafe fn from_raw(raw: NonNull<bindings::dma_buf>) -> Self {
        Self {
            raw,
            _p: PhantomData,
        }
    }

    /// Size in bytes; set by the exporter and never changed.
    pub fn size(&self) -> usize {
        // SAFETY: The buffer is live (type invariant).
        unsafe { bindings::vgpu_helper_dma_buf_size(self.raw.as_ptr()) }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::dma_buf {
        self.raw.as_ptr()
    }
}
