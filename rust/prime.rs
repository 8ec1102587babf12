// SPDX-License-Identifier: GPL-2.0

//! PRIME export of GEM objects as virtio dma-bufs.
//!
//! An export is a `virtio_dma_buf` (other virtio drivers may ask its UUID, see
//! [`DriverObject::uuid`]) made with one of two tables, chosen per object at export:
//!
//! - CPU: shmem objects and device memory with a known memory type
//!   ([`DriverObject::vmap_io`] answers). mmap and vmap of the dma-buf are the object's own
//!   (`drm_gem_dmabuf_mmap` → the object's `mmap`, `drm_gem_dmabuf_vmap` → its `vmap`),
//!   so they take the same memory type as mappings through the DRM fd;
//! - no CPU: device memory without a usable memory type. mmap fails with `ENODEV`, and
//!   the table has no vmap, so `dma_buf_vmap()` refuses (`EINVAL`) without the warning it
//!   gives when a vmap callback fails.
//!
//! Importing devices get shmem pages through `drm_gem_map_dma_buf`, and device memory as
//! one DMA-mapped range without `struct page`, only if they accept peer-to-peer memory.
//! Nothing exported here ever moves: the exporter is static (no `pin`/`unpin` in the
//! table; attaching pins shmem pages through the GEM object's `pin`).
//!
//! C header: [`include/linux/virtio_dma_buf.h`](srctree/include/linux/virtio_dma_buf.h),
//! [`include/drm/drm_prime.h`](srctree/include/drm/drm_prime.h).

use super::{
    bindings,
    gem::{DriverObject, Object},
};
use core::marker::PhantomData;
use kernel::prelude::*;

/// One of the two `struct virtio_dma_buf_ops` of objects with data `T`.
#[repr(transparent)]
pub struct ExportOps<T: DriverObject>(bindings::virtio_dma_buf_ops, PhantomData<T>);

// SAFETY: The table is immutable and only read by the dma-buf core.
unsafe impl<T: DriverObject> Sync for ExportOps<T> {}

impl<T: DriverObject> ExportOps<T> {
    /// The table for exports the CPU may map (`cpu`) or not.
    pub(crate) const fn new(cpu: bool) -> Self {
        // SAFETY: All-zero is a valid table (no callbacks).
        let mut o: bindings::virtio_dma_buf_ops = unsafe { core::mem::zeroed() };
        // `virtio_dma_buf_export` requires this attach, which forwards to `device_attach`.
        o.ops.attach = Some(bindings::virtio_dma_buf_attach);
        o.ops.detach = Some(bindings::drm_gem_map_detach);
        o.ops.map_dma_buf = Some(map_callback::<T>);
        o.ops.unmap_dma_buf = Some(unmap_callback::<T>);
        o.ops.release = Some(bindings::drm_gem_dmabuf_release);
        if cpu {
            o.ops.mmap = Some(bindings::drm_gem_dmabuf_mmap);
            o.ops.vmap = Some(bindings::drm_gem_dmabuf_vmap);
            o.ops.vunmap = Some(bindings::drm_gem_dmabuf_vunmap);
        } else {
            o.ops.mmap = Some(mmap_refused);
        }
        o.device_attach = Some(bindings::drm_gem_map_attach);
        o.get_uuid = Some(uuid_callback::<T>);
        Self(o, PhantomData)
    }

    pub(super) fn as_raw(&self) -> *const bindings::virtio_dma_buf_ops {
        &self.0
    }
}

/// Exports `obj` (the GEM `export` callback): with the CPU table if the object can be
/// mapped, else with the other one.
///
/// # Safety
///
/// Called by the PRIME core with a live `Object<T>` (under the device's
/// `object_name_lock`).
pub(super) unsafe extern "C" fn export_callback<T: DriverObject>(
    gem: *mut bindings::drm_gem_object,
    flags: i32,
) -> *mut bindings::dma_buf {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { Object::<T>::from_gem(gem) };
    if obj.is_import() {
        // The core exports imports as the original dma-buf and never asks us.
        return EINVAL.to_ptr();
    }
    let ops = if obj.is_shmem() || T::vmap_io(obj).is_ok() {
        &T::FUNCS.export_cpu
    } else {
        &T::FUNCS.export_no_cpu
    };
    // SAFETY: `gem` is live; the helper takes the references the export holds.
    unsafe { bindings::vgpu_helper_prime_export(gem, flags, ops.as_raw()) }
}

