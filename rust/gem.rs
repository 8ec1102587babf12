// SPDX-License-Identifier: GPL-2.0

//! GEM objects with driver data and driver-chosen mappings.
//!
//! An [`Object<T>`] is a C `struct drm_gem_shmem_object` (whose first member is the
//! `struct drm_gem_object`) followed by the driver's data `T`. Two kinds exist:
//!
//! - shmem-backed ([`Object::new_shmem`]): pages from the kernel's shmem helpers
//!   (`drm_gem_shmem_*`), mapped to userspace by the shmem fault handler;
//! - private ([`Object::new_private`]): no pages (e.g. device memory); the driver maps it
//!   in [`DriverObject::mmap`], typically with [`VmaNew::remap_io`].
//!
//! Every object of a driver uses that driver's one [`Funcs`] table, so an object found
//! through a handle is known to be an `Object<T>` by comparing its `funcs` pointer.
//!
//! C header: [`include/drm/drm_gem.h`](srctree/include/drm/drm_gem.h),
//! [`include/drm/drm_gem_shmem_helper.h`](srctree/include/drm/drm_gem_shmem_helper.h).

use super::{
    bindings, drm,
    mm::{self, VmaNew},
    prime::{self, ExportOps},
};
use core::{
    marker::PhantomData,
    mem::MaybeUninit,
    ptr::NonNull,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    error::to_result,
    prelude::*,
    sync::aref::{ARef, AlwaysRefCounted},
    types::Opaque,
};

/// The driver side of a GEM object.
pub trait DriverObject: Send + Sync + Sized + 'static {
    /// The DRM driver the objects belong to.
    type Driver: drm::Driver;

    /// The driver's table, a `static` made with [`Funcs::new`].
    const FUNCS: &'static Funcs<Self>;

    /// The last reference to the object is gone: tell the device to let go of it. Runs
    /// before the driver data is dropped and before the backing (pages, offset) is freed.
    /// It gets the driver data only: the object itself can no longer be referenced.
    ///
    /// An error means the device may still use the backing (it did not confirm): the
    /// object is then leaked rather than freed under the device.
    fn release(&self) -> Result {
        Ok(())
    }

    /// A handle to `obj` was created in `file` (also for handles made by PRIME import).
    fn open(_obj: &Object<Self>, _file: &drm::File<Self::Driver>) -> Result {
        Ok(())
    }

    /// A handle to `obj` in `file` was closed, or `file` itself.
    fn close(_obj: &Object<Self>, _file: &drm::File<Self::Driver>) {}

    /// Sets up a userspace mapping of `m.obj()`: through the DRM fd (a prefix of the object
    /// or all of it) or through an exported dma-buf (possibly at an offset,
    /// [`Mmap::offset`]). The vma holds a reference to the object until it is closed.
    fn mmap(m: &Mmap<'_, Self>) -> Result;

    /// Where a private object's memory is (a window of device memory and the object's
    /// offset in it) and how to map it, for a kernel mapping (`vmap`) with the same memory
    /// type as its userspace mappings. Shmem objects are vmapped by the shmem helpers and
    /// never ask.
    fn vmap_io(_obj: &Object<Self>) -> Result<(mm::IoWindow, u64, mm::CacheMode)> {
        Err(Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32)))
    }

    /// The exporter of import `obj` is about to move the buffer (its reservation is held,
    /// `guard` proves it): the device must stop using the mapping returned by
    /// [`Object::import_dma_segments`], which is unmapped when this returns. The next
    /// [`Object::import_dma_segments`] maps the buffer where it then is.
    fn import_invalidate(_obj: &Object<Self>, _guard: &ResvGuard<'_>) {}

    /// The UUID other virtio devices know an exported object by (`get_uuid` of its
    /// virtio dma-buf). `ENODEV` when it has none.
    fn uuid(_obj: &Object<Self>) -> Result<[u8; 16]> {
        Err(ENODEV)
    }
}

/// The `struct drm_gem_object_funcs` of objects with data `T`, and the dma-buf ops of
/// their exports ([`prime`]).
#[repr(C)]
pub struct Funcs<T: DriverObject> {
    gem: bindings::drm_gem_object_funcs,
    pub(super) export_cpu: ExportOps<T>,
    pub(super) export_no_cpu: ExportOps<T>,
    /// How imports are attached: dynamically, told when the exporter moves the buffer.
    attach: bindings::dma_buf_attach_ops,
}

// SAFETY: The table is immutable and only read by the DRM core.
unsafe impl<T: DriverObject> Sync for Funcs<T> {}

