// SPDX-License-Identifier: GPL-2.0

//! `include/uapi/drm/virtgpu_drm.h`, field for field.
//!
//! The kernel build asserts these layouts against bindgen's view of the real header, so the
//! UAPI cannot drift from upstream's; the host tests check sizes and ioctl numbers.

/// `DRM_COMMAND_BASE`.
pub const DRM_COMMAND_BASE: u32 = 0x40;

pub const DRM_VIRTGPU_MAP: u32 = 0x01;
pub const DRM_VIRTGPU_EXECBUFFER: u32 = 0x02;
pub const DRM_VIRTGPU_GETPARAM: u32 = 0x03;
pub const DRM_VIRTGPU_RESOURCE_CREATE: u32 = 0x04;
pub const DRM_VIRTGPU_RESOURCE_INFO: u32 = 0x05;
pub const DRM_VIRTGPU_TRANSFER_FROM_HOST: u32 = 0x06;
pub const DRM_VIRTGPU_TRANSFER_TO_HOST: u32 = 0x07;
pub const DRM_VIRTGPU_WAIT: u32 = 0x08;
pub const DRM_VIRTGPU_GET_CAPS: u32 = 0x09;
pub const DRM_VIRTGPU_RESOURCE_CREATE_BLOB: u32 = 0x0a;
pub const DRM_VIRTGPU_CONTEXT_INIT: u32 = 0x0b;
/// Number of driver ioctls (the table covers `DRM_COMMAND_BASE + 1 ..= + 0x0b`).
pub const DRM_VIRTGPU_NUM_IOCTLS: u32 = 0x0b;

