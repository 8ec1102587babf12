// SPDX-License-Identifier: GPL-2.0

//! `DRM_IOCTL_VIRTGPU_*` handlers.

use crate::context::DEBUG_NAME_LEN;
use crate::drv::VirtGpu;
use crate::ext::drm::DumbBuffer;
use crate::ext::gem::ResvUsage;
use crate::object::{self, Kind, VgObject, VirtGpuObject};
use crate::proto::{
    params::{self, ParamError},
    uapi,
    validate::{self, TransferDir},
    wire::{self, WithEntries},
};
use crate::{VgDevice as Dev, VgFile, VirtGpuDrm};
use kernel::{
    alloc::flags::__GFP_NOWARN,
    prelude::*,
    uaccess::{UserPtr, UserSlice},
};

type Fil = VgFile;

/// `DRM_IOCTL_VIRTGPU_GETPARAM`: writes an `int` to `value`, as the C driver does.
pub(crate) fn getparam(dev: &Dev, args: &mut uapi::DrmVirtgpuGetparam, _file: &Fil) -> Result<u32> {
    let value = params::getparam(&dev.data().caps, args.param).map_err(|e| match e {
        ParamError::Unknown => EINVAL,
        ParamError::NotNegotiated => ENOENT,
    })?;
    UserSlice::new(kernel::uaccess::UserPtr::from_addr(args.value as usize), 4)
        .writer()
        .write_slice(&value.to_ne_bytes())?;
    Ok(0)
}

/// `DRM_IOCTL_VIRTGPU_GET_CAPS`: copies `min(size, max_size)` bytes of a capset.
pub(crate) fn get_caps(dev: &Dev, args: &mut uapi::DrmVirtgpuGetCaps, _file: &Fil) -> Result<u32> {
    let gpu = dev.data();
    let _guard = dev.enter().ok_or(ENODEV)?;
    let mut buf = KVec::new();
    gpu.capsets.read(
        &gpu.queues.ctrl,
        args.cap_set_id,
        args.cap_set_ver,
        &mut buf,
        args.size,
    )?;
    UserSlice::new(
        kernel::uaccess::UserPtr::from_addr(args.addr as usize),
        buf.len(),
    )
    .writer()
    .write_slice(&buf)?;
    Ok(0)
}

/// An errno of the validation rules in `proto::validate`.
fn invalid(e: validate::Errno) -> Error {
    Error::from_errno(-e.code())
}

/// The guest backing of `obj` goes to the host: RESOURCE_ATTACH_BACKING with its pages.
pub(crate) fn attach_backing(gpu: &VirtGpu, obj: &VgObject, ents: &[(u64, u32)]) -> Result {
    let size = wire::attach_backing_size(ents.len()).ok_or(ENOMEM)?;
    let mut buf = KVec::from_elem(0u8, size, GFP_KERNEL | __GFP_NOWARN)?;
    let nr_entries = u32::try_from(ents.len()).map_err(|_| ENOMEM)?;
    wire::ResourceAttachBacking {
        resource_id: obj.res_id(),
        nr_entries,
    }
    .encode_into(&wire::CtrlHdr::default(), &mut buf)
    .map_err(|_| EINVAL)?;
    encode_entries::<wire::ResourceAttachBacking>(&mut buf, ents)?;
    gpu.queues.ctrl.command(&buf)
}

pub(crate) fn encode_entries<M: WithEntries>(buf: &mut [u8], ents: &[(u64, u32)]) -> Result {
    for (i, &(addr, length)) in ents.iter().enumerate() {
        M::encode_entry(buf, i, &wire::MemEntry { addr, length }).map_err(|_| EINVAL)?;
    }
    Ok(())
}

/// A shmem object of `size` bytes whose host resource `create` makes (given its id), then
/// backed by its pages (ATTACH_BACKING) and listed.
fn new_resource(
    dev: &Dev,
    kind: Kind,
    size: usize,
    create: impl FnOnce(u32) -> Result,
) -> Result<kernel::sync::aref::ARef<VgObject>> {
    let gpu = dev.data();
    let obj = VgObject::new_shmem(dev, size, VirtGpuObject::new(&dev.data_arc(), kind, 0))?;
    let ents = object::backing_entries(&obj)?;
    // From here on the host may know the id, even if the answer never comes: the
    // release then sends RESOURCE_UNREF before the id can be reused.
    obj.set_created();
    create(obj.res_id())?;
    attach_backing(gpu, &obj, &ents)?;
    gpu.objects.insert(&obj)?;
    Ok(obj)
}