impl<T: DriverObject> Funcs<T> {
    /// The table for `T`, to be placed in a `static`.
    pub const fn new() -> Self {
        // SAFETY: All-zero is a valid table (no callbacks, null pointers).
        let mut f: bindings::drm_gem_object_funcs = unsafe { core::mem::zeroed() };
        f.free = Some(free_callback::<T>);
        f.open = Some(open_callback::<T>);
        f.close = Some(close_callback::<T>);
        f.mmap = Some(mmap_callback::<T>);
        f.vmap = Some(vmap_callback::<T>);
        f.vunmap = Some(vunmap_callback::<T>);
        f.status = Some(status_callback::<T>);
        f.pin = Some(pin_callback::<T>);
        f.unpin = Some(unpin_callback::<T>);
        f.get_sg_table = Some(get_sg_table_callback::<T>);
        f.export = Some(prime::export_callback::<T>);
        Self {
            gem: f,
            export_cpu: ExportOps::new(true),
            export_no_cpu: ExportOps::new(false),
            attach: bindings::dma_buf_attach_ops {
                // Only memory with struct pages: device memory of another device need not
                // be reachable by the host.
                allow_peer2peer: false,
                invalidate_mappings: Some(invalidate_callback::<T>),
            },
        }
    }
}

impl<T: DriverObject> Default for Funcs<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Shmem,
    Private,
    /// Attached to a foreign dma-buf (not mapped): its CPU mappings are the exporter's.
    Import,
}

/// A GEM object of driver data `T`.
///
/// # Invariants
///
/// `raw` is an initialised `drm_gem_shmem_object` (its `base` initialised as a shmem or a
/// private GEM object per `kind`) whose `funcs` is `T::FUNCS`; the object is
/// reference-counted by the GEM core and freed by `free_callback::<T>`.
#[repr(C)]
#[pin_data]
pub struct Object<T: DriverObject> {
    raw: Opaque<bindings::drm_gem_shmem_object>,
    kind: Kind,
    /// An import's attachment mapped for the device (null until its first device use),
    /// unmapped when the object is freed.
    import_sgt: AtomicPtr<bindings::sg_table>,
    #[pin]
    data: T,
}

// SAFETY: The C object is managed by the thread-safe GEM core; `T: Send + Sync`.
unsafe impl<T: DriverObject> Send for Object<T> {}
// SAFETY: As above.
unsafe impl<T: DriverObject> Sync for Object<T> {}

// SAFETY: `drm_gem_object_get`/`put` manage the object's reference count; the last put
// frees it through `free_callback`, after which no `&Object` can exist.
unsafe impl<T: DriverObject> AlwaysRefCounted for Object<T> {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live object.
        unsafe { bindings::vgpu_helper_drm_gem_object_get(self.gem()) }
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns one reference, which we drop.
        unsafe { bindings::vgpu_helper_drm_gem_object_put(obj.as_ptr().cast()) }
    }
}

impl<T: DriverObject> core::ops::Deref for Object<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: DriverObject> Object<T> {
    /// An object of `size` bytes (page aligned by the caller) with shmem pages.
    pub fn new_shmem(
        dev: &drm::Device<T::Driver>,
        size: usize,
        data: impl PinInit<T, Error>,
    ) -> Result<ARef<Self>> {
        Self::create(dev, size, Kind::Shmem, data, core::ptr::null_mut())
    }

    /// An object of `size` bytes without pages: the driver provides its mappings.
    pub fn new_private(
        dev: &drm::Device<T::Driver>,
        size: usize,
        data: impl PinInit<T, Error>,
    ) -> Result<ARef<Self>> {
        Self::create(dev, size, Kind::Private, data, core::ptr::null_mut())
    }

    /// An object for the foreign dma-buf `buf` (another driver's export), attached to it
    /// but not mapped: nothing reads the buffer's pages, and a userspace or kernel mapping
    /// of the object is the exporter's (`dma_buf_mmap`, `dma_buf_vmap`).
    pub fn new_import(
        dev: &drm::Device<T::Driver>,
        buf: &super::dma_buf::DmaBufRef<'_>,
        data: impl PinInit<T, Error>,
    ) -> Result<ARef<Self>> {
        Self::create(dev, buf.size(), Kind::Import, data, buf.as_raw())
    }

    /// Whether the object is a foreign dma-buf's import.
    pub fn is_import(&self) -> bool {
        self.kind == Kind::Import
    }

    /// Whether the CPU can map the object: not an import whose exporter has no mmap.
    pub fn cpu_mappable(&self) -> bool {
        // SAFETY: An import stays attached until it is freed.
        self.kind != Kind::Import
            || unsafe { bindings::vgpu_helper_gem_import_has_mmap(self.gem()) }
    }

    /// Whether the object has shmem pages.
    pub fn is_shmem(&self) -> bool {
        self.kind == Kind::Shmem
    }

