#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main job, in the guest: load the Rust driver and show what it found.
T=/opt/vgpu
echo "=== virtio-gpu-rs on $(uname -m), kernel $(uname -r), device config '${VGPU_GPU:-?}' ==="
modprobe drm
modprobe drm_shmem_helper
insmod $T/virtio_gpu_rs.ko || exit 1
echo
echo "--- driver log ---"
dmesg | grep -E 'virtio_gpu_rs|virtio-gpu|virtio_gpu' | grep -v kunit | sed 's/^\[[ 0-9.]*\] //'
echo
echo "--- bound driver ---"
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device")" = 0x0010 ] && echo "$(basename "$d"): $(basename "$(readlink "$d/driver")")"
done
echo
echo "--- DRM nodes ---"
ls /dev/dri
echo
echo "--- debugfs: virtio-gpu-features ---"
cat "$(ls -d /sys/kernel/debug/dri/*/virtio-gpu-features | head -1)"
echo
echo "--- debugfs: virtio-gpu-host-visible ---"
cat "$(ls -d /sys/kernel/debug/dri/*/virtio-gpu-host-visible | head -1)"
echo
echo "--- GETPARAM (param value|-errno): 1=3D_FEATURES 2=CAPSET_QUERY_FIX 3=RESOURCE_BLOB"
echo "    4=HOST_VISIBLE 5=CROSS_DEVICE 6=CONTEXT_INIT 7=CAPSET_IDS 8=DEBUG_NAME 9=BLOB_ALIGNMENT ---"
$T/bin/virtgpu_params
echo
echo "--- objects: a guest blob and a host blob, their mappings and map_info ---"
insmod $T/vgpu_ptprobe.ko 2>/dev/null
$T/bin/virtgpu_demo
echo
echo "--- KUnit ---"
cat /sys/kernel/debug/kunit/virtio_gpu_rs*/results 2>/dev/null | grep -E '^(not )?ok|^\s+(not )?ok'