/// `DRM_IOCTL_VIRTGPU_RESOURCE_CREATE`: a 2D resource (3D with virgl) with shmem backing.
pub(crate) fn resource_create(
    dev: &Dev,
    args: &mut uapi::DrmVirtgpuResourceCreate,
    file: &VgFile,
) -> Result<u32> {
    let gpu = dev.data();
    let _guard = dev.enter().ok_or(ENODEV)?;
    let v = validate::resource_create(&gpu.caps, &gpu.limits, args).map_err(invalid)?;
    let kind = match v.kind {
        validate::ResourceKind::TwoD => Kind::Res2d,
        validate::ResourceKind::ThreeD => {
            file.data().ensure()?;
            Kind::Res3d
        }
    };
    let size = usize::try_from(v.backing_size).map_err(|_| ENOMEM)?;
    let hdr = wire::CtrlHdr::default();
    let obj = new_resource(dev, kind, size, |id| match kind {
        Kind::Res2d => gpu.queues.ctrl.command(
            &wire::ResourceCreate2d {
                resource_id: id,
                format: args.format,
                width: args.width,
                height: args.height,
            }
            .encode(&hdr),
        ),
        _ => gpu.queues.ctrl.command(
            &wire::ResourceCreate3d {
                resource_id: id,
                target: args.target,
                format: args.format,
                bind: args.bind,
                width: args.width,
                height: args.height,
                depth: args.depth,
                array_size: args.array_size,
                last_level: args.last_level,
                nr_samples: args.nr_samples,
                flags: args.flags,
            }
            .encode(&hdr),
        ),
    })?;
    args.bo_handle = obj.create_handle(file)?;
    args.res_handle = obj.res_id();
    Ok(0)
}

/// `DRM_IOCTL_MODE_CREATE_DUMB` (primary node): as upstream, a 2D resource of 32-bit
/// XRGB pixels with guest pages, `width * 4` bytes per row; other depths are `EINVAL`.
/// A 2D resource on the GL device too, so clients that know nothing of virgl (IGT, simple
/// buffer users) get a plain buffer. Sizes beyond the backing cap are `EINVAL`.
pub(crate) fn dumb_create(
    dev: &Dev,
    file: &VgFile,
    width: u32,
    height: u32,
    bpp: u32,
) -> Result<DumbBuffer> {
    let gpu = dev.data();
    let _guard = dev.enter().ok_or(ENODEV)?;
    if bpp != 32 {
        return Err(EINVAL);
    }
    let pitch = width.checked_mul(4).ok_or(EINVAL)?;
    let page = gpu.limits.page_size;
    let size = u64::from(pitch)
        .checked_mul(u64::from(height))
        .and_then(|s| s.checked_next_multiple_of(page))
        .filter(|&s| s > 0 && s <= gpu.limits.max_backing)
        .ok_or(EINVAL)?;
    let len = usize::try_from(size).map_err(|_| EINVAL)?;
    let obj = new_resource(dev, Kind::Res2d, len, |id| {
        gpu.queues.ctrl.command(
            &wire::ResourceCreate2d {
                resource_id: id,
                format: wire::formats::B8G8R8X8_UNORM,
                width,
                height,
            }
            .encode(&wire::CtrlHdr::default()),
        )
    })?;
    Ok(DumbBuffer {
        handle: obj.create_handle(file)?,
        pitch,
        size,
    })
}

/// `DRM_IOCTL_VIRTGPU_RESOURCE_INFO`.
pub(crate) fn resource_info(
    _dev: &Dev,
    args: &mut uapi::DrmVirtgpuResourceInfo,
    file: &VgFile,
) -> Result<u32> {
    let obj = VgObject::lookup(file, args.bo_handle)?;
    args.size = u32::try_from(obj.size()).unwrap_or(u32::MAX);
    args.res_handle = obj.res_id();
    args.blob_mem = match obj.kind {
        Kind::Import if obj.state().import == object::ImportHost::GuestBlob => wire::BLOB_MEM_GUEST,
        k => k.blob_mem(),
    };
    Ok(0)
}