    /// Locks the object's reservation (an import's is the dma-buf's), interruptibly.
    pub fn lock_resv(&self) -> Result<ResvGuard<'_>> {
        // SAFETY: The reservation is live while the object is.
        to_result(unsafe { bindings::vgpu_helper_dma_resv_lock_interruptible(self.resv()) })?;
        Ok(ResvGuard {
            resv: self.resv(),
            _p: PhantomData,
        })
    }

    /// The DMA segments of an import for the device (the DRM device's parent), its
    /// attachment mapped where the buffer is now: mapped on the first call after import
    /// or after the exporter moved the buffer ([`DriverObject::import_invalidate`]), and
    /// kept until then or until the object is freed. Only DMA addresses and lengths are
    /// read: never the `struct page`s of the exporter's table. Waits (interruptibly) for
    /// the exporter's kernel fences (a move or clear in progress) before the device may
    /// touch the memory. `EINVAL` for objects that are not imports or a `guard` of
    /// another reservation.
    pub fn import_dma_segments<'a>(&'a self, guard: &'a ResvGuard<'_>) -> Result<SgSegments<'a>> {
        if self.kind != Kind::Import || guard.resv != self.resv() {
            return Err(EINVAL);
        }
        // Only changed with the reservation held, as here.
        let mut sgt = self.import_sgt.load(Ordering::Relaxed);
        if sgt.is_null() {
            // SAFETY: An attached import whose reservation is held.
            sgt = kernel::error::from_err_ptr(unsafe {
                bindings::vgpu_helper_gem_import_map(self.gem())
            })?;
            self.import_sgt.store(sgt, Ordering::Relaxed);
        }
        // SAFETY: The reservation is live; waiting with it held is what importers do.
        let r = unsafe {
            bindings::dma_resv_wait_timeout(
                self.resv(),
                bindings::dma_resv_usage_DMA_RESV_USAGE_KERNEL,
                true,
                isize::MAX as usize,
            )
        };
        if r < 0 {
            return Err(Error::from_errno(r as i32));
        }
        // SAFETY: `sgt` is the mapped table, valid while the reservation is held (only
        // unmapped with it held) and the borrow of `guard` lasts.
        let (first, n) = unsafe {
            (
                bindings::vgpu_helper_sgt_first(sgt),
                bindings::vgpu_helper_sgt_nents(sgt, true),
            )
        };
        Ok(SgSegments {
            sg: first,
            left: n,
            dma: true,
            _p: PhantomData,
        })
    }

    /// Unmaps an import's attachment if it is mapped (its reservation held).
    fn import_unmap_locked(&self) {
        let sgt = self
            .import_sgt
            .swap(core::ptr::null_mut(), Ordering::Relaxed);
        if !sgt.is_null() {
            // SAFETY: `sgt` is this attachment's mapping; the caller holds the reservation.
            unsafe { bindings::vgpu_helper_gem_import_unmap(self.gem(), sgt) };
        }
    }

    /// The guest-physical address behind `dma`, a DMA address of this object's device,
    /// for devices that take physical addresses (virtio without `ACCESS_PLATFORM`): only
    /// where DMA addresses are physical ones (no IOMMU, no bouncing), else `EOPNOTSUPP`.
    pub fn dma_to_phys(&self, dma: u64) -> Result<u64> {
        let mut phys = 0u64;
        // SAFETY: The device is live while the object is.
        to_result(unsafe {
            bindings::vgpu_helper_dma_to_guest_phys(self.dev().parent_raw(), dma, &mut phys)
        })?;
        Ok(phys)
    }

    fn create(
        dev: &drm::Device<T::Driver>,
        size: usize,
        kind: Kind,
        data: impl PinInit<T, Error>,
        buf: *mut bindings::dma_buf,
    ) -> Result<ARef<Self>> {
        // The C init functions BUG on sizes that are not whole pages.
        if size == 0 || size % kernel::page::PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        let obj = KBox::pin_init(
            try_pin_init!(Self {
                raw: Opaque::zeroed(),
                kind,
                import_sgt: AtomicPtr::new(core::ptr::null_mut()),
                data <- data,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: The object is never moved out of its allocation: from here on it is
        // owned by the GEM core and freed in `free_callback`.
        let p = KBox::into_raw(unsafe { Pin::into_inner_unchecked(obj) });
        // SAFETY: `p` is valid; `raw` is zeroed, as the init functions expect.
        let gem = unsafe { (*p).raw.get() };
        // SAFETY: As above; set before init so the shmem helper keeps our table.
        unsafe { (*gem).base.funcs = &T::FUNCS.gem };
        let ret = match kind {
            // SAFETY: `dev` is a live device and `gem` a zeroed shmem object.
            Kind::Shmem => unsafe { bindings::drm_gem_shmem_init(dev.as_raw(), gem, size) },
            Kind::Private | Kind::Import => {
                // SAFETY: As above; a private object has no shmem file.
                unsafe {
                    bindings::drm_gem_private_object_init(dev.as_raw(), &mut (*gem).base, size)
                };
                // SAFETY: The GEM object is initialised.
                let mut r = unsafe { bindings::drm_gem_create_mmap_offset(&mut (*gem).base) };
                if r == 0 && kind == Kind::Import {
                    // SAFETY: `buf` is a live dma-buf (the caller's reference) and the object
                    // is initialised; on success it holds its own reference to `buf`.
                    r = unsafe {
                        bindings::vgpu_helper_gem_import_attach(
                            dev.as_raw(),
                            &mut (*gem).base,
                            buf,
                            &T::FUNCS.attach,
                        )
                    };
                    if r != 0 {
                        // SAFETY: Undoes `drm_gem_create_mmap_offset`.
                        unsafe { bindings::drm_gem_free_mmap_offset(&mut (*gem).base) };
                    }
                }
                if r != 0 {
                    // SAFETY: Undoes `drm_gem_private_object_init`.
                    unsafe { bindings::drm_gem_object_release(&mut (*gem).base) };
                }
                r
            }
        };
        if let Err(e) = to_result(ret) {
            // SAFETY: Initialisation failed and cleaned up after itself, so the GEM core
            // does not know the object: we still own the allocation and drop it whole.
            drop(unsafe { KBox::from_raw(p) });
            return Err(e);
        }
        // SAFETY: Initialised with one reference, which we hand to the `ARef`.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(p)) })
    }

    fn gem(&self) -> *mut bindings::drm_gem_object {
        // `base` is the first member of `drm_gem_shmem_object`.
        self.raw.get().cast()
    }

    /// # Safety
    ///
    /// `obj` must be a live GEM object whose `funcs` is `T::FUNCS`, valid for `'a`.
    pub(super) unsafe fn from_gem<'a>(obj: *mut bindings::drm_gem_object) -> &'a Self {
        // SAFETY: Such objects are `Object<T>`s with the GEM object at offset 0.
        unsafe { &*obj.cast::<Self>() }
    }

    /// Size in bytes.
    pub fn size(&self) -> usize {
        // SAFETY: The object is initialised (type invariant).
        unsafe { (*self.gem()).size }
    }

    /// The device the object belongs to.
    pub fn dev(&self) -> &drm::Device<T::Driver> {
        // SAFETY: Objects never outlive their device: whoever holds an object reference
        // (a handle through its file, a vma through its file, a dma-buf) holds a device
        // reference too. All objects with `T::FUNCS` were created on a `T::Driver` device.
        unsafe { drm::Device::borrow((*self.gem()).dev) }
    }

    /// Creates a handle to the object in `file`; the handle holds its own reference.
    pub fn create_handle(&self, file: &drm::File<T::Driver>) -> Result<u32> {
        let mut handle = 0u32;
        // SAFETY: `file` and the object are live.
        to_result(unsafe {
            bindings::drm_gem_handle_create(file.as_raw(), self.gem(), &mut handle)
        })?;
        Ok(handle)
    }

    /// The object behind `handle` in `file`: `ENOENT` if there is none, `EINVAL` if it is
    /// not one of ours (a foreign object).
    pub fn lookup(file: &drm::File<T::Driver>, handle: u32) -> Result<ARef<Self>> {
        // SAFETY: `file` is live; a non-null result carries a reference we take over.
        let obj = unsafe { bindings::drm_gem_object_lookup(file.as_raw(), handle) };
        let obj = NonNull::new(obj).ok_or(ENOENT)?;
        // SAFETY: `obj` is a live GEM object.
        if unsafe { (*obj.as_ptr()).funcs } != &raw const T::FUNCS.gem {
            // SAFETY: Drops the reference the lookup took.
            unsafe { bindings::vgpu_helper_drm_gem_object_put(obj.as_ptr()) };
            return Err(EINVAL);
        }
        // SAFETY: Checked above that it is an `Object<T>`; we own the lookup's reference.
        Ok(unsafe { ARef::from_raw(obj.cast()) })
    }

    /// The fake offset userspace passes to `mmap` on the DRM fd to map this object.
    pub fn mmap_offset(&self) -> u64 {
        // SAFETY: The object is initialised and has an offset node (created at init).
        unsafe { bindings::vgpu_helper_drm_gem_mmap_offset(self.gem()) }
    }

    /// The pages of a shmem object, allocated and DMA-mapped for the device on first use;
    /// they stay until the object is freed. `EINVAL` for private objects.
    pub fn shmem_sg_table(&self) -> Result<SgTable<'_>> {
        if self.kind != Kind::Shmem {
            return Err(EINVAL);
        }
        // SAFETY: A live shmem object.
        let sgt = unsafe { bindings::drm_gem_shmem_get_pages_sgt(self.raw.get()) };
        let sgt = kernel::error::from_err_ptr(sgt)?;
        Ok(SgTable {
            // SAFETY: `from_err_ptr` succeeded, so `sgt` is valid and non-null.
            sgt: unsafe { NonNull::new_unchecked(sgt) },
            dev: self.dev().parent_raw(),
            _p: PhantomData,
        })
    }
}

/// How a fence in a reservation object is used (`enum dma_resv_usage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResvUsage {
    /// Writes (implicit sync: readers and writers wait).
    Write,
    /// Reads (writers wait).
    Read,
    /// Any fence, bookkeeping included.
    Bookkeep,
}

