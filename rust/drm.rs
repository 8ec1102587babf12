// SPDX-License-Identifier: GPL-2.0

//! DRM device, driver, file and ioctl abstractions over the raw C API.
//!
//! The kernel crate only has `kernel::drm` when DRM is built in (`CONFIG_DRM=y`) and its
//! `Driver` cannot take custom GEM/PRIME hooks; distribution kernels build DRM as a module.
//! These abstractions work with DRM as a module and keep every C hook reachable.
//!
//! C header: [`include/drm/drm_drv.h`](srctree/include/drm/drm_drv.h).

use super::{bindings, device::DeviceRef};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    error::{from_err_ptr, to_result},
    prelude::*,
    seq_file::SeqFile,
    str::CStr,
    sync::{aref::ARef, Arc},
    types::Opaque,
};

/// Static description of a DRM driver.
pub struct DriverInfo {
    /// `drm_driver.name`, what `DRM_IOCTL_VERSION` reports and userspace matches on.
    pub name: &'static CStr,
    /// `drm_driver.desc`.
    pub desc: &'static CStr,
    /// Driver version.
    pub major: i32,
    /// Driver version.
    pub minor: i32,
    /// Driver version.
    pub patchlevel: i32,
}

/// A DRM driver.
pub trait Driver: Sized + 'static {
    /// Per-device data, reachable from every ioctl.
    type Data: Send + Sync;
    /// Per-open-file data.
    type File: Send + Sync;

    /// Names and version.
    const INFO: DriverInfo;
    /// `DRIVER_*` feature flags.
    const FEATURES: u32;
    /// The ioctl table, built with [`declare_ioctls!`](crate::declare_ioctls).
    const IOCTLS: &'static [bindings::drm_ioctl_desc];

    /// The driver data of its GEM objects.
    type Object: super::gem::DriverObject<Driver = Self>;

    /// A client opened the device node.
    fn open(dev: &Device<Self>) -> Result<Pin<KBox<Self::File>>>;

    /// The driver data of a new object importing a foreign dma-buf (PRIME).
    fn import_data(dev: &Device<Self>) -> impl PinInit<Self::Object, Error>;

    /// Whether the driver creates dumb buffers ([`Driver::dumb_create`]); without them
    /// `DRM_IOCTL_MODE_CREATE_DUMB` answers `ENOSYS`.
    const HAS_DUMB: bool = false;

    /// `DRM_IOCTL_MODE_CREATE_DUMB`, its arguments checked by the core (non-zero, no
    /// 32-bit overflow of `height * width * cpp`): a buffer of `width` x `height` pixels of
    /// `bpp` bits, with a handle in `file`.
    fn dumb_create(
        _dev: &Device<Self>,
        _file: &File<Self>,
        _width: u32,
        _height: u32,
        _bpp: u32,
    ) -> Result<DumbBuffer> {
        Err(EINVAL)
    }
}

/// A new dumb buffer: its handle, bytes per row and size.
pub struct DumbBuffer {
    /// Handle in the creating file.
    pub handle: u32,
    /// Bytes per row.
    pub pitch: u32,
    /// Size in bytes.
    pub size: u64,
}

/// The `struct drm_driver` of driver `T`, built at compile time:
/// `static VTABLE: DriverVTable<MyDriver> = DriverVTable::new();`. Typed, so a device of
/// `T` can only be created from `T`'s table (whose callbacks interpret `dev_private`).
#[repr(transparent)]
pub struct DriverVTable<T: Driver>(bindings::drm_driver, PhantomData<T>);

// SAFETY: The table is immutable and only read by the DRM core.
unsafe impl<T: Driver> Sync for DriverVTable<T> {}