/// `DRM_IOCTL_VIRTGPU_MAP`: the offset to pass to `mmap` for the object. `ENODEV` for an
/// import whose exporter cannot be mapped (the mapping would be the exporter's).
pub(crate) fn map(_dev: &Dev, args: &mut uapi::DrmVirtgpuMap, file: &VgFile) -> Result<u32> {
    let obj = VgObject::lookup(file, args.handle)?;
    if !obj.cpu_mappable() {
        return Err(ENODEV);
    }
    args.offset = obj.mmap_offset();
    Ok(0)
}

/// `DRM_IOCTL_VIRTGPU_WAIT`: waits for the host work on the object: transfers other threads
/// have pending, and the fences of submissions using it (its reservation), at most 15 s
/// (`EBUSY` after, as upstream); with `NOWAIT`, `EBUSY` instead of waiting.
pub(crate) fn wait(_dev: &Dev, args: &mut uapi::DrmVirtgpu3dWait, file: &VgFile) -> Result<u32> {
    let obj = VgObject::lookup(file, args.handle)?;
    if args.flags & uapi::VIRTGPU_WAIT_NOWAIT != 0 {
        return (obj.try_idle() && obj.resv_idle(ResvUsage::Read))
            .then_some(0)
            .ok_or(EBUSY);
    }
    obj.wait_idle();
    let timeout = kernel::time::msecs_to_jiffies(15_000) as usize;
    obj.resv_wait(ResvUsage::Read, true, timeout)?
        .then_some(0)
        .ok_or(EBUSY)
}

fn transfer(
    dev: &Dev,
    args: &uapi::DrmVirtgpu3dTransfer,
    file: &VgFile,
    dir: TransferDir,
) -> Result<u32> {
    let gpu = dev.data();
    let _guard = dev.enter().ok_or(ENODEV)?;
    // Before the lookup, as upstream: a 2D device answers ENOSYS even for bad handles.
    validate::transfer_supported(&gpu.caps, dir).map_err(invalid)?;
    let obj = VgObject::lookup(file, args.bo_handle)?;
    let import = (obj.kind == Kind::Import).then(|| obj.state().import);
    let desc = validate::TransferObject {
        size: obj.size() as u64,
        // An import used by a venus context is a guest blob on the host.
        guest_blob: matches!(obj.kind, Kind::BlobGuest | Kind::BlobHost3dGuest)
            || import == Some(object::ImportHost::GuestBlob),
        host3d_blob: matches!(obj.kind, Kind::BlobHost3d | Kind::BlobHost3dGuest),
    };
    let t = validate::transfer(&gpu.caps, dir, args, &desc).map_err(invalid)?;
    if import.is_some() {
        // Its first transfer gives the import a host resource to transfer to and from.
        crate::prime::import_use(&obj, file.data(), crate::prime::Use::Transfer)?;
    }
    // After the file's earlier submissions, which may render into or read the object.
    file.data().entity().wait_sent()?;
    let _busy = obj.busy();
    let sgt = if obj.kind.has_pages() && !gpu.dma_quirk {
        Some(obj.shmem_sg_table()?)
    } else {
        None
    };
    if let (Some(sgt), TransferDir::ToHost) = (&sgt, dir) {
        sgt.sync_for_device();
    }
    match t {
        validate::Transfer::ToHost2d { x, y, w, h, offset } => gpu.queues.ctrl.command(
            &wire::TransferToHost2d {
                r: wire::Rect {
                    x,
                    y,
                    width: w,
                    height: h,
                },
                offset,
                resource_id: obj.res_id(),
            }
            .encode(&wire::CtrlHdr::default()),
        )?,
        validate::Transfer::Host3d {
            dir,
            bx,
            level,
            stride,
            layer_stride,
            offset,
        } => {
            file.data().ensure()?;
            let hdr = wire::CtrlHdr::ctx(file.data().ctx_id());
            // One layout, two command types.
            macro_rules! transfer_3d {
                ($t:ident) => {
                    gpu.queues.ctrl.command(
                        &wire::$t {
                            box_: bx,
                            offset,
                            resource_id: obj.res_id(),
                            level,
                            stride,
                            layer_stride,
                        }
                        .encode(&hdr),
                    )?
                };
            }
            match dir {
                TransferDir::ToHost => transfer_3d!(TransferToHost3d),
                TransferDir::FromHost => transfer_3d!(TransferFromHost3d),
            }
        }
    }
    if let (Some(sgt), TransferDir::FromHost) = (&sgt, dir) {
        sgt.sync_for_cpu();
    }
    Ok(0)
}