impl ResvUsage {
    fn raw(self) -> bindings::dma_resv_usage {
        match self {
            Self::Write => bindings::dma_resv_usage_DMA_RESV_USAGE_WRITE,
            Self::Read => bindings::dma_resv_usage_DMA_RESV_USAGE_READ,
            Self::Bookkeep => bindings::dma_resv_usage_DMA_RESV_USAGE_BOOKKEEP,
        }
    }
}

impl<T: DriverObject> Object<T> {
    fn resv(&self) -> *mut bindings::dma_resv {
        // SAFETY: `resv` points at the object's own reservation (or an imported buffer's)
        // from init to free.
        unsafe { (*self.gem()).resv }
    }

    /// Whether every fence of the object's reservation of `usage` (and stricter) signalled.
    pub fn resv_idle(&self, usage: ResvUsage) -> bool {
        // SAFETY: The reservation is live; the test takes no lock the caller may hold.
        unsafe { bindings::dma_resv_test_signaled(self.resv(), usage.raw()) }
    }

    /// Waits up to `timeout` jiffies for the fences of `usage`: `Ok(true)` when they
    /// signalled, `Ok(false)` on timeout, `ERESTARTSYS` on a signal if `intr`.
    pub fn resv_wait(&self, usage: ResvUsage, intr: bool, timeout: usize) -> Result<bool> {
        // SAFETY: The reservation is live.
        let r = unsafe { bindings::dma_resv_wait_timeout(self.resv(), usage.raw(), intr, timeout) };
        match r {
            0 => Ok(false),
            r if r > 0 => Ok(true),
            e => Err(Error::from_errno(e as i32)),
        }
    }
}

