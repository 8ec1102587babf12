// SPDX-License-Identifier: GPL-2.0

//! Virtio driver abstractions: driver registration, the device, its config space and
//! shared-memory regions, and virtqueues with interrupt callbacks.
//!
//! C header: [`include/linux/virtio.h`](srctree/include/linux/virtio.h),
//! [`include/linux/virtio_config.h`](srctree/include/linux/virtio_config.h).
//!
//! Ownership model: the driver's per-device state (`Driver::Data`) lives in `vdev->priv`
//! from the end of `probe` to `remove`. Virtqueue callbacks, which may fire during probe
//! (a driver usually talks to the device before probe returns), reach a separate handler
//! object that the driver hands to [`Device::find_vqs`]; it is also reachable through
//! `vdev->priv` and is released by [`Device::del_vqs`].

use super::{bindings, device::DeviceRef};
use core::{
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{AtomicU8, Ordering},
};
use kernel::{error::to_result, prelude::*, str::CStr, sync::Arc, ThisModule};

/// A `struct virtio_shm_region`: a device memory window exposed through the transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShmRegion {
    /// Guest-physical start address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
}

/// What `vdev->priv` points to while our driver is bound.
struct Slot {
    /// The virtqueue callback handler, between `find_vqs` and `del_vqs`.
    handler: Option<Arc<dyn VqHandler>>,
    /// The driver data returned by `probe` (a `Pin<KBox<T::Data>>` turned raw).
    data: *mut core::ffi::c_void,
}

/// Receives used-buffer notifications of the device's virtqueues.
///
/// Called in hard interrupt context: implementations must not sleep.
pub trait VqHandler: Send + Sync {
    /// Virtqueue number `index` (in `find_vqs` order) has used buffers.
    fn vq_done(&self, index: usize);
}

/// A virtio device (`struct virtio_device`) bound to our driver.
///
/// # Invariants
///
/// `ptr` points to a valid `struct virtio_device` for the lifetime `'a`, and its `priv`
/// field points to a [`Slot`] owned by the driver adapter.
pub struct Device<'a> {
    ptr: NonNull<bindings::virtio_device>,
    _p: PhantomData<&'a ()>,
}

// SAFETY: The virtio core's device functions used here may be called from any thread.
unsafe impl Send for Device<'_> {}
// SAFETY: See above; `&Device` methods only call thread-safe C functions.
unsafe impl Sync for Device<'_> {}

impl<'a> Device<'a> {
    /// # Safety
    ///
    /// `ptr` must be a valid virtio device bound to a driver registered with
    /// [`Registration`] and stay valid for `'a`.
    unsafe fn from_raw(ptr: *mut bindings::virtio_device) -> Self {
        Self {
            // SAFETY: Per the safety requirements `ptr` is valid, hence non-null.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            _p: PhantomData,
        }
    }

    fn raw(&self) -> *mut bindings::virtio_device {
        self.ptr.as_ptr()
    }

    fn slot(&self) -> *mut Slot {
        // SAFETY: `raw()` is valid by the type invariant.
        unsafe { bindings::vgpu_helper_virtio_get_priv(self.raw()) }.cast()
    }

    /// The generic device (`&vdev->dev`), for logging and resource management.
    pub fn as_dev(&self) -> &kernel::device::Device {
        // SAFETY: `&vdev->dev` is a valid, embedded `struct device` for as long as the
        // virtio device is (the type invariant); the two bindgen views are the same C type.
        unsafe {
            kernel::device::Device::from_raw(bindings::vgpu_helper_virtio_dev(self.raw()).cast())
        }
    }

