#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: sets up what is missing and runs every suite:
#   host   cargo test of the protocol crate
#   guest  per device configuration (2d: virtio-gpu-pci, gl: virtio-gpu-gl-pci with
#          blob/hostmem/venus): KUnit, kselftest-harness tests, unload and leak cycles
# Ends with "N passed, N failed" and exits non-zero on any failure, guest crash or
# oops/WARN/BUG/panic in a guest log.
#
# VGPU_GPUS="2d gl"   configurations to boot      VGPU_ARGS=-t,NAME   selftest filter
# VGPU_CYCLES=10      insmod/rmmod leak cycles    logs: out/logs/
# VGPU_DEBUG=1        also boot the debug kernel (KASAN, lockdep, ...; config/debug.config)
#                     on the GL device (default on arm64); 0 skips it
# VGPU_MESA_DRIVER=c  run the real-client (Mesa) section on the upstream C driver, as a
#                     reference; the GL device on arm64 gets setup-mesa.sh's disk
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
ARCH=${ARCH:-arm64}
gpus=${VGPU_GPUS:-2d gl}
out=$top/out; logs=$out/logs
rm -rf "$logs"; mkdir -p "$logs"
export PATH=$HOME/.cargo/bin:$PATH

kdir=$("$here/setup.sh" "$ARCH")
. "$here/versions.sh"; . "$here/arch.sh"

inputs=()
echo "[check] host: cargo test"
cargo test --manifest-path "$top/drivers/gpu/drm/virtio/proto/Cargo.toml" > "$logs/host-cargo.log" 2>&1 || true
inputs+=("cargo:host:$logs/host-cargo.log")

echo "[check] host: result parser self-test"
(cd "$here" && python3 -m unittest -v test_parse_results) > "$logs/host-parser.log" 2>&1 || true
inputs+=("pyunit:host-parser:$logs/host-parser.log")

echo "[check] host: rustfmt and clippy (kernel lints)"
{
	echo "TAP version 13"; echo "1..2"
	if fmt=$(make -s -C "$top" fmtcheck 2>&1); then echo "ok 1 rustfmt"; else
		echo "not ok 1 rustfmt"; echo "$fmt" | head -40 | sed 's/^/# /'; fi
	if lint=$(make -s -C "$top" clippy KDIR="$kdir" ARCH="$ARCH" 2>&1) && ! grep -qE '^(warning|error)' <<< "$lint"; then
		echo "ok 2 clippy"
	else
		echo "not ok 2 clippy"; echo "$lint" | grep -E '^(warning|error)' -A4 | head -60 | sed 's/^/# /'
	fi
} > "$logs/host-lint.log"
inputs+=("tap:host-lint:$logs/host-lint.log")

echo "[check] building module, selftests and initramfs"
initrd=$("$here/build-guest.sh" "$ARCH" "$kdir" "$out")

append="vgpu.run=/opt/vgpu/run-tests.sh vgpu.cycles=${VGPU_CYCLES:-10}"
[ -z "${VGPU_ARGS:-}" ] || append+=" vgpu.args=$VGPU_ARGS"
[ -z "${VGPU_MESA_DRIVER:-}" ] || append+=" vgpu.mesa_driver=$VGPU_MESA_DRIVER"
# Debian's Mesa for the real-client tests, on the GL device (setup.sh builds it on arm64).
mesa_disk=()
if [ "$ARCH" = arm64 ] && img=$("$here/setup-mesa.sh" "$ARCH" --cached); then
	mesa_disk=(--disk "$img")
fi
for gpu in $gpus; do
	echo "[check] guest $ARCH/$gpu (log: $logs/guest-$ARCH-$gpu.log)"
	disk=(); [ "$gpu" != gl ] || disk=("${mesa_disk[@]}")
	"$here/run-qemu.sh" --arch "$ARCH" --kernel "$kdir/$KIMAGE" --initrd "$initrd" --gpu "$gpu" \
		--timeout 900 --append "vgpu.gpu=$gpu $append" --log "$logs/guest-$ARCH-$gpu.log" "${disk[@]}" \
		> /dev/null 2> "$logs/qemu-$ARCH-$gpu.stderr" || echo "[check] QEMU exited with $?"
	inputs+=("guest:$ARCH-$gpu:$logs/guest-$ARCH-$gpu.log")
done

# The same suites under a debug kernel: memory and locking errors in the driver's error
# and teardown paths show up as KASAN, lockdep or DEBUG_OBJECTS reports in the log.
debug_default=0; [ "$ARCH" = arm64 ] && debug_default=1
if [ "${VGPU_DEBUG:-$debug_default}" = 1 ]; then
	echo "[check] debug kernel (KASAN, lockdep)"
	dkdir=$("$here/setup-kernel.sh" "$ARCH" debug)
	dinitrd=$("$here/build-guest.sh" "$ARCH" "$dkdir" "$out/debug")
	gpu=gl
	echo "[check] guest $ARCH-debug/$gpu (log: $logs/guest-$ARCH-debug-$gpu.log)"
	"$here/run-qemu.sh" --arch "$ARCH" --kernel "$dkdir/$KIMAGE" --initrd "$dinitrd" --gpu "$gpu" \
		--timeout 1500 --append "vgpu.gpu=$gpu vgpu.run=/opt/vgpu/run-tests.sh vgpu.cycles=3${VGPU_ARGS:+ vgpu.args=$VGPU_ARGS}${VGPU_MESA_DRIVER:+ vgpu.mesa_driver=$VGPU_MESA_DRIVER}" \
		--log "$logs/guest-$ARCH-debug-$gpu.log" "${mesa_disk[@]}" \
		> /dev/null 2> "$logs/qemu-$ARCH-debug-$gpu.stderr" || echo "[check] QEMU exited with $?"
	inputs+=("guest:$ARCH-debug-$gpu:$logs/guest-$ARCH-debug-$gpu.log")
	# Leave the tree's module built for the default kernel again.
	make -s -C "$top" modules KDIR="$kdir" ARCH="$ARCH" > /dev/null || true
fi

python3 "$here/parse-results.py" "${inputs[@]}" | tee "$logs/summary.txt"
exit "${PIPESTATUS[0]}"
