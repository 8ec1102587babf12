// SPDX-License-Identifier: GPL-2.0

//! Memory-mapping pieces the GEM layer needs: a vma under construction and the memory
//! type a mapping of device memory gets.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h).

use super::bindings;
use kernel::{error::to_result, prelude::*, types::Opaque};

/// The memory type of a mapping of device (non-RAM) memory.
///
/// Per architecture this is what `pgprot_writecombine()`/`pgprot_noncached()` give: on
/// arm64 `Cached` is Normal write-back (`MT_NORMAL`), `WriteCombine` Normal non-cacheable
/// (`MT_NORMAL_NC`) and `Uncached` Device-nGnRnE (`MT_DEVICE_nGnRnE`); on x86 WB, WC and UC-.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum CacheMode {
    /// Normal cacheable memory.
    Cached = 0,
    /// Uncached, writes may be buffered and combined.
    WriteCombine = 1,
    /// Uncached, no combining or early acknowledgement.
    Uncached = 2,
}

impl CacheMode {
    /// The pgprot bits a shared read-write user mapping of this memory type gets (what
    /// [`VmaNew::remap_io`] installs), for diagnostics.
    pub fn user_pgprot(self) -> u64 {
        // SAFETY: Computes a value; no state is touched.
        unsafe { bindings::vgpu_helper_cache_mode_pgprot(self as u32) }
    }
}

/// A window of device memory (not RAM the kernel manages), e.g. a virtio shared-memory
/// region: what [`VmaNew::remap_io`] and kernel I/O mappings may map.
///
/// # Invariants
///
/// `phys .. phys + len` is device memory that stays present for as long as the window is
/// used, and is page aligned.
#[derive(Clone, Copy, Debug)]
pub struct IoWindow {
    phys: u64,
    len: u64,
}

impl IoWindow {
    /// # Safety
    ///
    /// `phys .. phys + len` must be device memory (not RAM managed by the kernel) that
    /// stays present for as long as the window is used.
    pub unsafe fn new(phys: u64, len: u64) -> Option<Self> {
        let page = kernel::page::PAGE_SIZE as u64;
        if phys % page != 0 || len % page != 0 || phys.checked_add(len).is_none() {
            return None;
        }
        // INVARIANT: Device memory per the caller, alignment checked above.
        Some(Self { phys, len })
    }

    /// First physical address.
    pub fn phys(&self) -> u64 {
        self.phys
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The physical address of `offset .. offset + len`, if that lies inside the window.
    pub(crate) fn sub(&self, offset: u64, len: u64) -> Option<u64> {
        let end = offset.checked_add(len)?;
        (end <= self.len).then(|| self.phys + offset)
    }
}

/// A vma being set up by an `mmap` handler (`struct vm_area_struct`).
///
/// # Invariants
///
/// Wraps a vma that the mm core is creating and that the mmap handler may modify; the
/// caller holds the mmap lock for writing.
#[repr(transparent)]
pub struct VmaNew(Opaque<bindings::vm_area_struct>);

impl VmaNew {
    /// # Safety
    ///
    /// `vma` must be a vma under construction passed to an mmap handler, valid and
    /// exclusively ours for `'a`.
    pub(crate) unsafe fn from_raw<'a>(vma: *mut bindings::vm_area_struct) -> &'a Self {
        // SAFETY: `VmaNew` is a transparent wrapper; validity per the caller.
        unsafe { &*vma.cast::<Self>() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::vm_area_struct {
        self.0.get()
    }

    /// First address of the mapping.
    pub fn start(&self) -> usize {
        // SAFETY: The vma is valid by the type invariant.
        unsafe { bindings::vgpu_helper_vma_start(self.as_raw()) as usize }
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        // SAFETY: The vma is valid by the type invariant.
        let end = unsafe { bindings::vgpu_helper_vma_end(self.as_raw()) as usize };
        end - self.start()
    }

    /// Whether the mapping is empty (never, for a vma the core created).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Maps the whole vma onto `window` from byte `offset` on, with memory type `mode`. The
    /// page-table entries are installed now, so the memory type cannot change later; the
    /// vma becomes `VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP`. `EINVAL` if the vma
    /// does not fit in the window from `offset`.
    pub fn remap_io(&self, window: &IoWindow, offset: u64, mode: CacheMode) -> Result {
        let len = u64::try_from(self.len()).map_err(|_| EINVAL)?;
        let phys = window.sub(offset, len).ok_or(EINVAL)?;
        // SAFETY: The vma is valid and under construction (type invariant); `phys .. phys +
        // len` lies in the window, device memory that stays present (`IoWindow` invariant).
        to_result(unsafe { bindings::vgpu_helper_vma_remap_io(self.as_raw(), phys, mode as u32) })
    }
}

/// The RAM the kernel manages, in bytes (`totalram_pages()`).
pub fn total_ram_bytes() -> u64 {
    // SAFETY: Reads a global counter.
    unsafe { bindings::vgpu_helper_totalram_bytes() }
}
