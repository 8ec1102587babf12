// SPDX-License-Identifier: GPL-2.0

//! DMA fences (`struct dma_fence`): references to fences of any driver, fences created and
//! signalled by this driver, callbacks on signalling, and sync_files.
//!
//! A driver's own fences are bare `dma_fence`s with their inline lock and 64-bit seqnos,
//! created through a [`Signaller`], the one owner allowed to signal it. They have no
//! `release` op: once signalled, the fence core detaches them from the driver's ops, so
//! userspace may keep a sync_file of one after the module is gone. What makes that safe is
//! that a fence is always signalled before its ops go away: dropping a [`Signaller`]
//! signals its fence (with `ECANCELED` unless [`Signaller::signal`] was called), and a
//! driver drops its signallers, at the latest, when its device is removed.
//!
//! C headers: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h),
//! [`include/linux/sync_file.h`](srctree/include/linux/sync_file.h).

use super::bindings;
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    fs::file::{File, FileDescriptorReservation},
    prelude::*,
    str::CStr,
    sync::{
        aref::{ARef, AlwaysRefCounted},
        Arc,
    },
    types::Opaque,
};

/// A reference-counted `struct dma_fence`, of this driver or any other.
///
/// # Invariants
///
/// The wrapped fence is initialised; a `&Fence` is backed by a reference the holder owns.
#[repr(transparent)]
pub struct Fence(Opaque<bindings::dma_fence>);

// SAFETY: Fences are reference counted and their mutable state is protected by their lock;
// every method here may be called from any thread.
unsafe impl Send for Fence {}
// SAFETY: See `Send`.
unsafe impl Sync for Fence {}

// SAFETY: `dma_fence_get`/`dma_fence_put` manage the fence's reference count; the fence is
// freed by the last put only.
unsafe impl AlwaysRefCounted for Fence {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live fence (type invariant).
        unsafe { bindings::vgpu_helper_dma_fence_get(self.as_raw()) }
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns the reference being dropped.
        unsafe { bindings::vgpu_helper_dma_fence_put(obj.as_ptr().cast()) }
    }
}

impl Fence {
    /// Takes over a reference to `ptr` the caller owns; `None` for a null pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is null or an initialised fence on which the caller owns a reference.
    pub(crate) unsafe fn from_owned(ptr: *mut bindings::dma_fence) -> Option<ARef<Self>> {
        // SAFETY: `Fence` is a transparent wrapper; the caller passes its reference on.
        NonNull::new(ptr).map(|p| unsafe { ARef::from_raw(p.cast()) })
    }

    /// The C fence.
    pub fn as_raw(&self) -> *mut bindings::dma_fence {
        self.0.get()
    }

    /// The fence's context (timeline); set at init and never changed.
    pub fn context(&self) -> u64 {
        // SAFETY: `context` is written by `dma_fence_init` only.
        unsafe { (*self.as_raw()).context }
    }

    /// The fence's sequence number within its context; set at init and never changed.
    pub fn seqno(&self) -> u64 {
        // SAFETY: `seqno` is written by `dma_fence_init` only.
        unsafe { (*self.as_raw()).seqno }
    }

    /// Whether the fence has signalled (asks its driver if it does not know yet).
    pub fn is_signaled(&self) -> bool {
        // SAFETY: `self` is a live fence.
        unsafe { bindings::vgpu_helper_dma_fence_is_signaled(self.as_raw()) }
    }

    /// `Ok(true)` once signalled without error, `Ok(false)` while pending, the error it was
    /// signalled with otherwise.
    pub fn status(&self) -> Result<bool> {
        // SAFETY: `self` is a live fence.
        let s = unsafe { bindings::vgpu_helper_dma_fence_get_status(self.as_raw()) };
        match s {
            0 => Ok(false),
            1 => Ok(true),
            e => Err(Error::from_errno(e)),
        }
    }

    /// Waits (sleeps) up to `timeout` jiffies for the fence, without being interrupted:
    /// `true` once signalled, `false` on timeout.
    pub fn wait_uninterruptible(&self, timeout: kernel::time::Jiffies) -> bool {
        let t = isize::try_from(timeout).unwrap_or(isize::MAX);
        // SAFETY: `self` is a live fence.
        let r = unsafe { bindings::dma_fence_wait_timeout(self.as_raw(), false, t) };
        r > 0
    }

    /// Calls `f` on each fence inside this one: the elements of a fence array, the links
    /// of a fence chain (recursively), or this fence itself if it is neither
    /// (`dma_fence_unwrap_for_each`). Stops at the first error, which it returns.
    pub fn for_each_unwrapped(&self, mut f: impl FnMut(&Fence) -> Result) -> Result {
        let mut cur = bindings::dma_fence_unwrap::default();
        // SAFETY: `self` is live; the cursor is initialised by `dma_fence_unwrap_first`.
        let mut p = unsafe { bindings::dma_fence_unwrap_first(self.as_raw(), &mut cur) };
        while !p.is_null() {
            // SAFETY: The returned fence is kept alive by `self` (an array holds its
            // elements) or by the chain reference the cursor holds, until the next step.
            let leaf = unsafe { &*p.cast::<Fence>() };
            if let Err(e) = f(leaf) {
                // SAFETY: Leaving the walk early drops the cursor's chain reference (or
                // nothing: `dma_fence_put` ignores null), as the C macro's users do.
                unsafe { bindings::vgpu_helper_dma_fence_put(cur.chain) };
                return Err(e);
            }
            // SAFETY: The cursor is live and was advanced by the previous call.
            p = unsafe { bindings::dma_fence_unwrap_next(&mut cur) };
        }
        Ok(())
    }