impl<T: Driver> DriverVTable<T> {
    /// The table of `T`. Its file operations are the GEM defaults, owned by this module so
    /// that an open DRM file pins the module.
    pub const fn new() -> Self {
        // SAFETY: All-zero is a valid `drm_driver` (null pointers, `None` callbacks).
        let mut d: bindings::drm_driver = unsafe { core::mem::zeroed() };
        d.driver_features = T::FEATURES;
        d.open = Some(open_callback::<T>);
        d.postclose = Some(postclose_callback::<T>);
        d.release = Some(release_callback::<T>);
        d.ioctls = T::IOCTLS.as_ptr();
        d.num_ioctls = T::IOCTLS.len() as i32;
        d.name = kernel::str::as_char_ptr_in_const_context(T::INFO.name).cast_mut();
        d.desc = kernel::str::as_char_ptr_in_const_context(T::INFO.desc).cast_mut();
        d.major = T::INFO.major;
        d.minor = T::INFO.minor;
        d.patchlevel = T::INFO.patchlevel;
        d.fops = &raw const bindings::vgpu_drm_gem_fops;
        // Per-client memory stats in /proc/<pid>/fdinfo (drm-total-memory, ...), from the
        // sizes and `status` of the file's objects.
        d.show_fdinfo = Some(bindings::drm_show_memory_stats);
        d.gem_prime_import = Some(prime_import_callback::<T>);
        if T::HAS_DUMB {
            d.dumb_create = Some(dumb_create_callback::<T>);
        }
        Self(d, PhantomData)
    }
}

impl<T: Driver> Default for DriverVTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A DRM device of driver `T` (`struct drm_device`), with `dev_private` holding an
/// `Arc<T::Data>` released with the device's last reference.
///
/// `&Device<T>` is a reference to the C `drm_device` itself.
///
/// # Invariants
///
/// The wrapped `drm_device` was created by [`Registration::new`] for driver `T`.
#[repr(transparent)]
pub struct Device<T: Driver> {
    raw: Opaque<bindings::drm_device>,
    _p: PhantomData<T>,
}

impl<T: Driver> Device<T> {
    /// # Safety
    ///
    /// `ptr` must be a live device created by [`Registration::new`] for `T`, valid for `'a`.
    pub(crate) unsafe fn borrow<'a>(ptr: *mut bindings::drm_device) -> &'a Self {
        // SAFETY: `Device<T>` is a transparent wrapper of `drm_device`; the caller guarantees
        // validity for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    fn raw(&self) -> *mut bindings::drm_device {
        self.raw.get()
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::drm_device {
        self.raw.get()
    }

    /// The parent (bus) device, which does DMA for this DRM device.
    pub(crate) fn parent_raw(&self) -> *mut bindings::device {
        // SAFETY: `raw()` is valid; `dev` is set at allocation and never changes.
        unsafe { (*self.raw()).dev }
    }

    /// The parent (bus) device, for logging.
    pub fn parent(&self) -> &kernel::device::Device {
        // SAFETY: The DRM device holds a reference to its parent for its whole life; the
        // two bindgen views of `struct device` are the same C type.
        unsafe { kernel::device::Device::from_raw(self.parent_raw().cast()) }
    }

    /// The driver data.
    pub fn data(&self) -> &T::Data {
        // SAFETY: `dev_private` holds an `Arc<T::Data>` from `Registration::new` until
        // `release`, which runs after the last user of the device is gone.
        unsafe { &*(*self.raw()).dev_private.cast::<T::Data>() }
    }

    /// A new reference to the driver data.
    pub fn data_arc(&self) -> Arc<T::Data> {
        // SAFETY: `dev_private` holds an `Arc<T::Data>` (see `data`) that outlives `self`.
        let b = unsafe {
            kernel::sync::ArcBorrow::from_raw((*self.raw()).dev_private.cast::<T::Data>())
        };
        b.into()
    }

    /// Enters a section in which the device is known not to be unplugged.
    pub fn enter(&self) -> Option<EnterGuard<'_>> {
        let mut idx = 0;
        // SAFETY: `raw()` is a valid device.
        let ok = unsafe { bindings::drm_dev_enter(self.raw(), &mut idx) };
        ok.then_some(EnterGuard {
            idx,
            _p: PhantomData,
        })
    }
}

// SAFETY: A `drm_device` is reference counted and its state is protected by its own locks;
// `&Device` only exposes methods that may run on any thread.
unsafe impl<T: Driver> Send for Device<T> {}
// SAFETY: See `Send`.
unsafe impl<T: Driver> Sync for Device<T> {}