/// A held reservation lock (`dma_resv_lock`), released on drop.
pub struct ResvGuard<'a> {
    resv: *mut bindings::dma_resv,
    _p: PhantomData<&'a ()>,
}

impl ResvGuard<'_> {
    /// # Safety
    ///
    /// The caller holds the lock of `resv` for the guard's life and keeps it (the guard
    /// does not unlock it).
    unsafe fn assume_held<'a>(
        resv: *mut bindings::dma_resv,
    ) -> core::mem::ManuallyDrop<ResvGuard<'a>> {
        core::mem::ManuallyDrop::new(ResvGuard {
            resv,
            _p: PhantomData,
        })
    }
}

impl Drop for ResvGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: Locked by `Object::lock_resv`, which made this guard.
        unsafe { bindings::vgpu_helper_dma_resv_unlock(self.resv) };
    }
}

/// The reservations of a set of objects, locked together (`drm_gem_lock_reservations`),
/// each with room for one more fence. The guard owns the object references; unlocked on
/// drop or by [`ResvLocked::unlock`], which gives them back.
pub struct ResvLocked<T: DriverObject> {
    objs: KVec<ARef<Object<T>>>,
    raw: KVVec<*mut bindings::drm_gem_object>,
    /// The ww-mutex acquire context; locks point at it, so it lives in its own allocation.
    ctx: KBox<Opaque<bindings::ww_acquire_ctx>>,
}

impl<T: DriverObject> ResvLocked<T> {
    /// Locks the reservations of `objs` (interruptibly: `EINTR`/`ERESTARTSYS`), each at most
    /// once: an object listed twice is `EALREADY`, as in the DRM core.
    pub fn lock(objs: KVec<ARef<Object<T>>>) -> Result<Self> {
        let flags = GFP_KERNEL | kernel::alloc::flags::__GFP_NOWARN;
        let mut raw = KVVec::with_capacity(objs.len(), flags)?;
        for o in objs.iter() {
            raw.push(o.gem(), flags)?;
        }
        let ctx = KBox::new(Opaque::uninit(), GFP_KERNEL)?;
        let count = i32::try_from(raw.len()).map_err(|_| EINVAL)?;
        // SAFETY: `raw` holds live objects (`objs` keeps them), `ctx` is writable memory the
        // function initialises.
        to_result(unsafe {
            bindings::drm_gem_lock_reservations(raw.as_mut_ptr(), count, ctx.get())
        })?;
        let this = Self { objs, raw, ctx };
        for &o in this.raw.iter() {
            // SAFETY: The reservation is locked by us.
            to_result(unsafe { bindings::dma_resv_reserve_fences((*o).resv, 1) })?;
        }
        Ok(this)
    }

    /// Adds `fence` (a plain fence, not an array or chain) to every reservation for
    /// `usage`, in the one slot `lock` reserved, then unlocks and hands the object
    /// references back. Consuming the guard keeps it to one fence per lock.
    pub fn add_fence_and_unlock(
        mut self,
        fence: &super::dma_fence::Fence,
        usage: ResvUsage,
    ) -> KVec<ARef<Object<T>>> {
        for &o in self.raw.iter() {
            // SAFETY: The reservation is locked with a fence slot reserved; the reservation
            // takes its own reference to the fence.
            unsafe { bindings::dma_resv_add_fence((*o).resv, fence.as_raw(), usage.raw()) };
        }
        self.release();
        core::mem::take(&mut self.objs)
    }

    /// Unlocks and hands the object references back.
    pub fn unlock(mut self) -> KVec<ARef<Object<T>>> {
        self.release();
        core::mem::take(&mut self.objs)
    }

    fn release(&mut self) {
        if self.raw.is_empty() {
            return;
        }
        let count = self.raw.len() as i32;
        // SAFETY: Locked by `lock` with this context; `objs` keeps the objects alive.
        unsafe {
            bindings::drm_gem_unlock_reservations(self.raw.as_mut_ptr(), count, self.ctx.get())
        };
        self.raw.clear();
    }
}