/// `_IOWR('d', DRM_COMMAND_BASE + nr, T)` with the asm-generic encoding (arm64, x86).
pub const fn drm_iowr(nr: u32, size: usize) -> u32 {
    const IOC_READ_WRITE: u32 = 3;
    (IOC_READ_WRITE << 30) | ((size as u32) << 16) | ((b'd' as u32) << 8) | (DRM_COMMAND_BASE + nr)
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpuMap {
    pub offset: u64,
    pub handle: u32,
    pub pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpuExecbuffer {
    pub flags: u32,
    pub size: u32,
    pub command: u64,
    pub bo_handles: u64,
    pub num_bo_handles: u32,
    pub fence_fd: i32,
    pub ring_idx: u32,
    pub syncobj_stride: u32,
    pub num_in_syncobjs: u32,
    pub num_out_syncobjs: u32,
    pub in_syncobjs: u64,
    pub out_syncobjs: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpuGetparam {
    pub param: u64,
    pub value: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpuResourceCreate {
    pub target: u32,
    pub format: u32,
    pub bind: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub array_size: u32,
    pub last_level: u32,
    pub nr_samples: u32,
    pub flags: u32,
    pub bo_handle: u32,
    pub res_handle: u32,
    pub size: u32,
    pub stride: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpuResourceInfo {
    pub bo_handle: u32,
    pub res_handle: u32,
    pub size: u32,
    pub blob_mem: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpu3dBox {
    pub x: u32,
    pub y: u32,
    pub z: u32,
    pub w: u32,
    pub h: u32,
    pub d: u32,
}

/// Both transfer directions share this layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpu3dTransfer {
    pub bo_handle: u32,
    pub box_: DrmVirtgpu3dBox,
    pub level: u32,
    pub offset: u32,
    pub stride: u32,
    pub layer_stride: u32,
}

/// `VIRTGPU_WAIT_NOWAIT`: report `EBUSY` instead of waiting.
pub const VIRTGPU_WAIT_NOWAIT: u32 = 1;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpu3dWait {
    pub handle: u32,
    pub flags: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpuGetCaps {
    pub cap_set_id: u32,
    pub cap_set_ver: u32,
    pub addr: u64,
    pub size: u32,
    pub pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpuResourceCreateBlob {
    pub blob_mem: u32,
    pub blob_flags: u32,
    pub bo_handle: u32,
    pub res_handle: u32,
    pub size: u64,
    pub pad: u32,
    pub cmd_size: u32,
    pub cmd: u64,
    pub blob_id: u64,
    pub blob_hints: u32,
    pub pad2: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVirtgpuContextInit {
    pub num_params: u32,
    pub pad: u32,
    pub ctx_set_params: u64,
}

macro_rules! ioctl_nr {
    ($name:ident, $nr:ident, $ty:ty) => {
        pub const $name: u32 = drm_iowr($nr, core::mem::size_of::<$ty>());
    };
}
ioctl_nr!(DRM_IOCTL_VIRTGPU_MAP, DRM_VIRTGPU_MAP, DrmVirtgpuMap);
ioctl_nr!(
    DRM_IOCTL_VIRTGPU_EXECBUFFER,
    DRM_VIRTGPU_EXECBUFFER,
    DrmVirtgpuExecbuffer
);
ioctl_nr!(
    DRM_IOCTL_VIRTGPU_GETPARAM,
    DRM_VIRTGPU_GETPARAM,
    DrmVirtgpuGetparam
);
ioctl_nr!(
    DRM_IOCTL_VIRTGPU_RESOURCE_CREATE,
    DRM_VIRTGPU_RESOURCE_CREATE,
    DrmVirtgpuResourceCreate
);
ioctl_nr!(
    DRM_IOCTL_VIRTGPU_RESOURCE_INFO,
    DRM_VIRTGPU_RESOURCE_INFO,
    DrmVirtgpuResourceInfo
);
ioctl_nr!(
    DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST,
    DRM_VIRTGPU_TRANSFER_FROM_HOST,
    DrmVirtgpu3dTransfer
);
ioctl_nr!(
    DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST,
    DRM_VIRTGPU_TRANSFER_TO_HOST,
    DrmVirtgpu3dTransfer
);
ioctl_nr!(DRM_IOCTL_VIRTGPU_WAIT, DRM_VIRTGPU_WAIT, DrmVirtgpu3dWait);
ioctl_nr!(
    DRM_IOCTL_VIRTGPU_GET_CAPS,
    DRM_VIRTGPU_GET_CAPS,
    DrmVirtgpuGetCaps
);
ioctl_nr!(
    DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB,
    DRM_VIRTGPU_RESOURCE_CREATE_BLOB,
    DrmVirtgpuResourceCreateBlob
);
ioctl_nr!(
    DRM_IOCTL_VIRTGPU_CONTEXT_INIT,
    DRM_VIRTGPU_CONTEXT_INIT,
    DrmVirtgpuContextInit
);

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::size_of;

    #[test]
    fn struct_sizes_match_the_c_header() {
        assert_eq!(size_of::<DrmVirtgpuMap>(), 16);
        assert_eq!(size_of::<DrmVirtgpuExecbuffer>(), 64);
        assert_eq!(size_of::<DrmVirtgpuGetparam>(), 16);
        assert_eq!(size_of::<DrmVirtgpuResourceCreate>(), 56);
        assert_eq!(size_of::<DrmVirtgpuResourceInfo>(), 16);
        assert_eq!(size_of::<DrmVirtgpu3dTransfer>(), 44);
        assert_eq!(size_of::<DrmVirtgpu3dWait>(), 8);
        assert_eq!(size_of::<DrmVirtgpuGetCaps>(), 24);
        assert_eq!(size_of::<DrmVirtgpuResourceCreateBlob>(), 56);
        assert_eq!(size_of::<DrmVirtgpuContextInit>(), 16);
    }

    #[test]
    fn ioctl_numbers_match_libdrm() {
        // Values as printed by a C program including <drm/virtgpu_drm.h>.
        assert_eq!(DRM_IOCTL_VIRTGPU_GETPARAM, 0xc0106443);
        assert_eq!(DRM_IOCTL_VIRTGPU_GET_CAPS, 0xc0186449);
        assert_eq!(DRM_IOCTL_VIRTGPU_MAP, 0xc0106441);
        assert_eq!(DRM_IOCTL_VIRTGPU_CONTEXT_INIT, 0xc010644b);
        assert_eq!(DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, 0xc038644a);
    }
}
