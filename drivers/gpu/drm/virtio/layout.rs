// SPDX-License-Identifier: GPL-2.0

//! Compile-time proof that the pure-Rust UAPI and wire definitions match the C headers
//! of the kernel being built against (as bindgen sees them).

use crate::ext::bindings as b;
use crate::proto::{uapi, wire, wire::formats};
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

/// A control-queue message: header at offset 0, our fields (which follow the header) at
/// the C offsets, same size and type code.
macro_rules! same_msg_layout {
    ($ours:ty, $c:ty, $type_:expr, [$($f:ident),* $(,)?]) => {
        const _: () = {
            assert!(<$ours as wire::Msg>::SIZE == size_of::<$c>());
            assert!(<$ours as wire::Msg>::TYPE == $type_);
            assert!(offset_of!($c, hdr) == 0);
            $( assert!(wire::HDR_SIZE + offset_of!($ours, $f) == offset_of!($c, $f)); )*
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

same_layout!(
    wire::CtrlHdr,
    b::virtio_gpu_ctrl_hdr,
    [type_, flags, fence_id, ctx_id, ring_idx]
);
same_layout!(wire::Rect, b::virtio_gpu_rect, [x, y, width, height]);
same_layout!(wire::Box3d, b::virtio_gpu_box, [x, y, z, w, h, d]);
same_layout!(wire::MemEntry, b::virtio_gpu_mem_entry, [addr, length]);

same_msg_layout!(
    wire::GetCapsetInfo,
    b::virtio_gpu_get_capset_info,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_GET_CAPSET_INFO,
    [capset_index]
);
same_msg_layout!(
    wire::RespCapsetInfo,
    b::virtio_gpu_resp_capset_info,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_RESP_OK_CAPSET_INFO,
    [capset_id, capset_max_version, capset_max_size]
);
same_msg_layout!(
    wire::GetCapset,
    b::virtio_gpu_get_capset,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_GET_CAPSET,
    [capset_id, capset_version]
);
same_msg_layout!(
    wire::ResourceCreate2d,
    b::virtio_gpu_resource_create_2d,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
    [resource_id, format, width, height]
);
same_msg_layout!(
    wire::ResourceCreate3d,
    b::virtio_gpu_resource_create_3d,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
    [
        resource_id,
        target,
        format,
        bind,
        width,
        height,
        depth,
        array_size,
        last_level,
        nr_samples,
        flags
    ]
);
same_msg_layout!(
    wire::ResourceUnref,
    b::virtio_gpu_resource_unref,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_UNREF,
    [resource_id]
);
same_msg_layout!(
    wire::ResourceAttachBacking,
    b::virtio_gpu_resource_attach_backing,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
    [resource_id, nr_entries]
);
same_msg_layout!(
    wire::ResourceDetachBacking,
    b::virtio_gpu_resource_detach_backing,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
    [resource_id]
);
same_msg_layout!(
    wire::TransferToHost2d,
    b::virtio_gpu_transfer_to_host_2d,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
    [r, offset, resource_id]
);
same_msg_layout!(
    wire::TransferToHost3d,
    b::virtio_gpu_transfer_host_3d,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
    [box_, offset, resource_id, level, stride, layer_stride]
);
same_msg_layout!(
    wire::TransferFromHost3d,
    b::virtio_gpu_transfer_host_3d,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
    [box_, offset, resource_id, level, stride, layer_stride]
);
same_msg_layout!(
    wire::CtxCreate,
    b::virtio_gpu_ctx_create,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_CTX_CREATE,
    [nlen, context_init, debug_name]
);
same_msg_layout!(
    wire::CtxDestroy,
    b::virtio_gpu_ctx_destroy,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_CTX_DESTROY,
    []
);
same_msg_layout!(
    wire::CtxAttachResource,
    b::virtio_gpu_ctx_resource,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
    [resource_id]
);
same_msg_layout!(
    wire::CtxDetachResource,
    b::virtio_gpu_ctx_resource,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
    [resource_id]
);
same_msg_layout!(
    wire::Submit3d,
    b::virtio_gpu_cmd_submit,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_SUBMIT_3D,
    [size]
);
same_msg_layout!(
    wire::ResourceCreateBlob,
    b::virtio_gpu_resource_create_blob,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
    [resource_id, blob_mem, blob_flags, nr_entries, blob_id, size]
);
same_msg_layout!(
    wire::ResourceMapBlob,
    b::virtio_gpu_resource_map_blob,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
    [resource_id, offset]
);
same_msg_layout!(
    wire::RespMapInfo,
    b::virtio_gpu_resp_map_info,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_RESP_OK_MAP_INFO,
    [map_info]
);
same_msg_layout!(
    wire::ResourceAssignUuid,
    b::virtio_gpu_resource_assign_uuid,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
    [resource_id]
);
same_msg_layout!(
    wire::RespResourceUuid,
    b::virtio_gpu_resp_resource_uuid,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_RESP_OK_RESOURCE_UUID,
    [uuid]
);
same_msg_layout!(
    wire::ResourceUnmapBlob,
    b::virtio_gpu_resource_unmap_blob,
    b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB,
    [resource_id]
);

const _: () = {
    assert!(offset_of!(b::virtio_gpu_config, num_scanouts) == wire::config::NUM_SCANOUTS);
    assert!(offset_of!(b::virtio_gpu_config, num_capsets) == wire::config::NUM_CAPSETS);
    assert!(offset_of!(b::virtio_gpu_config, blob_alignment) == wire::config::BLOB_ALIGNMENT);
    assert!(b::VIRTIO_GPU_F_BLOB_ALIGNMENT == crate::proto::features::F_BLOB_ALIGNMENT);
    assert!(b::virtio_gpu_shm_id_VIRTIO_GPU_SHM_ID_HOST_VISIBLE as u8 == wire::SHM_ID_HOST_VISIBLE);
    assert!(
        b::virtio_gpu_ctrl_type_VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB
            == wire::cmd::RESOURCE_UNMAP_BLOB
    );
    assert!(b::virtio_gpu_ctrl_type_VIRTIO_GPU_RESP_OK_NODATA == wire::cmd::RESP_OK_NODATA);
    assert!(
        b::virtio_gpu_ctrl_type_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
            == wire::cmd::RESP_ERR_INVALID_PARAMETER
    );
    assert!(b::VIRTIO_GPU_FLAG_FENCE == wire::FLAG_FENCE);
    assert!(b::VIRTIO_GPU_FLAG_INFO_RING_IDX == wire::FLAG_INFO_RING_IDX);
    assert!(b::VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK == wire::CONTEXT_INIT_CAPSET_ID_MASK);
    assert!(b::VIRTIO_GPU_BLOB_MEM_GUEST == wire::BLOB_MEM_GUEST);
    assert!(b::VIRTIO_GPU_BLOB_MEM_HOST3D == wire::BLOB_MEM_HOST3D);
    assert!(b::VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST == wire::BLOB_MEM_HOST3D_GUEST);
    assert!(b::VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE == wire::BLOB_FLAG_USE_MAPPABLE);
    assert!(b::VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE == wire::BLOB_FLAG_USE_SHAREABLE);
    assert!(b::VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE == wire::BLOB_FLAG_USE_CROSS_DEVICE);
    assert!(b::virtio_gpu_formats_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM == formats::B8G8R8A8_UNORM);
    assert!(b::virtio_gpu_formats_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM == formats::B8G8R8X8_UNORM);
    assert!(b::virtio_gpu_formats_VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM == formats::A8R8G8B8_UNORM);
    assert!(b::virtio_gpu_formats_VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM == formats::X8R8G8B8_UNORM);
    assert!(b::virtio_gpu_formats_VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM == formats::R8G8B8A8_UNORM);
    assert!(b::virtio_gpu_formats_VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM == formats::X8B8G8R8_UNORM);
    assert!(b::virtio_gpu_formats_VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM == formats::A8B8G8R8_UNORM);
    assert!(b::virtio_gpu_formats_VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM == formats::R8G8B8X8_UNORM);
    assert!(b::DRM_VIRTGPU_CONTEXT_INIT == uapi::DRM_VIRTGPU_CONTEXT_INIT);
};