    /// The parent device (the PCI or MMIO transport device), which does DMA.
    pub fn parent(&self) -> Option<DeviceRef<'_>> {
        // SAFETY: `raw()` is valid by the type invariant.
        let p = NonNull::new(unsafe { bindings::vgpu_helper_virtio_parent(self.raw()) })?;
        // SAFETY: A device holds a reference to its parent for as long as it exists.
        Some(unsafe { DeviceRef::from_raw(p) })
    }

    /// The raw `struct device` of the virtio device.
    pub fn dev_raw(&self) -> *mut bindings::device {
        // SAFETY: `raw()` is valid by the type invariant.
        unsafe { bindings::vgpu_helper_virtio_dev(self.raw()) }
    }

    /// Whether feature bit `bit` was negotiated.
    pub fn has_feature(&self, bit: u32) -> bool {
        // SAFETY: `raw()` is valid by the type invariant.
        unsafe { bindings::vgpu_helper_virtio_has_feature(self.raw(), bit) }
    }

    /// Whether the device bypasses the DMA API (no `VIRTIO_F_ACCESS_PLATFORM`): it then
    /// takes guest-physical addresses, not DMA addresses.
    pub fn has_dma_quirk(&self) -> bool {
        // SAFETY: `raw()` is valid by the type invariant.
        unsafe { bindings::vgpu_helper_virtio_has_dma_quirk(self.raw()) }
    }

    /// Reads the little-endian `u32` at byte `offset` of the device-specific config space.
    pub fn read_config_u32(&self, offset: usize) -> u32 {
        // SAFETY: `raw()` is valid; the transport bounds-checks config accesses.
        unsafe { bindings::vgpu_helper_virtio_cread_le32(self.raw(), offset as u32) }
    }

    /// The shared memory region with id `id` as a window of device memory, if the
    /// transport exposes it and it is page aligned.
    pub fn shm_window(&self, id: u8) -> Option<super::mm::IoWindow> {
        let r = self.shm_region(id)?;
        // SAFETY: A virtio shared memory region is memory of the device (a PCI BAR or an
        // MMIO window), not RAM the kernel manages, present while the transport device
        // exists.
        unsafe { super::mm::IoWindow::new(r.addr, r.len) }
    }

    /// The shared memory region with id `id`, if the transport exposes it.
    pub fn shm_region(&self, id: u8) -> Option<ShmRegion> {
        let mut r = bindings::virtio_shm_region::default();
        // SAFETY: `raw()` is valid and `r` is a valid out-parameter.
        let found = unsafe { bindings::vgpu_helper_virtio_get_shm_region(self.raw(), &mut r, id) };
        found.then_some(ShmRegion {
            addr: r.addr,
            len: r.len,
        })
    }

    /// Sets up `names.len()` virtqueues whose used-buffer interrupts go to `handler`.
    ///
    /// The queues are returned in the order of `names`; `handler` stays registered until
    /// [`Device::del_vqs`].
    pub fn find_vqs<T: VqRequest, const N: usize>(
        &self,
        names: [&'static CStr; N],
        handler: Arc<dyn VqHandler>,
    ) -> Result<[Virtqueue<T>; N]> {
        let slot = self.slot();
        // SAFETY: The adapter installed the slot before calling probe; probe and remove are
        // serialised by the driver core, so nothing else accesses it now.
        if unsafe { (*slot).handler.is_some() } {
            return Err(EBUSY);
        }
        // SAFETY: As above.
        unsafe { (*slot).handler = Some(handler) };

        let mut infos = [bindings::virtqueue_info::default(); N];
        for (info, name) in infos.iter_mut().zip(names.iter()) {
            info.name = name.as_char_ptr();
            info.callback = Some(vq_callback);
        }
        let mut vqs = [core::ptr::null_mut::<bindings::virtqueue>(); N];
        // SAFETY: `raw()` is valid; `vqs` and `infos` hold `N` entries each.
        let ret = unsafe {
            bindings::vgpu_helper_virtio_find_vqs(
                self.raw(),
                N as u32,
                vqs.as_mut_ptr(),
                infos.as_mut_ptr(),
            )
        };
        if let Err(e) = to_result(ret) {
            // SAFETY: As above; no queue exists, so no callback can use the handler.
            unsafe { (*slot).handler = None };
            return Err(e);
        }
        // The virtio core guarantees non-null queues on success.
        Ok(vqs.map(|vq| Virtqueue {
            vq,
            _p: PhantomData,
        }))
    }

    /// Resets the device: it stops using buffers and raising interrupts.
    pub fn reset(&self) {
        // SAFETY: `raw()` is valid by the type invariant.
        unsafe { bindings::virtio_reset_device(self.raw()) }
    }

    /// Deletes all virtqueues and drops the callback handler.
    ///
    /// Call after [`Device::reset`] and after reclaiming every buffer still in the queues.
    pub fn del_vqs(&self) {
        // SAFETY: `raw()` is valid; the queues were created by `find_vqs`.
        unsafe { bindings::vgpu_helper_virtio_del_vqs(self.raw()) };
        // SAFETY: The queues are gone, so no callback can run; see `find_vqs` for access.
        drop(unsafe { (*self.slot()).handler.take() });
    }

    /// Tells the device the driver is ready (`DRIVER_OK`); queues work from now on.
    pub fn ready(&self) {
        // SAFETY: `raw()` is valid by the type invariant.
        unsafe { bindings::vgpu_helper_virtio_device_ready(self.raw()) }
    }

    /// The device name (e.g. `virtio0`).
    pub fn name(&self) -> &CStr {
        // SAFETY: `dev_name` returns a NUL-terminated string valid while the device is.
        unsafe { CStr::from_char_ptr(bindings::vgpu_helper_dev_name(self.dev_raw())) }
    }
}

