#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main job, in the guest: load the Rust driver and show what it found.
T=/opt/vgpu
echo "=== virtio-gpu-rs on $(uname -m), kernel $(uname -r), device config '${VGPU_GPU:-?}' ==="
modprobe drm
modprobe drm_shmem_helper
modprobe virtio_dma_buf
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
echo "--- submission: fences, a sw_sync in-fence that does not block the ioctl, events ---"
VGPU_SUBMIT_ROUNDS=1000 $T/bin/virtgpu_submit -t out_fence_signals -t in_fence_does_not_block \
	-t fence_event_polled_ring -t round_trips 2>&1 | grep -E '^(ok|not ok)|round trips in'
echo
echo "--- PRIME: a vgem buffer imported and mapped through our fd, one of ours exported to vgem ---"
# vgem is the other driver we share buffers with; without it the demo says so and skips.
modprobe vgem || echo "(modprobe vgem failed)"
$T/bin/virtgpu_prime_demo
echo
echo "--- real clients: Debian's Mesa as shipped (venus, virgl) on this driver ---"
. $T/mesa.sh
if mesa_disk; then
	mesa_bind
	mesa_run /usr/bin/vulkaninfo --summary 2>&1 | sed -n '/^Devices:/,$p'
	mesa_run /opt/vgpu/vk_hostcopy 2>&1
	mesa_run /opt/vgpu/egl_clear 2>&1
	mesa_unmount
else
	echo "(no Mesa disk attached: GL device on arm64 only)"
fi
echo
echo "--- KUnit ---"
cat /sys/kernel/debug/kunit/virtio_gpu_rs*/results 2>/dev/null | grep -E '^(not )?ok|^\s+(not )?ok'
