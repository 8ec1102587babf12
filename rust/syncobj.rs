// SPDX-License-Identifier: GPL-2.0

//! DRM sync objects (`struct drm_syncobj`): looked up by handle in a file, waited on through
//! their fence (at a timeline point), and signalled by replacing their fence or adding a
//! timeline point (a `dma_fence_chain` link).
//!
//! C header: [`include/drm/drm_syncobj.h`](srctree/include/drm/drm_syncobj.h).

use super::{bindings, dma_fence::Fence, drm};
use core::ptr::NonNull;
use kernel::{error::to_result, prelude::*, sync::aref::ARef};

/// A reference to a sync object.
pub struct Syncobj(NonNull<bindings::drm_syncobj>);

// SAFETY: Sync objects are reference counted and lock their fence pointer internally; every
// method may run on any thread.
unsafe impl Send for Syncobj {}
// SAFETY: See `Send`.
unsafe impl Sync for Syncobj {}

impl Syncobj {
    /// The sync object behind `handle` in `file`, if any.
    pub fn find<T: drm::Driver>(file: &drm::File<T>, handle: u32) -> Option<Self> {
        // SAFETY: `file` is live; a non-null result carries a reference we take over.
        NonNull::new(unsafe { bindings::drm_syncobj_find(file.as_raw(), handle) }).map(Self)
    }

    /// Makes `fence` the object's fence (a binary signal), or empties it with `None`.
    pub fn replace_fence(&self, fence: Option<&Fence>) {
        let f = fence.map_or(core::ptr::null_mut(), |f| f.as_raw());
        // SAFETY: The object is live; the call takes its own reference to `fence`.
        unsafe { bindings::drm_syncobj_replace_fence(self.0.as_ptr(), f) }
    }

    /// Adds `fence` as timeline point `point`, linked in with `chain`.
    pub fn add_point(&self, chain: FenceChain, fence: &Fence, point: u64) {
        let c = core::mem::ManuallyDrop::new(chain);
        // SAFETY: The object is live, `c` is an unused chain node whose ownership passes to
        // the timeline; the call takes its own reference to `fence`.
        unsafe {
            bindings::drm_syncobj_add_point(self.0.as_ptr(), c.0.as_ptr(), fence.as_raw(), point)
        }
    }
}

impl Drop for Syncobj {
    fn drop(&mut self) {
        // SAFETY: We own one reference.
        unsafe { bindings::vgpu_helper_drm_syncobj_put(self.0.as_ptr()) }
    }
}

/// The fence of sync object `handle` in `file` at `point` (0: its current fence).
///
/// # Errors
///
/// `ENOENT` without such an object, `EINVAL` if it has no fence (at that point), as
/// `drm_syncobj_find_fence` answers when not asked to wait for a submission.
pub fn find_fence<T: drm::Driver>(
    file: &drm::File<T>,
    handle: u32,
    point: u64,
) -> Result<ARef<Fence>> {
    let mut f = core::ptr::null_mut();
    // SAFETY: `file` is live; on success `f` holds a new reference, ours.
    to_result(unsafe {
        bindings::drm_syncobj_find_fence(file.as_raw(), handle, point, 0, &mut f)
    })?;
    // SAFETY: Success leaves a fence reference (or null) in `f` for us.
    unsafe { Fence::from_owned(f) }.ok_or(EINVAL)
}

/// An unused `dma_fence_chain` node for [`Syncobj::add_point`].
pub struct FenceChain(NonNull<bindings::dma_fence_chain>);

// SAFETY: An unused node is plain memory.
unsafe impl Send for FenceChain {}
// SAFETY: No `&self` methods.
unsafe impl Sync for FenceChain {}

impl FenceChain {
    /// Allocates a node.
    pub fn new() -> Result<Self> {
        // SAFETY: No preconditions.
        NonNull::new(unsafe { bindings::vgpu_helper_dma_fence_chain_alloc() })
            .map(Self)
            .ok_or(ENOMEM)
    }
}

impl Drop for FenceChain {
    fn drop(&mut self) {
        // SAFETY: The node is unused (an added node is never dropped) and ours.
        unsafe { bindings::vgpu_helper_dma_fence_chain_free(self.0.as_ptr()) }
    }
}