    /// Calls `target.notify()` once the fence signals.
    ///
    /// `Ok(Err(target))` if the fence has signalled already (nothing is registered). The
    /// callback stays registered until the returned [`FenceCallback`] is dropped, which
    /// unregisters it if it has not run yet.
    ///
    /// # Errors
    ///
    /// `ENOMEM`: no callback could be allocated.
    pub fn add_callback<T: FenceNotify>(
        &self,
        target: Arc<T>,
    ) -> Result<core::result::Result<FenceCallback<T>, Arc<T>>> {
        let node = KBox::new(
            CbNode {
                cb: Opaque::uninit(),
                target,
            },
            GFP_KERNEL,
        )?;
        let node = KBox::into_raw(node);
        // SAFETY: `node` is a live allocation; its `cb` is handed to the fence, which only
        // uses it until it is called or removed, both before `FenceCallback` frees `node`.
        let ret = unsafe {
            bindings::dma_fence_add_callback(
                self.as_raw(),
                (*node).cb.get(),
                Some(notify_trampoline::<T>),
            )
        };
        // SAFETY: `node` came from `KBox::into_raw` above.
        let node = unsafe { KBox::from_raw(node) };
        if ret != 0 {
            // Already signalled: `dma_fence_add_callback` initialised the list node empty.
            let CbNode { target, .. } = KBox::into_inner(node);
            return Ok(Err(target));
        }
        Ok(Ok(FenceCallback {
            node,
            fence: self.into(),
        }))
    }
}

/// What a [`FenceCallback`] calls when its fence signals.
pub trait FenceNotify: Send + Sync + 'static {
    /// The fence signalled. Runs in atomic context, possibly in a hard interrupt, with the
    /// fence's lock held: it must not sleep, allocate with `GFP_KERNEL`, or touch the fence.
    /// Queueing work is the usual answer (hence the `Arc`).
    fn notify(this: &Arc<Self>);
}

#[repr(C)]
struct CbNode<T: FenceNotify> {
    cb: Opaque<bindings::dma_fence_cb>,
    target: Arc<T>,
}

/// # Safety
///
/// Called by the fence core with a callback registered by [`Fence::add_callback`].
unsafe extern "C" fn notify_trampoline<T: FenceNotify>(
    _fence: *mut bindings::dma_fence,
    cb: *mut bindings::dma_fence_cb,
) {
    // SAFETY: `cb` is the `cb` field of a `CbNode<T>` (registered by `add_callback`), which
    // `FenceCallback` keeps alive until the callback is removed or has run.
    let node = unsafe {
        &*kernel::container_of!(cb.cast::<Opaque<bindings::dma_fence_cb>>(), CbNode<T>, cb)
    };
    T::notify(&node.target);
}

/// A callback registered on a fence by [`Fence::add_callback`]; dropping it unregisters
/// the callback (if it has not run) and frees it.
pub struct FenceCallback<T: FenceNotify> {
    node: KBox<CbNode<T>>,
    fence: ARef<Fence>,
}

// SAFETY: The node is only used by the fence core, under the fence's lock, and freed by
// `drop` after removal; the target is an `Arc<T>` with `T: Send + Sync`.
unsafe impl<T: FenceNotify> Send for FenceCallback<T> {}
// SAFETY: `&FenceCallback` only gives access to the fence, which is `Sync`.
unsafe impl<T: FenceNotify> Sync for FenceCallback<T> {}

impl<T: FenceNotify> FenceCallback<T> {
    /// The fence the callback waits for.
    pub fn fence(&self) -> &Fence {
        &self.fence
    }
}

impl<T: FenceNotify> Drop for FenceCallback<T> {
    fn drop(&mut self) {
        // SAFETY: `cb` was registered on `fence`. Removal takes the fence's lock, under which
        // callbacks run: afterwards the callback is neither registered nor running, so the
        // node may be freed. After the callback ran its list node is empty and this is a no-op.
        unsafe { bindings::dma_fence_remove_callback(self.fence.as_raw(), self.node.cb.get()) };
    }
}

/// Names a driver gives its fences (`dma_fence_ops.get_driver_name`/`get_timeline_name`).
pub trait FenceNames: 'static {
    /// The driver's name.
    const DRIVER: &'static CStr;
    /// The timeline name every fence of the driver reports.
    const TIMELINE: &'static CStr;
}