/// `DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST`.
pub(crate) fn transfer_to_host(
    dev: &Dev,
    args: &mut uapi::DrmVirtgpu3dTransfer,
    file: &VgFile,
) -> Result<u32> {
    transfer(dev, args, file, TransferDir::ToHost)
}

/// `DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST`.
pub(crate) fn transfer_from_host(
    dev: &Dev,
    args: &mut uapi::DrmVirtgpu3dTransfer,
    file: &VgFile,
) -> Result<u32> {
    transfer(dev, args, file, TransferDir::FromHost)
}

/// `DRM_IOCTL_VIRTGPU_CONTEXT_INIT`: the file's context with a capset, rings and a name.
pub(crate) fn context_init(
    dev: &Dev,
    args: &mut uapi::DrmVirtgpuContextInit,
    file: &VgFile,
) -> Result<u32> {
    let gpu = dev.data();
    let _guard = dev.enter().ok_or(ENODEV)?;
    let len = validate::context_init_params_len(&gpu.caps, args.num_params).map_err(invalid)?;
    let mut raw = KVec::new();
    UserSlice::new(UserPtr::from_addr(args.ctx_set_params as usize), len)
        .reader()
        .read_all(&mut raw, GFP_KERNEL | __GFP_NOWARN)?;
    let fpriv = file.data();
    if fpriv.created() {
        return Err(EEXIST);
    }
    let mut b = validate::ContextInitBuilder::new(&gpu.caps);
    for p in raw.chunks_exact(validate::CONTEXT_SET_PARAM_SIZE) {
        let (param, value) = p.split_at(8);
        let ne = |s: &[u8]| u64::from_ne_bytes(s.try_into().unwrap_or([0; 8]));
        b.param(ne(param), ne(value)).map_err(invalid)?;
    }
    let params = b.finish().map_err(invalid)?;
    let name = match params.debug_name {
        Some(ptr) => {
            let mut n = [0u8; DEBUG_NAME_LEN];
            // At most 63 characters plus the NUL, as upstream.
            let len = UserSlice::new(UserPtr::from_addr(ptr as usize), DEBUG_NAME_LEN - 1)
                .reader()
                .strcpy_into_buf(&mut n)?
                .to_bytes()
                .len();
            Some((n, len))
        }
        None => None,
    };
    fpriv.init(params, name)?;
    Ok(0)
}

