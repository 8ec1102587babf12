#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by run-tests.sh and run-demo.sh (busybox sh): Debian's arm64 Mesa as shipped,
# from the read-only disk run-qemu.sh --disk attaches (setup-mesa.sh's image), used in a
# chroot with nothing in the environment but the choice of the venus ICD. Our client
# programs come from the initramfs ($T/mesa, bound to /opt/vgpu in the chroot).
M=/mnt/mesa

# Mounts the disk at $M; fails (and leaves nothing mounted) without a Mesa image.
mesa_disk() {
	mkdir -p $M
	if [ -b /dev/vda ] && mount -t ext4 -o ro /dev/vda $M 2>/dev/null; then
		[ -e $M/.vgpu-manifest ] && return 0
		umount $M
		echo "vgpu: /dev/vda is no Mesa image"
	fi
	return 1
}

# Binds what the clients need into the chroot; prints what failed, if anything.
mesa_bind() {
	for d in dev proc sys tmp; do
		mount -o bind /$d $M/$d || echo "bind mount of /$d failed"
	done
	mount -o bind $T/mesa $M/opt/vgpu || echo "bind mount of $T/mesa failed"
	# debugfs (object list, vgpu_ptprobe) is a submount of /sys: bind it too.
	mount -o bind /sys/kernel/debug $M/sys/kernel/debug || echo "bind mount of debugfs failed"
}

# PROG [ARG...] in the chroot, with a clean environment.
mesa_run() {
	icd=$(cd $M && ls usr/share/vulkan/icd.d/virtio_icd*.json 2>/dev/null | head -1)
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8 VK_DRIVER_FILES=/$icd \
		timeout 150 chroot $M "$@"
}

# Unmounts everything; returns umount's status of the disk itself.
mesa_unmount() {
	for d in opt/vgpu tmp sys/kernel/debug sys proc dev; do umount $M/$d; done
	umount $M
}