/// Used-buffer interrupt of one of our virtqueues.
///
/// # Safety
///
/// Called by the virtio core with a valid queue of a device bound to our driver.
unsafe extern "C" fn vq_callback(vq: *mut bindings::virtqueue) {
    // SAFETY: The virtio core passes a valid queue of a device bound to our driver.
    let vdev = unsafe { bindings::vgpu_helper_virtqueue_vdev(vq) };
    // SAFETY: As above; `priv` holds our slot for as long as the queues exist.
    let slot = unsafe { bindings::vgpu_helper_virtio_get_priv(vdev) }.cast::<Slot>();
    // SAFETY: The handler is only taken in `del_vqs`, after the queues are deleted, so it is
    // present and valid whenever a queue callback runs.
    if let Some(h) = unsafe { (*slot).handler.as_ref() } {
        // SAFETY: `vq` is valid (see above).
        h.vq_done(unsafe { (*vq).index } as usize);
    }
}

/// Bytes shared with the device for one request, used once.
///
/// kvmalloc'ed: small buffers come from kmalloc (one scatterlist entry), large ones may be
/// vmalloc'ed and are then described page by page (a scatterlist table built once, before
/// the buffer is shared), so a 1 MiB command never needs a physically contiguous order-9
/// allocation. A buffer goes `FRESH -> SUBMITTED -> RETURNED` exactly once: it can be
/// queued only while fresh, and its bytes can be read only once the device returned it, so
/// the CPU never reads memory the device may still write.
pub struct ReqBuf {
    bytes: core::cell::UnsafeCell<Bytes>,
    /// For vmalloc'ed bytes: one entry per page, the last marked as the end. Empty else.
    pages: KVec<bindings::scatterlist>,
    state: AtomicU8,
}

/// The storage of a [`ReqBuf`].
enum Bytes {
    /// kvmalloc'ed (kmalloc'ed unless large and memory is fragmented).
    Kv(KVVec<u8>),
    /// Always vmalloc'ed: large buffers copied from userspace.
    V(VVec<u8>),
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Kv(v) => v,
            Self::V(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            Self::Kv(v) => v,
            Self::V(v) => v,
        }
    }
}

/// Buffers copied from userspace larger than this are vmalloc'ed, never a high-order
/// allocation (upstream's `vmemdup_user` tries kmalloc first).
const VMALLOC_ABOVE: usize = 8 * kernel::page::PAGE_SIZE;

const FRESH: u8 = 0;
const SUBMITTED: u8 = 1;
const RETURNED: u8 = 2;
/// Being patched ([`ReqBuf::patch`]): neither claimable nor readable.
const PATCHING: u8 = 3;

// SAFETY: The bytes are only written before submission (construction, `patch`) and by the
// device while submitted, and only read once returned; `state` orders these phases. The
// page table is written at construction only.
unsafe impl Sync for ReqBuf {}
// SAFETY: An owned heap buffer, the table describing it, and an atomic.
unsafe impl Send for ReqBuf {}

impl ReqBuf {
    /// A device-readable buffer holding a copy of `data`.
    /// Sizes may come from userspace: a failed allocation is an `ENOMEM`, not a warning.
    pub fn from_slice(data: &[u8]) -> Result<Self> {
        let flags = GFP_KERNEL | kernel::alloc::flags::__GFP_NOWARN;
        let mut v = KVVec::with_capacity(data.len(), flags)?;
        v.extend_from_slice(data, flags)?;
        Self::with_bytes(Bytes::Kv(v))
    }

