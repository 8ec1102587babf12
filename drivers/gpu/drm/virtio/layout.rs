// SPDX-License-Identifier: GPL-2.0

//! Compile-time proof that the pure-Rust UAPI and wire definitions match the C headers
//! of the kernel being built against (as bindgen sees them).

use crate::ext::bindings as b;
use crate::proto::{uapi, wire};
use core::mem::{offset_of, size_of};

/// Same size, and every listed field at the same offset (bindgen names C's `box` `box_`,
/// as our struct does).
macro_rules! same_layout {
    ($ours:ty, $c:ty, [$($f:ident),* $(,)?]) => {
        const _: () = {
            assert!(size_of::<$ours>() == size_of::<$c>());
            $( assert!(offset_of!($ours, $f) == offset_of!($c, $f)); )*
        };
    };
}

same_layout!(
    uapi::DrmVirtgpuMap,
    b::drm_virtgpu_map,
    [offset, handle, pad]
);
same_layout!(
    uapi::DrmVirtgpuExecbuffer,
    b::drm_virtgpu_execbuffer,
    [
        flags,
        size,
        command,
        bo_handles,
        num_bo_handles,
        fence_fd,
        ring_idx,
        syncobj_stride,
        num_in_syncobjs,
        num_out_syncobjs,
        in_syncobjs,
        out_syncobjs
    ]
);
same_layout!(
    uapi::DrmVirtgpuGetparam,
    b::drm_virtgpu_getparam,
    [param, value]
);
same_layout!(
    uapi::DrmVirtgpuResourceCreate,
    b::drm_virtgpu_resource_create,
    [
        target, format, bind, width, height, depth, array_size, last_level, nr_samples, flags,
        bo_handle, res_handle, size, stride
    ]
);
same_layout!(
    uapi::DrmVirtgpuResourceInfo,
    b::drm_virtgpu_resource_info,
    [bo_handle, res_handle, size, blob_mem]
);
same_layout!(
    uapi::DrmVirtgpu3dTransfer,
    b::drm_virtgpu_3d_transfer_to_host,
    [bo_handle, box_, level, offset, stride, layer_stride]
);
same_layout!(
    uapi::DrmVirtgpu3dTransfer,
    b::drm_virtgpu_3d_transfer_from_host,
    [bo_handle, level, offset]
);
same_layout!(
    uapi::DrmVirtgpu3dWait,
    b::drm_virtgpu_3d_wait,
    [handle, flags]
);
same_layout!(
    uapi::DrmVirtgpuGetCaps,
    b::drm_virtgpu_get_caps,
    [cap_set_id, cap_set_ver, addr, size, pad]
);
same_layout!(
    uapi::DrmVirtgpuResourceCreateBlob,
    b::drm_virtgpu_resource_create_blob,
    [
        blob_mem, blob_flags, bo_handle, res_handle, size, pad, cmd_size, cmd, blob_id, blob_hints,
        pad2
    ]
);
same_layout!(
    uapi::DrmVirtgpuContextInit,
    b::drm_virtgpu_context_init,
    [num_params, pad, ctx_set_params]
);

const _: () = {
    assert!(size_of::<b::virtio_gpu_ctrl_hdr>() == wire::HDR_SIZE);
    assert!(size_of::<b::virtio_gpu_get_capset_info>() == wire::GET_CAPSET_INFO_SIZE);
    assert!(size_of::<b::virtio_gpu_resp_capset_info>() == wire::RESP_CAPSET_INFO_SIZE);
    assert!(size_of::<b::virtio_gpu_get_capset>() == wire::GET_CAPSET_SIZE);
    assert!(offset_of!(b::virtio_gpu_config, num_scanouts) == wire::config::NUM_SCANOUTS);
    assert!(offset_of!(b::virtio_gpu_config, num_capsets) == wire::config::NUM_CAPSETS);
    assert!(offset_of!(b::virtio_gpu_config, blob_alignment) == wire::config::BLOB_ALIGNMENT);
    assert!(b::VIRTIO_GPU_F_BLOB_ALIGNMENT == crate::proto::features::F_BLOB_ALIGNMENT);
    assert!(b::virtio_gpu_shm_id_VIRTIO_GPU_SHM_ID_HOST_VISIBLE as u8 == wire::SHM_ID_HOST_VISIBLE);
    assert!(
        b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB
            == wire::cmd::RESOURCE_UNMAP_BLOB
    );
    assert!(
        b::virtio_gpu_ctrl_type_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
            == wire::cmd::RESP_ERR_INVALID_PARAMETER
    );
    assert!(b::DRM_VIRTGPU_CONTEXT_INIT == uapi::DRM_VIRTGPU_CONTEXT_INIT);
};