/// `DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB`: guest blobs (shmem), host3d blobs (host
/// memory, mappable through the host-visible region) and host3d-guest blobs.
pub(crate) fn resource_create_blob(
    dev: &Dev,
    args: &mut uapi::DrmVirtgpuResourceCreateBlob,
    file: &VgFile,
) -> Result<u32> {
    let gpu = dev.data();
    let _guard = dev.enter().ok_or(ENODEV)?;
    let v = validate::resource_create_blob(&gpu.caps, &gpu.limits, args).map_err(invalid)?;
    let fpriv = file.data();
    fpriv.ensure()?;
    if v.cmd_size > 0 {
        // In the context's order: after the file's earlier submissions.
        fpriv.entity().wait_sent()?;
        // The inline command (e.g. virgl's resource creation for this blob id) runs in the
        // file's context before the blob is created.
        let hdr = wire::CtrlHdr::ctx(fpriv.ctx_id());
        let cmd = crate::submit::user_submit_3d(&hdr, v.cmd_size, args.cmd)?;
        gpu.queues.ctrl.command_buf(cmd)?;
    }
    let kind = match v.mem {
        validate::BlobMem::Guest => Kind::BlobGuest,
        validate::BlobMem::Host3d => Kind::BlobHost3d,
        validate::BlobMem::Host3dGuest => Kind::BlobHost3dGuest,
    };
    let size = usize::try_from(v.size).map_err(|_| ENOMEM)?;
    let data = VirtGpuObject::new(&dev.data_arc(), kind, v.flags);
    let obj = if kind.has_pages() {
        VgObject::new_shmem(dev, size, data)?
    } else {
        VgObject::new_private(dev, size, data)?
    };
    let ents = if kind.has_pages() {
        object::backing_entries(&obj)?
    } else {
        KVVec::new()
    };
    let nr_entries = u32::try_from(ents.len()).map_err(|_| ENOMEM)?;
    let mut buf = KVec::from_elem(
        0u8,
        wire::create_blob_size(ents.len()).ok_or(ENOMEM)?,
        GFP_KERNEL,
    )?;
    // Host blobs belong to the file's context; guest blobs to none.
    let hdr = if v.mem.host3d() {
        wire::CtrlHdr::ctx(fpriv.ctx_id())
    } else {
        wire::CtrlHdr::default()
    };
    wire::ResourceCreateBlob {
        resource_id: obj.res_id(),
        blob_mem: v.mem.value(),
        blob_flags: v.flags,
        nr_entries,
        blob_id: v.blob_id,
        size: v.size,
    }
    .encode_into(&hdr, &mut buf)
    .map_err(|_| EINVAL)?;
    encode_entries::<wire::ResourceCreateBlob>(&mut buf, &ents)?;
    obj.set_created();
    gpu.queues.ctrl.command(&buf)?;
    gpu.objects.insert(&obj)?;
    if v.map_now {
        obj.map_blob(size)?;
        gpu.objects.update(&obj);
    }
    args.bo_handle = obj.create_handle(file)?;
    args.res_handle = obj.res_id();
    Ok(0)
}

/// The ioctl table, in upstream's numbering.
pub(crate) const IOCTLS: &[crate::ext::bindings::drm_ioctl_desc] = {
    use crate::ext::bindings::drm_ioctl_flags_DRM_RENDER_ALLOW as RENDER;
    use uapi::*;
    crate::declare_ioctls!(VirtGpuDrm;
        (DRM_IOCTL_VIRTGPU_MAP, "VIRTGPU_MAP", DrmVirtgpuMap, RENDER, map),
        (DRM_IOCTL_VIRTGPU_EXECBUFFER, "VIRTGPU_EXECBUFFER", DrmVirtgpuExecbuffer, RENDER, crate::submit::execbuffer),
        (DRM_IOCTL_VIRTGPU_GETPARAM, "VIRTGPU_GETPARAM", DrmVirtgpuGetparam, RENDER, getparam),
        (DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, "VIRTGPU_RESOURCE_CREATE", DrmVirtgpuResourceCreate, RENDER, resource_create),
        (DRM_IOCTL_VIRTGPU_RESOURCE_INFO, "VIRTGPU_RESOURCE_INFO", DrmVirtgpuResourceInfo, RENDER, resource_info),
        (DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST, "VIRTGPU_TRANSFER_FROM_HOST", DrmVirtgpu3dTransfer, RENDER, transfer_from_host),
        (DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST, "VIRTGPU_TRANSFER_TO_HOST", DrmVirtgpu3dTransfer, RENDER, transfer_to_host),
        (DRM_IOCTL_VIRTGPU_WAIT, "VIRTGPU_WAIT", DrmVirtgpu3dWait, RENDER, wait),
        (DRM_IOCTL_VIRTGPU_GET_CAPS, "VIRTGPU_GET_CAPS", DrmVirtgpuGetCaps, RENDER, get_caps),
        (DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, "VIRTGPU_RESOURCE_CREATE_BLOB", DrmVirtgpuResourceCreateBlob, RENDER, resource_create_blob),
        (DRM_IOCTL_VIRTGPU_CONTEXT_INIT, "VIRTGPU_CONTEXT_INIT", DrmVirtgpuContextInit, RENDER, context_init),
    )
};