    fn with_bytes(b: Bytes) -> Result<Self> {
        let v = b.as_slice();
        let mut pages = KVec::new();
        // SAFETY: Any pointer may be tested.
        if !v.is_empty() && unsafe { bindings::vgpu_helper_is_vmalloc_addr(v.as_ptr().cast()) } {
            let off = v.as_ptr() as usize % kernel::page::PAGE_SIZE;
            let nents = (off + v.len()).div_ceil(kernel::page::PAGE_SIZE);
            pages = KVec::from_elem(bindings::scatterlist::default(), nents, GFP_KERNEL)?;
            // SAFETY: `pages` has `nents` entries, which cover the `v.len()` vmalloc'ed bytes
            // at `v`; the helper only writes the entries.
            unsafe {
                bindings::vgpu_helper_sg_init_vmalloc(
                    pages.as_mut_ptr(),
                    nents as u32,
                    v.as_ptr().cast(),
                    v.len(),
                )
            };
        }
        Ok(Self {
            bytes: core::cell::UnsafeCell::new(b),
            pages,
            state: AtomicU8::new(FRESH),
        })
    }

    /// A device-readable buffer of `head` followed by `len` bytes copied from userspace
    /// (`EFAULT` if they cannot be read). One allocation, one copy.
    pub fn from_head_and_user(
        head: &[u8],
        user: kernel::uaccess::UserSliceReader,
        len: usize,
    ) -> Result<Self> {
        let flags = GFP_KERNEL | kernel::alloc::flags::__GFP_NOWARN;
        let total = head.len().checked_add(len).ok_or(ENOMEM)?;
        let b = if total > VMALLOC_ABOVE {
            let mut v = VVec::with_capacity(total, flags)?;
            v.extend_from_slice(head, flags)?;
            user.read_all(&mut v, flags)?;
            Bytes::V(v)
        } else {
            let mut v = KVVec::with_capacity(total, flags)?;
            v.extend_from_slice(head, flags)?;
            user.read_all(&mut v, flags)?;
            Bytes::Kv(v)
        };
        if b.as_slice().len() != total {
            return Err(EFAULT);
        }
        Self::with_bytes(b)
    }

    /// Overwrites bytes at `offset` of a buffer that was not queued yet (e.g. a header
    /// field only known at queueing time). `EBUSY` once queued or while another patch
    /// runs, `EINVAL` if the range does not fit.
    pub fn patch(&self, offset: usize, data: &[u8]) -> Result {
        if self
            .state
            .compare_exchange(FRESH, PATCHING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(EBUSY);
        }
        // SAFETY: In `PATCHING` nobody else reads or writes the bytes: they cannot be
        // claimed for the device nor read as returned until the state goes back to `FRESH`.
        let v = unsafe { (*self.bytes.get()).as_mut_slice() };
        let r = match offset
            .checked_add(data.len())
            .and_then(|end| v.get_mut(offset..end))
        {
            Some(dst) => {
                dst.copy_from_slice(data);
                Ok(())
            }
            None => Err(EINVAL),
        };
        self.state.store(FRESH, Ordering::Release);
        r
    }

    /// A zeroed device-writable buffer of `len` bytes.
    pub fn zeroed(len: usize) -> Result<Self> {
        let v = KVVec::from_elem(0u8, len, GFP_KERNEL | kernel::alloc::flags::__GFP_NOWARN)?;
        Self::with_bytes(Bytes::Kv(v))
    }

    /// The contents, once the device has returned the buffer; `None` before.
    pub fn returned_bytes(&self) -> Option<&[u8]> {
        if self.state.load(Ordering::Acquire) != RETURNED {
            return None;
        }
        // SAFETY: Returned buffers are never written again (they cannot be resubmitted).
        Some(unsafe { (*self.bytes.get()).as_slice() })
    }