/// The `dma_fence_ops` of a driver's fences: names only. Without `release` and `wait` the
/// fence core forgets the ops at signalling (see the module documentation).
pub struct FenceOps<T: FenceNames>(bindings::dma_fence_ops, PhantomData<T>);

// SAFETY: The table is immutable after construction and only read by the fence core.
unsafe impl<T: FenceNames> Sync for FenceOps<T> {}

impl<T: FenceNames> FenceOps<T> {
    /// The table, for a `static`.
    pub const fn new() -> Self {
        // SAFETY: All-zero is a valid `dma_fence_ops` (no callbacks).
        let mut ops: bindings::dma_fence_ops = unsafe { core::mem::zeroed() };
        ops.get_driver_name = Some(driver_name::<T>);
        ops.get_timeline_name = Some(timeline_name::<T>);
        Self(ops, PhantomData)
    }
}

impl<T: FenceNames> Default for FenceOps<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// # Safety
///
/// Called by the fence core for a fence with these ops.
unsafe extern "C" fn driver_name<T: FenceNames>(
    _f: *mut bindings::dma_fence,
) -> *const kernel::ffi::c_char {
    T::DRIVER.as_char_ptr()
}

/// # Safety
///
/// Called by the fence core for a fence with these ops.
unsafe extern "C" fn timeline_name<T: FenceNames>(
    _f: *mut bindings::dma_fence,
) -> *const kernel::ffi::c_char {
    T::TIMELINE.as_char_ptr()
}

/// Allocates `num` consecutive fence contexts and returns the first.
pub fn context_alloc(num: u32) -> u64 {
    // SAFETY: No preconditions.
    unsafe { bindings::dma_fence_context_alloc(num) }
}

/// The sole right to signal one fence of this driver.
///
/// Leaking one (`mem::forget`) would leave a fence unsignalled whose ops point into the
/// module after it is unloaded: the driver keeps every signaller in structures it drops
/// before its module exits. (Between the last signal and the module's text going away,
/// RCU readers of a fence's names are covered by the `synchronize_rcu()` in module
/// unloading.)
///
/// Dropping it signals the fence: with no error after [`Signaller::signal`], otherwise with
/// `ECANCELED` (or the error given to [`Signaller::fail`]).
///
/// # Invariants
///
/// `error` is 0 or a negative errno.
pub struct Signaller {
    fence: ARef<Fence>,
    error: i32,
}

impl Signaller {
    /// A new unsignalled fence of `context` with `seqno`. Seqnos of one context must grow
    /// in the order the fences signal.
    pub fn new<T: FenceNames>(ops: &'static FenceOps<T>, context: u64, seqno: u64) -> Result<Self> {
        // SAFETY: `ops` is a static table with both name callbacks set.
        let raw = unsafe { bindings::vgpu_helper_dma_fence_new(&ops.0, context, seqno) };
        // SAFETY: The helper returns null or a new fence with one reference, now ours.
        let fence = unsafe { Fence::from_owned(raw) }.ok_or(ENOMEM)?;
        Ok(Self {
            fence,
            error: -(kernel::bindings::ECANCELED as i32),
        })
    }

    /// The fence.
    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    /// Signals the fence as completed. May be called in any context.
    pub fn signal(mut self) {
        self.error = 0;
    }

    /// Signals the fence with an error. May be called in any context.
    pub fn fail(mut self, e: Error) {
        self.error = e.to_errno();
    }
}

impl Drop for Signaller {
    fn drop(&mut self) {
        let f = self.fence.as_raw();
        if self.error != 0 {
            // SAFETY: The fence is live and, as only its signaller signals it, unsignalled.
            unsafe { bindings::vgpu_helper_dma_fence_set_error(f, self.error) };
        }
        // SAFETY: The fence is live; signalling takes its lock.
        unsafe { bindings::dma_fence_signal(f) };
    }
}

/// The fence of the sync_file behind `fd`; `None` if `fd` is not a sync_file.
pub fn sync_file_fence(fd: i32) -> Option<ARef<Fence>> {
    // SAFETY: `sync_file_get_fence` checks the fd and returns a new reference or null.
    unsafe { Fence::from_owned(bindings::sync_file_get_fence(fd)) }
}

/// A sync_file of a fence, not yet given an fd.
pub struct SyncFile {
    file: ARef<File>,
}

impl SyncFile {
    /// A sync_file that signals with `fence`.
    pub fn new(fence: &Fence) -> Result<Self> {
        // SAFETY: `fence` is live; the helper takes its own reference to it.
        let f = unsafe { bindings::vgpu_helper_sync_file_create(fence.as_raw()) };
        let f = NonNull::new(f).ok_or(ENOMEM)?;
        // SAFETY: The helper returned the sync_file's file with one reference the caller
        // owns; the two bindgen views of `struct file` are the same C type.
        let file = unsafe { ARef::from_raw(f.cast::<File>()) };
        Ok(Self { file })
    }

    /// Installs the sync_file at the reserved fd (the fd now owns it).
    pub fn install(self, fd: FileDescriptorReservation) {
        fd.fd_install(self.file);
    }
}