impl<T: DriverObject> Drop for ResvLocked<T> {
    fn drop(&mut self) {
        self.release();
    }
}

/// An mmap call: the object and the vma being set up for it, tied together so a mapping
/// helper cannot be applied to another object's vma.
pub struct Mmap<'a, T: DriverObject> {
    obj: &'a Object<T>,
    vma: &'a VmaNew,
}

impl<'a, T: DriverObject> Mmap<'a, T> {
    /// The object being mapped.
    pub fn obj(&self) -> &'a Object<T> {
        self.obj
    }

    /// The vma being set up.
    pub fn vma(&self) -> &'a VmaNew {
        self.vma
    }

    /// Where in the object the mapping starts, in bytes (0 through the DRM fd; a dma-buf
    /// may be mapped at an offset). `EINVAL` if the vma does not fit in the object.
    pub fn offset(&self) -> Result<usize> {
        // SAFETY: The object is live and the vma is being set up for it.
        let pages =
            unsafe { bindings::vgpu_helper_drm_gem_vma_pgoff(self.obj.gem(), self.vma.as_raw()) };
        // `unsigned long` is `usize` in the kernel's FFI types.
        let off = pages.checked_mul(kernel::page::PAGE_SIZE).ok_or(EINVAL)?;
        match off.checked_add(self.vma.len()) {
            Some(end) if end <= self.obj.size() => Ok(off),
            _ => Err(EINVAL),
        }
    }

    /// Maps a shmem object through the shmem helpers (pages faulted in on access, cached).
    /// Only from the start of the object: the helpers' fault handler has no object offset.
    pub fn map_shmem(&self) -> Result {
        if self.obj.kind != Kind::Shmem || self.offset()? != 0 {
            return Err(EINVAL);
        }
        // SAFETY: A live shmem object and the vma being set up for it.
        to_result(unsafe {
            bindings::vgpu_helper_vma_mmap_shmem(self.obj.raw.get(), self.vma.as_raw())
        })
    }
}

/// The scatter-gather table of a shmem object's pages, valid while the object is.
pub struct SgTable<'a> {
    sgt: NonNull<bindings::sg_table>,
    dev: *mut bindings::device,
    _p: PhantomData<&'a ()>,
}

impl SgTable<'_> {
    /// The segments as (address, length): DMA addresses for the object's device when `dma`,
    /// CPU-physical addresses otherwise (virtio devices without `ACCESS_PLATFORM`).
    pub fn segments(&self, dma: bool) -> SgSegments<'_> {
        // SAFETY: `sgt` is valid for `'a` (the object keeps it until freed).
        let (first, n) = unsafe {
            (
                bindings::vgpu_helper_sgt_first(self.sgt.as_ptr()),
                bindings::vgpu_helper_sgt_nents(self.sgt.as_ptr(), dma),
            )
        };
        SgSegments {
            sg: first,
            left: n,
            dma,
            _p: PhantomData,
        }
    }

    /// Makes CPU writes to the pages visible to the device (DMA API path only).
    pub fn sync_for_device(&self) {
        // SAFETY: `sgt` was mapped for `dev` by the shmem helper.
        unsafe { bindings::vgpu_helper_sgt_sync_for_device(self.dev, self.sgt.as_ptr()) }
    }

    /// Makes device writes to the pages visible to the CPU (DMA API path only).
    pub fn sync_for_cpu(&self) {
        // SAFETY: As above.
        unsafe { bindings::vgpu_helper_sgt_sync_for_cpu(self.dev, self.sgt.as_ptr()) }
    }
}

/// Iterator over the segments of an [`SgTable`].
pub struct SgSegments<'a> {
    sg: *mut bindings::scatterlist,
    left: u32,
    dma: bool,
    _p: PhantomData<&'a ()>,
}

impl Iterator for SgSegments<'_> {
    type Item = (u64, u32);

    fn next(&mut self) -> Option<(u64, u32)> {
        if self.left == 0 || self.sg.is_null() {
            return None;
        }
        let (mut addr, mut len) = (0u64, 0u32);
        // SAFETY: `sg` is one of the table's first `nents` entries.
        unsafe { bindings::vgpu_helper_sg_segment(self.sg, self.dma, &mut addr, &mut len) };
        self.left -= 1;
        // SAFETY: As above; `sg_next` follows chain links.
        self.sg = unsafe { bindings::vgpu_helper_sg_next(self.sg) };
        Some((addr, len))
    }
}