    fn claim(&self) -> bool {
        self.state
            .compare_exchange(FRESH, SUBMITTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Undoes [`ReqBuf::claim`] when the queue did not take the buffer.
    fn unclaim(&self) {
        self.state.store(FRESH, Ordering::Release);
    }

    fn sg(&self) -> Sg {
        if !self.pages.is_empty() {
            // The table was built at construction and is never written again; the virtio
            // core only reads it.
            return Sg::Table(self.pages.as_ptr().cast_mut());
        }
        // SAFETY: Only called for a claimed buffer: its bytes are a live kmalloc'ed (not
        // vmalloc'ed: `pages` is empty) allocation that the request, kept alive by the
        // queue's token, owns.
        unsafe {
            let v = (*self.bytes.get()).as_slice();
            Sg::new(v.as_ptr(), v.len())
        }
    }
}

/// A request whose buffers go to the device: what [`Virtqueue`] carries.
pub trait VqRequest: Send + Sync {
    /// The device-readable buffer (the command).
    fn out_buf(&self) -> &ReqBuf;
    /// The device-writable buffer (the response).
    fn in_buf(&self) -> &ReqBuf;
}

/// A virtqueue (`struct virtqueue`) carrying requests of type `T`.
///
/// Each queued request is owned by the queue (an `Arc<T>` turned into the token) until the
/// device returns it or it is detached after a reset. The queue is valid until
/// [`Device::del_vqs`]; callers serialise operations on one queue (the virtio core
/// requires it) by keeping it behind a lock.
pub struct Virtqueue<T: VqRequest> {
    vq: *mut bindings::virtqueue,
    _p: PhantomData<Arc<T>>,
}

// SAFETY: Virtqueue functions may be called from any context as long as calls on one queue
// are serialised, which `&mut self` receivers ensure; the tokens are `Arc<T>`, `T: Send`.
unsafe impl<T: VqRequest> Send for Virtqueue<T> {}

/// A device-readable or device-writable buffer, described for `virtqueue_add_sgs`: one
/// entry for a linear buffer, or a buffer's own page table.
enum Sg {
    One(bindings::scatterlist),
    Table(*mut bindings::scatterlist),
}

impl Sg {
    /// # Safety
    ///
    /// `ptr..ptr+len` must be linearly mapped kernel memory (e.g. from `kmalloc`, not the
    /// stack or vmalloc) that stays valid until the device has returned the buffer.
    unsafe fn new(ptr: *const u8, len: usize) -> Self {
        let mut sg = bindings::scatterlist::default();
        // SAFETY: `sg` is a valid scatterlist entry; the caller guarantees the buffer.
        unsafe { bindings::sg_init_one(&mut sg, ptr.cast(), len as u32) };
        Self::One(sg)
    }

    /// The first entry, for `virtqueue_add_sgs`.
    fn as_ptr(&mut self) -> *mut bindings::scatterlist {
        match self {
            Self::One(sg) => sg,
            Self::Table(p) => *p,
        }
    }
}

impl<T: VqRequest> Virtqueue<T> {
    /// Queues `req` (its out buffer, then its in buffer) and notifies the device.
    ///
    /// On failure the request comes back unchanged: `ENOSPC` when the ring is full (retry
    /// it later), `EINVAL` if one of its buffers was already used.
    pub fn add(&mut self, req: Arc<T>) -> core::result::Result<(), (Error, Arc<T>)> {
        self.add_quiet(req)?;
        self.kick();
        Ok(())
    }

    /// Notifies the device of the requests queued since the last notification.
    pub fn kick(&mut self) {
        // SAFETY: `self.vq` is a valid queue.
        unsafe { bindings::virtqueue_kick(self.vq) };
    }

    /// Like [`Virtqueue::add`] without notifying the device: queue several requests, then
    /// [`Virtqueue::kick`] once.
    pub fn add_quiet(&mut self, req: Arc<T>) -> core::result::Result<(), (Error, Arc<T>)> {
        if !req.out_buf().claim() {
            return Err((EINVAL, req));
        }
        if !req.in_buf().claim() {
            req.out_buf().unclaim();
            return Err((EINVAL, req));
        }
        let mut out = req.out_buf().sg();
        let mut inp = req.in_buf().sg();
        let mut list = [out.as_ptr(), inp.as_ptr()];
        let token = Arc::into_raw(req);
        // SAFETY: `self.vq` is a valid queue; `list` holds one device-readable and one
        // device-writable scatterlist (each a single entry or an end-marked table) over
        // buffers kept alive by the token, which the queue owns until
        // `get_used`/`detach_unused` turn it back into an `Arc<T>`.
        let ret = unsafe {
            bindings::virtqueue_add_sgs(
                self.vq,
                list.as_mut_ptr(),
                1,
                1,
                token.cast_mut().cast(),
                kernel::bindings::GFP_ATOMIC,
            )
        };
        if let Err(e) = to_result(ret) {
            // SAFETY: On failure the queue did not take the token: reclaim its reference.
            let req = unsafe { Arc::from_raw(token) };
            // Nothing reached the device: the buffers are fresh again, so a full ring
            // (`ENOSPC`) can be retried with the same request.
            req.out_buf().unclaim();
            req.in_buf().unclaim();
            return Err((e, req));
        }
        Ok(())
    }

    fn reclaim(&self, token: *mut core::ffi::c_void) -> Arc<T> {
        // SAFETY: Every token of this queue is an `Arc<T>` from `add`, returned once.
        let req = unsafe { Arc::from_raw(token.cast::<T>()) };
        req.out_buf().state.store(RETURNED, Ordering::Release);
        req.in_buf().state.store(RETURNED, Ordering::Release);
        req
    }

    /// Takes the next request the device is done with, and how many bytes it wrote.
    pub fn get_used(&mut self) -> Option<(Arc<T>, u32)> {
        let mut len = 0u32;
        // SAFETY: `self.vq` is a valid queue; `len` is a valid out-parameter.
        let token = unsafe { bindings::virtqueue_get_buf(self.vq, &mut len) };
        (!token.is_null()).then(|| (self.reclaim(token), len))
    }

    /// Takes a request the device never used (only valid after a device reset).
    pub fn detach_unused(&mut self) -> Option<Arc<T>> {
        // SAFETY: `self.vq` is a valid queue.
        let token = unsafe { bindings::virtqueue_detach_unused_buf(self.vq) };
        (!token.is_null()).then(|| self.reclaim(token))
    }

    /// Disables used-buffer callbacks (a hint).
    pub fn disable_cb(&mut self) {
        // SAFETY: `self.vq` is a valid queue.
        unsafe { bindings::virtqueue_disable_cb(self.vq) }
    }

    /// Re-enables callbacks; `false` if buffers were used meanwhile (poll again).
    pub fn enable_cb(&mut self) -> bool {
        // SAFETY: `self.vq` is a valid queue.
        unsafe { bindings::virtqueue_enable_cb(self.vq) }
    }

    /// The number of descriptors of the ring.
    pub fn size(&self) -> u32 {
        // SAFETY: `self.vq` is a valid queue.
        unsafe { bindings::virtqueue_get_vring_size(self.vq) }
    }
}

/// A virtio driver.
pub trait Driver: 'static {
    /// Per-device state, from probe to remove.
    type Data: Send + Sync;
    /// Driver name in sysfs (`/sys/bus/virtio/drivers/<NAME>`).
    const NAME: &'static CStr;
    /// Virtio device id served (`VIRTIO_ID_*`).
    const DEVICE_ID: u32;
    /// Feature bits offered to the device (the core adds the transport features).
    const FEATURES: &'static [u32];

    /// Binds a device. Queues set up here must be deleted in `remove` or on error.
    fn probe(vdev: &Device<'_>) -> Result<Pin<KBox<Self::Data>>>;
    /// Unbinds the device. Must delete the queues; tears `data` down in the order it needs.
    fn remove(vdev: &Device<'_>, data: Pin<KBox<Self::Data>>);
}

/// A registered virtio driver; unregisters on drop.
pub struct Registration<T: Driver> {
    /// Heap-allocated because the core keeps pointers to it and to the tables.
    inner: Pin<KBox<RegInner>>,
    _p: PhantomData<T>,
}

struct RegInner {
    drv: bindings::virtio_driver,
    ids: [bindings::virtio_device_id; 2],
    features: KVec<u32>,
    _pin: core::marker::PhantomPinned,
}

// SAFETY: After registration the structures are only read by the virtio core.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: As above.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Registers the driver; devices already present are probed before this returns.
    pub fn new(module: &'static ThisModule) -> Result<Self> {
        let mut features = KVec::with_capacity(T::FEATURES.len(), GFP_KERNEL)?;
        features.extend_from_slice(T::FEATURES, GFP_KERNEL)?;
        let mut ids = [bindings::virtio_device_id::default(); 2];
        ids[0].device = T::DEVICE_ID;
        ids[0].vendor = bindings::VIRTIO_DEV_ANY_ID;
        let mut inner = KBox::pin(
            RegInner {
                drv: bindings::virtio_driver::default(),
                ids,
                features,
                _pin: core::marker::PhantomPinned,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: We only initialise fields in place; nothing is moved out.
        let r = unsafe { inner.as_mut().get_unchecked_mut() };
        r.drv.driver.name = T::NAME.as_char_ptr();
        r.drv.id_table = r.ids.as_ptr();
        r.drv.feature_table = r.features.as_ptr();
        r.drv.feature_table_size = r.features.len() as u32;
        r.drv.probe = Some(Self::probe_callback);
        r.drv.remove = Some(Self::remove_callback);
        // SAFETY: `drv` is fully initialised and pinned on the heap until `drop`
        // unregisters it; `module` is this module.
        to_result(unsafe {
            bindings::__register_virtio_driver(&mut r.drv, module.as_ptr().cast())
        })?;
        Ok(Self {
            inner,
            _p: PhantomData,
        })
    }

    /// # Safety
    ///
    /// Called by the virtio core with a valid device matching our id table.
    unsafe extern "C" fn probe_callback(raw: *mut bindings::virtio_device) -> kernel::ffi::c_int {
        let slot = match KBox::new(
            Slot {
                handler: None,
                data: core::ptr::null_mut(),
            },
            GFP_KERNEL,
        ) {
            Ok(s) => KBox::into_raw(s),
            Err(e) => return Error::from(e).to_errno(),
        };
        // SAFETY: The core passes a valid device; we own `priv` while bound.
        unsafe { bindings::vgpu_helper_virtio_set_priv(raw, slot.cast()) };
        // SAFETY: `raw` is valid and bound to us for the duration of the call.
        let vdev = unsafe { Device::from_raw(raw) };
        match T::probe(&vdev) {
            Ok(data) => {
                // SAFETY: The data stays pinned: it is only turned back into a
                // `Pin<KBox>` in `remove_callback`.
                let p = KBox::into_raw(unsafe { Pin::into_inner_unchecked(data) });
                // SAFETY: `slot` is valid (allocated above, freed only in remove).
                unsafe { (*slot).data = p.cast() };
                0
            }
            Err(e) => {
                // SAFETY: Probe failed; it must have deleted any queues, so nothing else
                // references the slot. Reclaim it.
                let s = unsafe { KBox::from_raw(slot) };
                if s.handler.is_some() {
                    pr_err!(
                        "virtio: probe of {} failed but left its queues\n",
                        vdev.name()
                    );
                }
                // SAFETY: `raw` is valid.
                unsafe { bindings::vgpu_helper_virtio_set_priv(raw, core::ptr::null_mut()) };
                e.to_errno()
            }
        }
    }

    /// # Safety
    ///
    /// Called by the virtio core with a device that `probe_callback` bound.
    unsafe extern "C" fn remove_callback(raw: *mut bindings::virtio_device) {
        // SAFETY: The core passes a device that `probe_callback` bound successfully.
        let vdev = unsafe { Device::from_raw(raw) };
        let slot = vdev.slot();
        // SAFETY: The slot was installed by a successful probe and holds the data pointer
        // created from a pinned `KBox<T::Data>`.
        let data = unsafe { Pin::new_unchecked(KBox::from_raw((*slot).data.cast::<T::Data>())) };
        T::remove(&vdev, data);
        // SAFETY: See `find_vqs`; remove and probe are serialised by the driver core.
        if unsafe { (*slot).handler.is_some() } {
            // A driver bug; still never free the slot under live queue callbacks.
            pr_err!("virtio: remove of {} left its queues\n", vdev.name());
            vdev.reset();
            vdev.del_vqs();
        }
        // SAFETY: The queues are gone, so no callback can reach the slot any more.
        drop(unsafe { KBox::from_raw(slot) });
        // SAFETY: `raw` is valid.
        unsafe { bindings::vgpu_helper_virtio_set_priv(raw, core::ptr::null_mut()) };
    }
}

impl<T: Driver> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: The driver was registered in `new`; the core removes all devices first.
        unsafe {
            bindings::unregister_virtio_driver(&mut self.inner.as_mut().get_unchecked_mut().drv)
        };
    }
}
