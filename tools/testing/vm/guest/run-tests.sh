#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In-guest test runner (busybox sh). Every suite's raw TAP/KTAP output is framed by
#   VGPU-SECTION-BEGIN <tap|kunit> <name> ... VGPU-SECTION-END <name>
# and parsed on the host by parse-results.py.
#
# Environment (from the kernel command line via /init): VGPU_GPU=2d|gl,
# VGPU_ARGS=comma-separated extra arguments for the selftest harness (e.g. -t,get_caps_errors),
# VGPU_CYCLES=number of insmod/rmmod leak cycles (default 10),
# VGPU_MESA_DRIVER=c to run the real-client (Mesa) section on the upstream C driver,
# VGPU_IGT_DRIVER=c to run the IGT list on the upstream C driver too (section igt-c),
# VGPU_IGT_FILTER=comma-separated globs on IGT's test@subtest, e.g. drm_virtgpu@*getparam,
# VGPU_IGT_TIMEOUT=seconds per IGT subtest (default 120).
T=/opt/vgpu
KO=$T/virtio_gpu_rs.ko
export VGPU_GPU=${VGPU_GPU:-}
args=$(echo "${VGPU_ARGS:-}" | tr ',' ' ')
cycles=${VGPU_CYCLES:-10}

begin() { echo "VGPU-SECTION-BEGIN $1 $2"; }
end() { echo "VGPU-SECTION-END $1"; }

# Minimal TAP writer for checks done in shell.
tap_n=0
tap_plan() { echo "TAP version 13"; echo "1..$1"; tap_n=0; }
tap() { # tap <0|1> <name> [diagnostic...]
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then echo "ok $tap_n $2"; else
		echo "not ok $tap_n $2"; shift 2; for l in "$@"; do echo "# $l"; done
	fi
}

echo "vgpu: kernel $(uname -r), device config '${VGPU_GPU}'"
# Keep kernel messages (e.g. the KTAP of KUnit's autorun at every insmod) out of the TAP
# streams below; the whole kernel log is dumped at the end for the host's checks.
dmesg -n 1
modprobe drm || echo "vgpu: modprobe drm failed"
# Our module uses the kernel's GEM shmem helpers; insmod does not load dependencies.
modprobe drm_shmem_helper || echo "vgpu: modprobe drm_shmem_helper failed"
# Our exports are virtio dma-bufs (UUIDs for other virtio devices).
modprobe virtio_dma_buf || echo "vgpu: modprobe virtio_dma_buf failed"

# 1. Reference GETPARAM answers of the upstream C driver on this very device.
begin tap setup
tap_plan 3
ref=
if modprobe virtio-gpu && $T/bin/virtgpu_params > /tmp/c-params; then
	ref=/tmp/c-params
	tap 0 c-driver-reference "$(tr '\n' ' ' < /tmp/c-params)"
	echo "# C driver GETPARAM: $(tr '\n' ' ' < /tmp/c-params)"
else
	tap 1 c-driver-reference "the C driver did not bind or answer"
fi
rmmod virtio_gpu 2>/dev/null
[ -e /sys/module/virtio_gpu ]; tap $((! $?)) c-driver-unloaded
# 2. Our module.
out=$(insmod $KO 2>&1); rc=$?
tap $rc insmod "$out"
end setup

# Forget whatever leaked before our module was loaded, e.g. in the C driver reference step:
# kmemleak only reports objects older than 5 s, and "clear" only forgets reported ones.
# The scan at the end of the lifecycle section then covers everything our module did.
leak=/sys/kernel/debug/kmemleak
if [ -w $leak ]; then
	sleep 6
	echo scan > $leak
	echo clear > $leak
fi

# 3. KUnit suites ran at module load; results are in debugfs.
for d in /sys/kernel/debug/kunit/virtio_gpu_rs*; do
	[ -e "$d/results" ] || continue
	begin kunit "kunit-$(basename "$d")"
	cat "$d/results"
	end "kunit-$(basename "$d")"
done

# 4. kselftest-harness tests on the live device.
begin tap selftest
if [ -n "$ref" ]; then export VGPU_REF_PARAMS=$ref; fi
# shellcheck disable=SC2086
$T/bin/virtgpu_test $args
end selftest

# 4b. Objects, blobs and map_info. The page-table probe lets the tests read the memory
# type from the PTEs themselves.
insmod $T/vgpu_ptprobe.ko || echo "vgpu: insmod vgpu_ptprobe failed"
# Another driver to share buffers with (objects exported to it, its buffers imported).
modprobe vgem || echo "vgpu: modprobe vgem failed"
begin tap objects
# shellcheck disable=SC2086
$T/bin/virtgpu_objects $args
end objects

# 4b'. EXECBUFFER, fences, sync_files, syncobjs, fence events, round trips.
begin tap submit
# shellcheck disable=SC2086
$T/bin/virtgpu_submit $args
end submit

# 4b''. PRIME: exports to another driver (vgem), foreign imports and their device use.
begin tap prime
# shellcheck disable=SC2086
$T/bin/virtgpu_prime $args
end prime

# 4b'''. IGT (issue 8): Debian's amd64 IGT as shipped, from the read-only disk of the
# x86_64 lane (setup-igt.sh's image, run-qemu.sh --disk), in a chroot of that disk, every
# subtest of the binaries in $T/igt/tests.txt on its own; parse-results.py holds the
# results against tools/testing/igt/expected.txt. VGPU_IGT_DRIVER=c (vgpu.igt_driver=c)
# runs the same list on the upstream C driver afterwards as section igt-c (held against
# expected-c.txt) and reloads ours. Before randioctl and the unload tests, so that those
# see the device as IGT left it (core_hotunplug unbinds and rebinds it).
. $T/igt.sh
if igt_disk; then
	igt_why=$(igt_bind)
	igt_section igt
	[ "${VGPU_IGT_DRIVER:-}" != c ] || igt_section igt-c c
	igt_unmount || echo "vgpu: could not unmount the IGT disk: $(grep " $I" /proc/mounts)"