/// # Safety
///
/// Called by the GEM core once, for the last reference of an `Object<T>`.
unsafe extern "C" fn free_callback<T: DriverObject>(gem: *mut bindings::drm_gem_object) {
    let p = gem.cast::<Object<T>>();
    // SAFETY: `gem` is an `Object<T>` (funcs is `T::FUNCS`), alive until we free it below.
    if let Err(e) = unsafe { (*p).data.release() } {
        // SAFETY: As above. The offset manager must not keep a node of a dead object.
        let size = unsafe { (*gem).size };
        pr_err!(
            "gem: device did not release an object of {} bytes ({:?}): leaking it\n",
            size,
            e
        );
        // SAFETY: As above; removes the object's node from the offset manager, the only
        // part of it others could still reach.
        unsafe { bindings::drm_gem_free_mmap_offset(gem) };
        return;
    }
    // SAFETY: As above.
    if unsafe { (*p).kind } == Kind::Import {
        // SAFETY: As above. The device let go (`release`): unmap, then detach before the
        // driver data goes, since an exporter's move could still reach us until then.
        unsafe {
            bindings::vgpu_helper_dma_resv_lock((*gem).resv);
            (*p).import_unmap_locked();
            bindings::vgpu_helper_dma_resv_unlock((*gem).resv);
            bindings::vgpu_helper_gem_import_destroy(gem);
        }
    }
    // SAFETY: `gem` is an `Object<T>` (funcs is `T::FUNCS`) nobody else references any more.
    // The driver data goes first: it may still have to tell the device to let go of the
    // pages, which the C release below frees.
    unsafe { core::ptr::drop_in_place(&raw mut (*p).data) };
    // SAFETY: As above; releases what `create` initialised.
    unsafe {
        match (*p).kind {
            Kind::Shmem => bindings::drm_gem_shmem_release((*p).raw.get()),
            Kind::Private => bindings::drm_gem_object_release(gem),
            // Detached above.
            Kind::Import => bindings::drm_gem_object_release(gem),
        }
    }
    // SAFETY: The allocation came from `KBox` in `create`; its fields are dropped or
    // released above, so free it as uninitialised memory.
    drop(unsafe { KBox::from_raw(p.cast::<MaybeUninit<Object<T>>>()) });
}

