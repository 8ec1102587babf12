#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test initramfs built by mkinitramfs.sh (busybox sh, PID 1).
#
# Mounts the pseudo file systems, runs the script named by the kernel
# parameter vgpu.run=PATH (default /opt/vgpu/run.sh) with its output on the
# console, prints "VGPU-GUEST-DONE rc=N" and powers the machine off. Without
# a run script it starts a shell on the console instead.
#
# Every other vgpu.NAME=VALUE kernel parameter is exported to the run script
# as VGPU_NAME=VALUE (NAME upper-cased, non-alphanumerics turned into '_').
# The kernel keeps dotted parameters out of init's environment, so they are
# read from /proc/cmdline (values cannot contain spaces).

bb=/bin/busybox
$bb mkdir -p /proc /sys /dev /tmp /run
$bb mount -t proc proc /proc
# The kernel does not mount devtmpfs for an initramfs (DEVTMPFS_MOUNT only
# applies to a real root), so do it here and reopen the console on it in case
# the archive had no /dev/console node.
$bb mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

# Applet links into /bin, /sbin, /usr/bin, /usr/sbin; existing files (e.g.
# from an overlay) are kept. Needs /proc: busybox finds itself via
# /proc/self/exe.
$bb --install -s
export PATH=/opt/vgpu/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux}
mkdir -p /root /dev/pts /dev/shm
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null
hostname vgpu-guest
ln -sf /proc/self/fd /dev/fd 2>/dev/null

run=/opt/vgpu/run.sh
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vgpu.run=*) run=${arg#vgpu.run=} ;;
	vgpu.*=*)
		name=${arg#vgpu.}; name=${name%%=*}
		name=$(echo "$name" | tr 'a-z' 'A-Z' | tr -c 'A-Z0-9\n' '_')
		export "VGPU_$name=${arg#*=}"
		;;
	esac
done

if [ -f "$run" ]; then
	echo "vgpu-init: running $run"
	if [ -x "$run" ]; then "$run"; else sh "$run"; fi
	rc=$?
	# Let the serial driver drain the last lines before the machine stops.
	sync
	echo "VGPU-GUEST-DONE rc=$rc"
	sleep 0.2
else
	echo "vgpu-init: no run script ($run), starting a shell; exit it to power off"
	setsid cttyhack sh
fi

# x86 kernels without ACPI cannot power off (the kernel would just halt):
# reboot instead, which QEMU turns into an exit under -no-reboot.
if [ "$(uname -m)" = x86_64 ] && [ ! -d /sys/firmware/acpi ]; then
	reboot -f
else
	poweroff -f
fi
# PID 1 must never exit (that panics the kernel).
while :; do sleep 3600; done
