#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: sets up what is missing and runs every suite, in two lanes:
#   host    cargo test of the protocol crate, the result parser's self-test, rustfmt, clippy
#   arm64   per device configuration (2d: virtio-gpu-pci, gl: virtio-gpu-gl-pci with
#           blob/hostmem/venus): KUnit, kselftest-harness tests, Debian's Mesa (gl), unload
#           and leak cycles; then gl again on the debug kernel (KASAN, lockdep, ...)
#   x86_64  gl: the same suites, plus Debian's amd64 IGT when its disk is set up
# Ends with "N passed, N failed" and exits non-zero on any failure, guest crash or
# oops/WARN/BUG/panic in a guest log.
#
# VGPU_ARCHES="arm64 x86_64"  lanes to run (ARCH=x86_64 alone: that lane only)
# VGPU_GPUS="2d gl"   arm64 configurations (x86_64: VGPU_X86_GPUS, default gl)
# VGPU_ARGS=-t,NAME   selftest filter   VGPU_CYCLES=10  insmod/rmmod leak cycles
# VGPU_DEBUG=1        also boot the arm64 debug kernel (KASAN, lockdep, ...;
#                     config/debug.config) on the GL device; 0 skips it
# VGPU_MESA_DRIVER=c  run the real-client (Mesa) section on the upstream C driver
# VGPU_IGT_DRIVER=c   also run the IGT list on the upstream C driver (section igt-c)
# VGPU_IGT_FILTER=drm_virtgpu@*getparam,core_*   only these IGT tests/subtests
# VGPU_ACCEL=tcg|kvm  x86_64 accelerator; default: KVM if a probe boot works, else TCG
# logs: out/logs/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
arches=${VGPU_ARCHES:-${ARCH:-arm64 x86_64}}
out=$top/out; logs=$out/logs
rm -rf "$logs"; mkdir -p "$logs"
export PATH=$HOME/.cargo/bin:$PATH
. "$here/versions.sh"

inputs=()
echo "[check] host: cargo test"
cargo test --manifest-path "$top/drivers/gpu/drm/virtio/proto/Cargo.toml" > "$logs/host-cargo.log" 2>&1 || true
inputs+=("cargo:host:$logs/host-cargo.log")

echo "[check] host: result parser self-test"
(cd "$here" && python3 -m unittest -v test_parse_results) > "$logs/host-parser.log" 2>&1 || true
inputs+=("pyunit:host-parser:$logs/host-parser.log")

# Whether KVM runs our x86_64 guests here: a short boot that must reach the end of /init.
# On these machines x86_64 guests died under KVM with an emulation failure, hence the
# probe; its answer is kept per host kernel and guest kernel.
kvm_works() {
	local kdir=$1 initrd=$2 key f
	[ -c /dev/kvm ] || return 1
	key=$(printf '%s\n' "$(uname -r)" "$(sha256sum < "$kdir/$KIMAGE")" | sha256sum | cut -c1-12)
	f=$VGPU_CACHE/kvm-probe-$key
	if [ ! -e "$f" ]; then
		if "$here/run-qemu.sh" --arch "$ARCH" --kernel "$kdir/$KIMAGE" --initrd "$initrd" \
			--gpu 2d --accel kvm --timeout 30 --append "vgpu.run=/bin/true" \
			--log "$logs/kvm-probe.log" > /dev/null 2> "$logs/kvm-probe.stderr" &&
		   grep -q VGPU-GUEST-DONE "$logs/kvm-probe.log"; then
			echo kvm > "$f"
		else
			echo tcg > "$f"
		fi
	fi
	[ "$(cat "$f")" = kvm ]
}