/// # Safety
///
/// `attach` is an attachment to an export made by [`export_callback`] for an `Object<T>`.
unsafe fn attached<'a, T: DriverObject>(
    attach: *mut bindings::dma_buf_attachment,
) -> &'a Object<T> {
    // SAFETY: The dma-buf's private data is the exported object, which the dma-buf keeps
    // alive (reference taken at export).
    unsafe { Object::<T>::from_gem(bindings::vgpu_helper_attachment_gem(attach)) }
}

/// Maps the object for the importing device (the importer holds the reservation).
///
/// # Safety
///
/// Called by the dma-buf core with an attachment to one of our exports of `T`.
unsafe extern "C" fn map_callback<T: DriverObject>(
    attach: *mut bindings::dma_buf_attachment,
    dir: bindings::dma_data_direction,
) -> *mut bindings::sg_table {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { attached::<T>(attach) };
    if obj.is_shmem() {
        // SAFETY: The attachment pinned the pages (`drm_gem_map_attach` → `pin`); the
        // helper builds a table of them and maps it for `attach->dev`.
        return unsafe { bindings::drm_gem_map_dma_buf(attach, dir) };
    }
    let (window, offset, _) = match T::vmap_io(obj) {
        Ok(v) => v,
        Err(e) => return e.to_ptr(),
    };
    let Some(phys) = window.sub(offset, obj.size() as u64) else {
        return EINVAL.to_ptr();
    };
    // SAFETY: `phys .. phys + size` is device memory that stays present while the object
    // lives (`IoWindow` invariant), which the dma-buf keeps alive until after unmap.
    unsafe { bindings::vgpu_helper_map_resource(attach, phys, obj.size(), dir) }
}

/// # Safety
///
/// Called by the dma-buf core with a table [`map_callback`] returned for `attach`.
unsafe extern "C" fn unmap_callback<T: DriverObject>(
    attach: *mut bindings::dma_buf_attachment,
    sgt: *mut bindings::sg_table,
    dir: bindings::dma_data_direction,
) {
    // SAFETY: Per the function's safety requirements.
    let obj = unsafe { attached::<T>(attach) };
    if obj.is_shmem() {
        // SAFETY: `sgt` came from `drm_gem_map_dma_buf` for this attachment.
        unsafe { bindings::drm_gem_unmap_dma_buf(attach, sgt, dir) };
    } else {
        // SAFETY: `sgt` came from `vgpu_helper_map_resource` for this attachment.
        unsafe { bindings::vgpu_helper_unmap_resource(attach, sgt, dir) };
    }
}

/// mmap of an export the CPU must not map.
///
/// # Safety
///
/// Called by the dma-buf core; touches nothing.
unsafe extern "C" fn mmap_refused(
    _buf: *mut bindings::dma_buf,
    _vma: *mut bindings::vm_area_struct,
) -> i32 {
    ENODEV.to_errno()
}

/// # Safety
///
/// Called by `virtio_dma_buf_get_uuid` with one of our exports of `T` and room for a UUID.
unsafe extern "C" fn uuid_callback<T: DriverObject>(
    buf: *mut bindings::dma_buf,
    uuid: *mut bindings::uuid_t,
) -> i32 {
    // SAFETY: The dma-buf's private data is the exported object, kept alive by it.
    let obj = unsafe { Object::<T>::from_gem(bindings::vgpu_helper_dma_buf_gem(buf)) };
    match T::uuid(obj) {
        Ok(u) => {
            // SAFETY: `uuid` is valid for writes of a `uuid_t` (16 bytes).
            unsafe { uuid.cast::<[u8; 16]>().write(u) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// Whether `buf` is an export of an `Object<T>` of `dev`: then its object, with a new
/// reference, for PRIME self-import.
///
/// # Safety
///
/// `dev` is a live device and `buf` a live dma-buf.
pub(super) unsafe fn own_object<T: DriverObject>(
    dev: *mut bindings::drm_device,
    buf: *mut bindings::dma_buf,
) -> *mut bindings::drm_gem_object {
    // SAFETY: Per the function's safety requirements; the tables are ours.
    unsafe {
        bindings::vgpu_helper_prime_self(
            dev,
            buf,
            T::FUNCS.export_cpu.as_raw(),
            T::FUNCS.export_no_cpu.as_raw(),
        )
    }
}