elif [ "$(uname -m)" = x86_64 ]; then
	begin tap igt
	echo "TAP version 13"
	echo "1..0 # SKIP no IGT disk (setup-igt.sh image, attached by run-qemu.sh --disk)"
	end igt
fi

# 4c. Random arguments on live, closed and made-up handles, from two files.
begin tap randioctl
# shellcheck disable=SC2086
$T/bin/virtgpu_randioctl $args
end randioctl
# A test killed by its timeout skips its teardown: never leave the map_info override on.
for f in /sys/kernel/debug/dri/*/virtio-gpu-map-info-override-enable; do
	[ -w "$f" ] && echo 0 > "$f"
done

# 4d. Real clients (issue 6): Debian's arm64 Mesa as shipped, from the read-only disk that
# check.sh attaches on the GL device (setup-mesa.sh's image, run-qemu.sh --disk). Mesa runs
# in a chroot of that disk against whichever driver is bound, with nothing in its
# environment but the choice of the venus ICD. Our programs come from the initramfs
# (/opt/vgpu/mesa, bound into the chroot). VGPU_MESA_DRIVER=c (vgpu.mesa_driver=c) runs
# this section on the upstream C driver instead, as a reference, and reloads ours after.
. $T/mesa.sh
mesa_start=$(cut -d' ' -f1 /proc/uptime)
if ! mesa_disk; then
	begin tap mesa
	echo "TAP version 13"
	echo "1..0 # SKIP no Mesa disk (setup-mesa.sh image, attached by run-qemu.sh --disk)"
	end mesa
else
	begin tap mesa
	tap_plan 2
	why=$(mesa_bind)
	if [ "${VGPU_MESA_DRIVER:-}" = c ]; then
		{ rmmod virtio_gpu_rs && modprobe virtio-gpu; } ||
			why="$why could not switch to the C driver"
	fi
	[ -z "$why" ]; tap $? mesa-chroot "$why"
	echo "# $(grep -E '^(mesa-vulkan-drivers|libvulkan1|libegl1|vulkan-tools|libc6) ' $M/.vgpu-manifest | tr '\n' ' ')"
	for d in /sys/bus/virtio/devices/*; do # the GPU is virtio device id 16
		[ "$(cat $d/device)" = 0x0010 ] && echo "# GPU bound to: $(basename "$(readlink $d/driver)")"
	done
	out=$(mesa_run /usr/bin/vulkaninfo --summary 2>&1); rc=$?
	echo "$out" | sed 's/^/# /'
	if [ $rc = 0 ] && echo "$out" | grep -qE 'DRIVER_ID_MESA_VENUS|Venus'; then
		tap 0 vulkaninfo-lists-venus
	else
		tap 1 vulkaninfo-lists-venus "exit status $rc, or no Venus device listed"
	fi
	end mesa

	begin tap mesa-vulkan
	mesa_run /opt/vgpu/vk_hostcopy 2>&1
	end mesa-vulkan
	begin tap mesa-egl
	mesa_run /opt/vgpu/egl_clear 2>&1
	end mesa-egl

	begin tap mesa-teardown
	tap_plan 1
	mesa_unmount; rc=$?; why=$(grep " $M" /proc/mounts)
	if [ "${VGPU_MESA_DRIVER:-}" = c ] && ! { rmmod virtio_gpu && insmod $KO; }; then
		rc=1; why="could not switch back from the C driver to ours"
	fi
	tap $rc mesa-unmounted "$why"
	end mesa-teardown
fi
echo "vgpu: mesa section took $(awk -v a="$mesa_start" '{ printf "%.1f", $1 - a }' /proc/uptime) s"

# 5. Module lifetime: pinned by an open file, unloads after close.
begin tap unload
$T/bin/virtgpu_unload
end unload

# 6. insmod/rmmod cycles, each exercising open + ioctls, then kmemleak.
begin tap lifecycle
tap_plan 3
fail=0; why=
i=0
while [ $i -lt "$cycles" ]; do
	i=$((i + 1))
	if ! insmod $KO; then fail=1; why="insmod failed in cycle $i"; break; fi
	if ! $T/bin/virtgpu_params > /dev/null; then fail=1; why="ioctls failed in cycle $i"; fi
	if ! rmmod virtio_gpu_rs; then fail=1; why="rmmod failed in cycle $i"; break; fi
done
tap $fail "insmod-rmmod-x$cycles" "$why"
[ -e /sys/module/virtio_gpu_rs ]; tap $((! $?)) module-gone-after-cycles
if [ -w $leak ]; then
	# kmemleak reports objects older than 5 s only; scan twice as its documentation advises.
	sleep 6
	echo scan > $leak; echo scan > $leak
	rep=$(cat $leak)
	if [ -z "$rep" ]; then tap 0 kmemleak-clean; else
		tap 1 kmemleak-clean "unreferenced objects after the object tests and $cycles cycles:"
		echo "$rep" | sed 's/^/# /'
	fi
else
	tap 1 kmemleak-clean "kmemleak not available"
fi
end lifecycle

echo "VGPU-DMESG-BEGIN"
dmesg
echo "VGPU-DMESG-END"
exit 0