lane() {
	local ARCH=$1 kdir initrd append gpus gpu accel=tcg img why
	local mesa_disk=() igt_disk=() disk=()
	export ARCH
	kdir=$("$here/setup.sh" "$ARCH")
	. "$here/arch.sh"

	if [ "$ARCH" = arm64 ]; then
		# One lint run is enough: the module source has no architecture forks.
		echo "[check] host: rustfmt and clippy (kernel lints)"
		{
			echo "TAP version 13"; echo "1..2"
			if fmt=$(make -s -C "$top" fmtcheck 2>&1); then echo "ok 1 rustfmt"; else
				echo "not ok 1 rustfmt"; echo "$fmt" | head -40 | sed 's/^/# /'; fi
			if lint=$(make -s -C "$top" clippy KDIR="$kdir" ARCH="$ARCH" 2>&1) &&
			   ! grep -qE '^(warning|error)' <<< "$lint"; then
				echo "ok 2 clippy"
			else
				echo "not ok 2 clippy"
				echo "$lint" | grep -E '^(warning|error)' -A4 | head -60 | sed 's/^/# /'
			fi
		} > "$logs/host-lint.log"
		inputs+=("tap:host-lint:$logs/host-lint.log")
	fi

	echo "[check] $ARCH: building module, selftests and initramfs"
	initrd=$("$here/build-guest.sh" "$ARCH" "$kdir" "$out")

	append="vgpu.run=/opt/vgpu/run-tests.sh vgpu.cycles=${VGPU_CYCLES:-10}"
	[ -z "${VGPU_ARGS:-}" ] || append+=" vgpu.args=$VGPU_ARGS"
	[ -z "${VGPU_MESA_DRIVER:-}" ] || append+=" vgpu.mesa_driver=$VGPU_MESA_DRIVER"
	[ -z "${VGPU_IGT_DRIVER:-}" ] || append+=" vgpu.igt_driver=$VGPU_IGT_DRIVER"
	[ -z "${VGPU_IGT_FILTER:-}" ] || append+=" vgpu.igt_filter=$VGPU_IGT_FILTER"
	if [ "$ARCH" = arm64 ]; then
		gpus=${VGPU_GPUS:-2d gl}
		# Debian's Mesa for the real-client tests, on the GL device.
		if img=$("$here/setup-mesa.sh" "$ARCH" --cached); then mesa_disk=(--disk "$img"); fi
	else
		gpus=${VGPU_X86_GPUS:-gl}
		# Debian's amd64 IGT, on the GL device.
		if [ -x "$here/setup-igt.sh" ] && img=$("$here/setup-igt.sh" "$ARCH" --cached); then
			igt_disk=(--disk "$img")
		fi
		accel=${VGPU_ACCEL:-}
		if [ -z "$accel" ]; then
			if kvm_works "$kdir" "$initrd"; then accel=kvm; else accel=tcg; fi
			why="(probe boot: $accel)"
		else
			why="(VGPU_ACCEL)"
		fi
		echo "[check] $ARCH: accelerator $accel $why"
	fi
	for gpu in $gpus; do
		echo "[check] guest $ARCH/$gpu (log: $logs/guest-$ARCH-$gpu.log)"
		disk=()
		if [ "$gpu" = gl ]; then disk=("${mesa_disk[@]}" "${igt_disk[@]}"); fi
		"$here/run-qemu.sh" --arch "$ARCH" --kernel "$kdir/$KIMAGE" --initrd "$initrd" \
			--gpu "$gpu" --accel "$accel" --timeout 1500 --append "vgpu.gpu=$gpu $append" \
			--log "$logs/guest-$ARCH-$gpu.log" "${disk[@]}" \
			> /dev/null 2> "$logs/qemu-$ARCH-$gpu.stderr" || echo "[check] QEMU exited with $?"
		inputs+=("guest:$ARCH-$gpu:$logs/guest-$ARCH-$gpu.log")
	done

	# The same suites under a debug kernel: memory and locking errors in the driver's error
	# and teardown paths show up as KASAN, lockdep or DEBUG_OBJECTS reports in the log.
	local debug_default=0 dkdir dinitrd
	[ "$ARCH" = arm64 ] && debug_default=1
	if [ "${VGPU_DEBUG:-$debug_default}" = 1 ]; then
		echo "[check] $ARCH: debug kernel (KASAN, lockdep)"
		dkdir=$("$here/setup-kernel.sh" "$ARCH" debug)
		dinitrd=$("$here/build-guest.sh" "$ARCH" "$dkdir" "$out/debug")
		gpu=gl
		echo "[check] guest $ARCH-debug/$gpu (log: $logs/guest-$ARCH-debug-$gpu.log)"
		"$here/run-qemu.sh" --arch "$ARCH" --kernel "$dkdir/$KIMAGE" --initrd "$dinitrd" \
			--gpu "$gpu" --accel "$accel" --timeout 1500 \
			--append "vgpu.gpu=$gpu vgpu.run=/opt/vgpu/run-tests.sh vgpu.cycles=3${VGPU_ARGS:+ vgpu.args=$VGPU_ARGS}${VGPU_MESA_DRIVER:+ vgpu.mesa_driver=$VGPU_MESA_DRIVER}" \
			--log "$logs/guest-$ARCH-debug-$gpu.log" "${mesa_disk[@]}" \
			> /dev/null 2> "$logs/qemu-$ARCH-debug-$gpu.stderr" || echo "[check] QEMU exited with $?"
		inputs+=("guest:$ARCH-debug-$gpu:$logs/guest-$ARCH-debug-$gpu.log")
	fi
}

for a in $arches; do
	lane "$a"
done
# Leave the tree's module built for the first lane's base kernel.
first=${arches%% *}
ARCH=$first make -s -C "$top" modules KDIR="$(ARCH=$first "$here/setup-kernel.sh" "$first")" \
	ARCH="$first" > /dev/null 2>&1 || true

python3 "$here/parse-results.py" "${inputs[@]}" | tee "$logs/summary.txt"
exit "${PIPESTATUS[0]}"