// SAFETY: `drm_dev_get`/`drm_dev_put` manage the device's reference count; the last put
// releases it (and the driver data). The last put may sleep: drop an `ARef<Device>` in
// process context.
unsafe impl<T: Driver> kernel::sync::aref::AlwaysRefCounted for Device<T> {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live device.
        unsafe { bindings::drm_dev_get(self.raw()) }
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns the reference being dropped.
        unsafe { bindings::drm_dev_put(obj.as_ptr().cast()) }
    }
}

/// A DRM event reserved in a file's event space (`drm_event_reserve_init`): a bare
/// `struct drm_event` of one type, delivered by [`PendingEvent::send`] and readable from the
/// file with `read()`. Dropping it unsent gives the space back.
///
/// The device reference it holds may be the last one: drop it in process context.
pub struct PendingEvent<T: Driver> {
    ev: NonNull<bindings::drm_pending_event>,
    dev: ARef<Device<T>>,
}

// SAFETY: The event is owned by this value until sent or cancelled; the DRM core protects
// the file's event lists with `dev->event_lock`, taken with interrupts disabled. The device
// reference is `Send + Sync` (see `Device`).
unsafe impl<T: Driver> Send for PendingEvent<T> {}
// SAFETY: No `&self` method touches the event.
unsafe impl<T: Driver> Sync for PendingEvent<T> {}

impl<T: Driver> PendingEvent<T> {
    /// Reserves an event of `type_` in `file`; `ENOMEM` when its event space is used up.
    pub fn reserve(dev: &Device<T>, file: &File<T>, type_: u32) -> Result<Self> {
        // SAFETY: `dev` and `file` are live; the helper allocates and reserves the event.
        let ev =
            unsafe { bindings::vgpu_helper_drm_event_reserve(dev.raw(), file.as_raw(), type_) };
        let ev = kernel::error::from_err_ptr(ev)?;
        Ok(Self {
            ev: NonNull::new(ev).ok_or(ENOMEM)?,
            dev: dev.into(),
        })
    }

    /// Delivers the event to its file (or frees it if the file is closed); returns the
    /// device reference for the caller to drop where it may sleep.
    pub fn send(self) -> ARef<Device<T>> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: The event is reserved and owned by us; sending passes it to the core.
        unsafe { bindings::drm_send_event(this.dev.raw(), this.ev.as_ptr()) };
        // SAFETY: `this` is not used again and is never dropped.
        unsafe { core::ptr::read(&this.dev) }
    }
}

impl<T: Driver> Drop for PendingEvent<T> {
    fn drop(&mut self) {
        // SAFETY: The event is reserved and unsent; cancelling frees it.
        unsafe { bindings::drm_event_cancel_free(self.dev.raw(), self.ev.as_ptr()) };
    }
}

/// Returned by [`Device::enter`]; leaves the section on drop.
pub struct EnterGuard<'a> {
    idx: i32,
    _p: PhantomData<&'a ()>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: `idx` came from a successful `drm_dev_enter`.
        unsafe { bindings::drm_dev_exit(self.idx) }
    }
}

/// An open DRM file of driver `T`; `&File<T>` is a reference to the C `drm_file`.
#[repr(transparent)]
pub struct File<T: Driver> {
    raw: Opaque<bindings::drm_file>,
    _p: PhantomData<T>,
}

