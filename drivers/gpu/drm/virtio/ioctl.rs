// SPDX-License-Identifier: GPL-2.0

//! `DRM_IOCTL_VIRTGPU_*` handlers.

use crate::ext::drm::{Device, File};
use crate::proto::{
    params::{self, ParamError},
    uapi,
};
use crate::VirtGpuDrm;
use kernel::{prelude::*, uaccess::UserSlice};

type Dev = Device<VirtGpuDrm>;
type Fil = File<VirtGpuDrm>;

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

/// Ioctls of the upstream UAPI this driver does not implement yet. They fail loudly with
/// `EOPNOTSUPP` instead of pretending to work.
pub(crate) fn not_implemented<U>(_dev: &Dev, _args: &mut U, _file: &Fil) -> Result<u32> {
    Err(crate::errno::eopnotsupp())
}

/// The ioctl table, in upstream's numbering.
pub(crate) const IOCTLS: &[crate::ext::bindings::drm_ioctl_desc] = {
    use crate::ext::bindings::drm_ioctl_flags_DRM_RENDER_ALLOW as RENDER;
    use uapi::*;
    crate::declare_ioctls!(VirtGpuDrm;
        (DRM_IOCTL_VIRTGPU_MAP, "VIRTGPU_MAP", DrmVirtgpuMap, RENDER, not_implemented),
        (DRM_IOCTL_VIRTGPU_EXECBUFFER, "VIRTGPU_EXECBUFFER", DrmVirtgpuExecbuffer, RENDER, not_implemented),
        (DRM_IOCTL_VIRTGPU_GETPARAM, "VIRTGPU_GETPARAM", DrmVirtgpuGetparam, RENDER, getparam),
        (DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, "VIRTGPU_RESOURCE_CREATE", DrmVirtgpuResourceCreate, RENDER, not_implemented),
        (DRM_IOCTL_VIRTGPU_RESOURCE_INFO, "VIRTGPU_RESOURCE_INFO", DrmVirtgpuResourceInfo, RENDER, not_implemented),
        (DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST, "VIRTGPU_TRANSFER_FROM_HOST", DrmVirtgpu3dTransfer, RENDER, not_implemented),
        (DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST, "VIRTGPU_TRANSFER_TO_HOST", DrmVirtgpu3dTransfer, RENDER, not_implemented),
        (DRM_IOCTL_VIRTGPU_WAIT, "VIRTGPU_WAIT", DrmVirtgpu3dWait, RENDER, not_implemented),
        (DRM_IOCTL_VIRTGPU_GET_CAPS, "VIRTGPU_GET_CAPS", DrmVirtgpuGetCaps, RENDER, get_caps),
        (DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, "VIRTGPU_RESOURCE_CREATE_BLOB", DrmVirtgpuResourceCreateBlob, RENDER, not_implemented),
        (DRM_IOCTL_VIRTGPU_CONTEXT_INIT, "VIRTGPU_CONTEXT_INIT", DrmVirtgpuContextInit, RENDER, not_implemented),
    )
};