/// # Safety
///
/// Called by the GEM core with an `Object<T>` and a file of `T::Driver`.
unsafe extern "C" fn open_callback<T: DriverObject>(
    gem: *mut bindings::drm_gem_object,
    file: *mut bindings::drm_file,
) -> kernel::ffi::c_int {
    // SAFETY: Per the function's safety requirements.
    let (obj, file) = unsafe { (Object::<T>::from_gem(gem), drm::File::borrow(file)) };
    match T::open(obj, file) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the GEM core with an `Object<T>` and a file of `T::Driver`.
unsafe extern "C" fn close_callback<T: DriverObject>(
    gem: *mut bindings::drm_gem_object,
    file: *mut bindings::drm_file,
) {
    // SAFETY: Per the function's safety requirements.
    let (obj, file) = unsafe { (Object::<T>::from_gem(gem), drm::File::borrow(file)) };
    T::close(obj, file);
}

/// # Safety
///
/// Called by `drm_gem_mmap_obj` with an `Object<T>` and the vma being created.
unsafe extern "C" fn mmap_callback<T: DriverObject>(
    gem: *mut bindings::drm_gem_object,
    vma: *mut bindings::vm_area_struct,
) -> kernel::ffi::c_int {
    let raw_vma = vma;
    // SAFETY: Per the function's safety requirements.
    let (obj, vma) = unsafe { (Object::<T>::from_gem(gem), VmaNew::from_raw(vma)) };
    // An unplug waits for this section, then zaps every mapping: none set up here can
    // survive it.
    let Some(_guard) = obj.dev().enter() else {
        return ENODEV.to_errno();
    };
    if obj.kind == Kind::Import {
        // SAFETY: `gem` is an attached import and `vma` the mapping being set up for it by
        // `drm_gem_mmap_obj`, whose reference the helper drops once the exporter took over.
        return unsafe { bindings::vgpu_helper_gem_mmap_import(gem, raw_vma) };
    }
    match T::mmap(&Mmap { obj, vma }) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Pins a shmem object's pages for an importer's attachment (the reservation is held, as
/// `drm_gem_map_attach` does). Private objects have no pages: nothing to pin.
///
/// # Safety
///
/// Called by the DRM core with a live object of `T` whose reservation it holds.
unsafe extern "C" fn pin_callback<T: DriverObject>(gem: *mut bindings::drm_gem_object) -> i32 {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { Object::<T>::from_gem(gem) };
    match obj.kind {
        // SAFETY: A live shmem object with its reservation held by the caller.
        Kind::Shmem => unsafe { bindings::drm_gem_shmem_pin_locked(obj.raw.get()) },
        Kind::Private | Kind::Import => 0,
    }
}

/// Undoes [`pin_callback`].
///
/// # Safety
///
/// Called by the DRM core with a live object of `T` whose reservation it holds, after a
/// successful pin.
unsafe extern "C" fn unpin_callback<T: DriverObject>(gem: *mut bindings::drm_gem_object) {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { Object::<T>::from_gem(gem) };
    if obj.kind == Kind::Shmem {
        // SAFETY: A live, pinned shmem object with its reservation held by the caller.
        unsafe { bindings::drm_gem_shmem_unpin_locked(obj.raw.get()) }
    }
}

/// The pages of a shmem object for an importer (`drm_gem_map_dma_buf` maps them for the
/// importing device). Private objects have no pages (`EOPNOTSUPP`): exports of device
/// memory map their range themselves (`prime`).
///
/// # Safety
///
/// Called by the DRM core with a live, pinned object of `T`.
unsafe extern "C" fn get_sg_table_callback<T: DriverObject>(
    gem: *mut bindings::drm_gem_object,
) -> *mut bindings::sg_table {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { Object::<T>::from_gem(gem) };
    match obj.kind {
        // SAFETY: A live shmem object, pinned by `pin_callback` for the attachment.
        Kind::Shmem => unsafe { bindings::drm_gem_shmem_get_sg_table(obj.raw.get()) },
        Kind::Private | Kind::Import => {
            Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32)).to_ptr()
        }
    }
}

/// # Safety
///
/// Called by the DRM core (fdinfo memory stats) with an `Object<T>`, under a spinlock.
unsafe extern "C" fn status_callback<T: DriverObject>(
    gem: *mut bindings::drm_gem_object,
) -> bindings::drm_gem_object_status {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { Object::<T>::from_gem(gem) };
    match obj.kind {
        // SAFETY: A live shmem object; the helper only reads.
        Kind::Shmem => unsafe { bindings::vgpu_helper_shmem_status(obj.raw.get()) },
        // Device memory is not guest memory, an import is the exporter's: never counted.
        Kind::Private | Kind::Import => 0,
    }
}

/// # Safety
///
/// Called by `drm_gem_vmap_locked` with an `Object<T>`, its reservation held, and a map to
/// fill.
unsafe extern "C" fn vmap_callback<T: DriverObject>(
    gem: *mut bindings::drm_gem_object,
    map: *mut bindings::iosys_map,
) -> kernel::ffi::c_int {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { Object::<T>::from_gem(gem) };
    if obj.kind == Kind::Shmem {
        // SAFETY: A shmem object with its reservation held, as the helper requires.
        return unsafe { bindings::drm_gem_shmem_vmap_locked(obj.raw.get(), map) };
    }
    if obj.kind == Kind::Import {
        // SAFETY: An attached import; the buffer's reservation (ours too) is held.
        return unsafe { bindings::vgpu_helper_gem_vmap_import(gem, map) };
    }
    let (window, offset, mode) = match T::vmap_io(obj) {
        Ok(v) => v,
        Err(e) => return e.to_errno(),
    };
    let Some(phys) = window.sub(offset, obj.size() as u64) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `phys .. phys + size` lies in the window, device memory that stays present
    // (`IoWindow` invariant); the mapping is undone in `vunmap_callback`.
    let addr = unsafe { bindings::vgpu_helper_ioremap_mode(phys, obj.size(), mode as u32) };
    if addr.is_null() {
        return ENOMEM.to_errno();
    }
    // SAFETY: `map` is valid for writes.
    unsafe { bindings::vgpu_helper_iosys_map_set_vaddr_iomem(map, addr) };
    0
}

/// # Safety
///
/// Called by `drm_gem_vunmap_locked` with a map filled by `vmap_callback` for this object.
unsafe extern "C" fn vunmap_callback<T: DriverObject>(
    gem: *mut bindings::drm_gem_object,
    map: *mut bindings::iosys_map,
) {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { Object::<T>::from_gem(gem) };
    if obj.kind == Kind::Shmem {
        // SAFETY: The map came from `drm_gem_shmem_vmap_locked` of this object.
        unsafe { bindings::drm_gem_shmem_vunmap_locked(obj.raw.get(), map) };
        return;
    }
    if obj.kind == Kind::Import {
        // SAFETY: The map came from the exporter's vmap, through `vmap_callback`.
        unsafe { bindings::vgpu_helper_gem_vunmap_import(gem, map) };
        return;
    }
    // SAFETY: `map` is valid; for private objects it holds our `ioremap`.
    let addr = unsafe { bindings::vgpu_helper_iosys_map_vaddr_iomem(map) };
    if !addr.is_null() {
        // SAFETY: Unmaps the mapping `vmap_callback` made.
        unsafe { bindings::vgpu_helper_iounmap(addr) };
    }
}

/// The exporter of an import moves its buffer (`dma_buf_invalidate_mappings`, reservation
/// held): the driver stops the device, then the mapping goes.
///
/// # Safety
///
/// Called by the dma-buf core with an attachment made by `create` for an `Object<T>`
/// (its `importer_priv`), which stays attached (and the object alive) until `free_callback`
/// detaches it; the buffer's reservation is held.
unsafe extern "C" fn invalidate_callback<T: DriverObject>(
    attach: *mut bindings::dma_buf_attachment,
) {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { Object::<T>::from_gem(bindings::vgpu_helper_attachment_importer(attach)) };
    // SAFETY: The caller holds the reservation for the whole call.
    let guard = unsafe { ResvGuard::assume_held(obj.resv()) };
    T::import_invalidate(obj, &guard);
    obj.import_unmap_locked();
}