impl<T: Driver> File<T> {
    /// # Safety
    ///
    /// `ptr` must be a valid `drm_file` opened on a device of `T` for `'a`.
    pub(crate) unsafe fn borrow<'a>(ptr: *mut bindings::drm_file) -> &'a Self {
        // SAFETY: `File<T>` is a transparent wrapper of `drm_file`; valid for `'a` per the
        // caller.
        unsafe { &*ptr.cast::<Self>() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::drm_file {
        self.raw.get()
    }

    /// The per-file driver data.
    pub fn data(&self) -> &T::File {
        // SAFETY: `driver_priv` holds a pinned `KBox<T::File>` from `open_callback` until
        // `postclose_callback`; ioctls run strictly in between.
        unsafe { &*(*self.raw.get()).driver_priv.cast::<T::File>() }
    }
}

/// A registered (or registrable) DRM device; unplugs and puts it on drop.
pub struct Registration<T: Driver> {
    dev: NonNull<bindings::drm_device>,
    registered: bool,
    _p: PhantomData<T>,
}

// SAFETY: The DRM core's device functions may be called from any thread.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: As above.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Allocates a DRM device under `parent` (the device that does DMA) holding `data`.
    pub fn new(
        vtable: &'static DriverVTable<T>,
        parent: DeviceRef<'_>,
        data: Arc<T::Data>,
    ) -> Result<Self> {
        // SAFETY: `vtable` is static; `parent` is a live device (the DRM core takes its own
        // reference).
        let dev = from_err_ptr(unsafe { bindings::drm_dev_alloc(&vtable.0, parent.as_raw()) })?;
        // SAFETY: `dev` is valid; ownership of one `Arc` reference moves into
        // `dev_private`, reclaimed in `release_callback`.
        unsafe { (*dev).dev_private = Arc::into_raw(data).cast_mut().cast() };
        Ok(Self {
            // SAFETY: `from_err_ptr` succeeded, so `dev` is non-null.
            dev: unsafe { NonNull::new_unchecked(dev) },
            registered: false,
            _p: PhantomData,
        })
    }

    /// The device.
    pub fn device(&self) -> &Device<T> {
        // SAFETY: We hold a reference to the device.
        unsafe { Device::borrow(self.dev.as_ptr()) }
    }

    /// Adds a read-only debugfs file `name` under the device's debugfs directory, shown by
    /// `show`. Call before [`Registration::register`].
    pub fn add_debugfs_file(&self, name: &'static CStr, show: fn(&Device<T>, &SeqFile) -> Result) {
        // SAFETY: `dev` is valid and not yet registered; `name` is static; the `show` fn
        // pointer is passed through `data` and called by `debugfs_show::<T>`.
        unsafe {
            bindings::drm_debugfs_add_file(
                self.dev.as_ptr(),
                name.as_char_ptr(),
                Some(debugfs_show::<T>),
                show as *mut core::ffi::c_void,
            )
        }
    }

    /// Adds a read-write debugfs file `name` showing and setting `value` in hex.
    ///
    /// `value` lives in the driver data, which outlives the device's debugfs directory
    /// (removed before the driver data is released).
    pub fn add_debugfs_x32(&self, name: &'static CStr, value: &core::sync::atomic::AtomicU32) {
        // SAFETY: `dev` is valid and its debugfs root exists from allocation on; `value`
        // lives in `dev_private`, released only after the directory is removed. The file
        // accesses the value with READ_ONCE/WRITE_ONCE, as atomics are in the kernel's
        // memory model.
        unsafe {
            bindings::vgpu_helper_debugfs_create_x32(
                name.as_char_ptr(),
                bindings::vgpu_helper_drm_debugfs_root(self.dev.as_ptr()),
                value.as_ptr(),
            )
        }
    }

    /// Adds a read-write debugfs file `name` showing and setting `value` (`0`/`1`).
    pub fn add_debugfs_bool(&self, name: &'static CStr, value: &core::sync::atomic::AtomicBool) {
        // SAFETY: As for `add_debugfs_x32`; `AtomicBool` has the layout of `bool`.
        unsafe {
            bindings::vgpu_helper_debugfs_create_bool(
                name.as_char_ptr(),
                bindings::vgpu_helper_drm_debugfs_root(self.dev.as_ptr()),
                value.as_ptr(),
            )
        }
    }

    /// Registers the device: its nodes appear in `/dev/dri`.
    pub fn register(&mut self) -> Result {
        // SAFETY: `dev` is a valid, unregistered device.
        to_result(unsafe { bindings::drm_dev_register(self.dev.as_ptr(), 0) })?;
        self.registered = true;
        Ok(())
    }
}

impl<T: Driver> Drop for Registration<T> {
    fn drop(&mut self) {
        if self.registered {
            // SAFETY: The device is registered. Unplug waits for every `drm_dev_enter`
            // section (running ioctls, mmaps) to finish, unregisters the device and zaps
            // every userspace mapping made through its fd: mappings of device memory then
            // fault with SIGBUS, shmem pages fault back in.
            unsafe { bindings::drm_dev_unplug(self.dev.as_ptr()) };
        }
        // SAFETY: Drops the reference from `drm_dev_alloc`; open files keep their own.
        unsafe { bindings::drm_dev_put(self.dev.as_ptr()) };
    }
}

/// # Safety
///
/// Called by the DRM debugfs core for a file added by `add_debugfs_file`.
unsafe extern "C" fn debugfs_show<T: Driver>(
    m: *mut bindings::seq_file,
    _unused: *mut core::ffi::c_void,
) -> kernel::ffi::c_int {
    // SAFETY: The DRM debugfs core sets `m->private` to the `drm_debugfs_entry` of the file.
    let entry = unsafe { (*m).private.cast::<bindings::drm_debugfs_entry>() };
    // SAFETY: `entry` is valid while the file is open; `data` is the fn pointer stored by
    // `add_debugfs_file` for a device of driver `T`.
    let (dev, show) = unsafe {
        let f: fn(&Device<T>, &SeqFile) -> Result = core::mem::transmute((*entry).file.data);
        (Device::<T>::borrow((*entry).dev), f)
    };
    // SAFETY: `m` is a valid seq_file for the duration of the call.
    let seq = unsafe { SeqFile::from_raw(m.cast()) };
    match show(dev, seq) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the DRM core with a live device and an open file of driver `T`, and
/// arguments it checked.
unsafe extern "C" fn dumb_create_callback<T: Driver>(
    file: *mut bindings::drm_file,
    dev: *mut bindings::drm_device,
    args: *mut bindings::drm_mode_create_dumb,
) -> kernel::ffi::c_int {
    // SAFETY: Per the function's safety requirements.
    let (d, f, a) = unsafe {
        (
            Device::<T>::borrow(dev),
            File::<T>::borrow(file),
            &mut *args,
        )
    };
    match T::dumb_create(d, f, a.width, a.height, a.bpp) {
        Ok(b) => {
            a.handle = b.handle;
            a.pitch = b.pitch;
            a.size = b.size;
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the DRM core with a live device of driver `T` and a new file.
unsafe extern "C" fn open_callback<T: Driver>(
    dev: *mut bindings::drm_device,
    file: *mut bindings::drm_file,
) -> kernel::ffi::c_int {
    // SAFETY: The DRM core passes a live device of driver `T`.
    let d = unsafe { Device::<T>::borrow(dev) };
    match T::open(d) {
        Ok(data) => {
            // SAFETY: Moved into `driver_priv` still pinned; reclaimed in postclose.
            let p = KBox::into_raw(unsafe { Pin::into_inner_unchecked(data) });
            // SAFETY: `file` is valid and its `driver_priv` is ours.
            unsafe { (*file).driver_priv = p.cast() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the DRM core for a file of driver `T` being closed.
unsafe extern "C" fn postclose_callback<T: Driver>(
    _dev: *mut bindings::drm_device,
    file: *mut bindings::drm_file,
) {
    // SAFETY: `driver_priv` was set by a successful `open_callback`; no ioctl can run on a
    // file being closed.
    unsafe {
        let p = (*file).driver_priv.cast::<T::File>();
        if !p.is_null() {
            drop(KBox::from_raw(p));
            (*file).driver_priv = core::ptr::null_mut();
        }
    }
}

/// # Safety
///
/// Called by the DRM core once, when the last reference to the device is gone.
unsafe extern "C" fn release_callback<T: Driver>(dev: *mut bindings::drm_device) {
    // SAFETY: Last reference gone: reclaim the `Arc` stored by `Registration::new`.
    unsafe {
        let p = (*dev).dev_private.cast::<T::Data>();
        if !p.is_null() {
            drop(Arc::from_raw(p));
            (*dev).dev_private = core::ptr::null_mut();
        }
    }
}

/// Adapts a typed ioctl handler to the C `drm_ioctl_t` signature.
///
/// # Safety
///
/// Only for use by [`declare_ioctls!`]: `data` must point to a `U` (the size was checked
/// against the ioctl number at compile time) and `dev`/`file` must belong to driver `T`.
#[doc(hidden)]
pub unsafe fn ioctl_trampoline<T: Driver, U>(
    dev: *mut bindings::drm_device,
    data: *mut core::ffi::c_void,
    file: *mut bindings::drm_file,
    f: fn(&Device<T>, &mut U, &File<T>) -> Result<u32>,
) -> kernel::ffi::c_int {
    // SAFETY: Guaranteed by the caller; `drm_ioctl` copied the argument into a kernel buffer
    // of `_IOC_SIZE(cmd)` bytes that we own exclusively for the call.
    let (d, u, fl) = unsafe {
        (
            Device::<T>::borrow(dev),
            &mut *data.cast::<U>(),
            File::<T>::borrow(file),
        )
    };
    match f(d, u, fl) {
        Ok(v) => v as kernel::ffi::c_int,
        Err(e) => e.to_errno(),
    }
}

/// Declares a driver's ioctl table: `(CMD, name, UapiType, flags, handler)` in ioctl-number
/// order starting at `DRM_COMMAND_BASE + 1`. The argument size of each number is checked at
/// compile time against the UAPI type.
#[macro_export]
macro_rules! declare_ioctls {
    ($drv:ty; $( ($cmd:expr, $name:literal, $ty:ty, $flags:expr, $func:path) ),* $(,)?) => {{
        const _: () = {
            let mut i = 1u32;
            $(
                assert!(($cmd & 0xff) == $crate::proto::uapi::DRM_COMMAND_BASE + i);
                assert!((($cmd >> 16) & 0x3fff) as usize == core::mem::size_of::<$ty>());
                i += 1;
            )*
            let _ = i;
        };
        &[
            // The DRM core indexes the table by `nr - DRM_COMMAND_BASE`; number 0 is unused.
            // SAFETY: An all-zero descriptor is valid: no handler, the core answers EINVAL.
            unsafe { core::mem::zeroed::<$crate::ext::bindings::drm_ioctl_desc>() },
            $(
            $crate::ext::bindings::drm_ioctl_desc {
                cmd: $cmd,
                flags: $flags,
                func: {
                    /// # Safety
                    ///
                    /// Called by `drm_ioctl` for this table entry.
                    unsafe extern "C" fn tramp(
                        dev: *mut $crate::ext::bindings::drm_device,
                        data: *mut core::ffi::c_void,
                        file: *mut $crate::ext::bindings::drm_file,
                    ) -> kernel::ffi::c_int {
                        // SAFETY: Called by `drm_ioctl` for this table entry, whose size
                        // was checked above.
                        unsafe { $crate::ext::drm::ioctl_trampoline::<$drv, $ty>(dev, data, file, $func) }
                    }
                    Some(tramp)
                },
                name: kernel::str::as_char_ptr_in_const_context(kernel::c_str!($name)),
            }
        ),*]
    }};
}

/// PRIME import: our own export on this device gives back its object; any other dma-buf
/// becomes an object attached to it (see `gem::Object::new_import`).
///
/// # Safety
///
/// Called by the DRM core with a live device of `T` and a dma-buf it holds a reference on.
unsafe extern "C" fn prime_import_callback<T: Driver>(
    dev: *mut bindings::drm_device,
    buf: *mut bindings::dma_buf,
) -> *mut bindings::drm_gem_object {
    // SAFETY: Per the function's safety requirements.
    let own = unsafe { super::prime::own_object::<T::Object>(dev, buf) };
    if !own.is_null() {
        return own;
    }
    let Some(raw) = NonNull::new(buf) else {
        return EINVAL.to_ptr();
    };
    // SAFETY: Per the function's safety requirements.
    let (d, b) = unsafe {
        (
            Device::<T>::borrow(dev),
            super::dma_buf::DmaBufRef::from_raw(raw),
        )
    };
    match super::gem::Object::<T::Object>::new_import(d, &b, T::import_data(d)) {
        Ok(obj) => ARef::into_raw(obj).as_ptr().cast(),
        Err(e) => e.to_ptr(),
    }
}
