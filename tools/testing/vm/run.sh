#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make run`: sets up what is missing, boots the aarch64 guest on the GL device
# (virtio-gpu-gl-pci,blob=true,hostmem=256M,venus=on), loads the Rust driver and shows
# what it found, fenced submissions, and Debian's Mesa (venus, virgl) running on it. VGPU_GPU=2d boots the plain 2D device instead.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
ARCH=${ARCH:-arm64}
gpu=${VGPU_GPU:-gl}
out=$top/out; mkdir -p "$out/logs"
kdir=$("$here/setup.sh" "$ARCH")
. "$here/versions.sh"; . "$here/arch.sh"
initrd=$("$here/build-guest.sh" "$ARCH" "$kdir" "$out")
# Debian's Mesa for the real-client part of the demo (GL device, arm64).
disk=()
if [ "$ARCH" = arm64 ] && [ "$gpu" = gl ] && img=$("$here/setup-mesa.sh" "$ARCH" --cached); then
	disk=(--disk "$img")
fi
"$here/run-qemu.sh" --arch "$ARCH" --kernel "$kdir/$KIMAGE" --initrd "$initrd" --gpu "$gpu" \
	--timeout 300 --append "loglevel=4 vgpu.gpu=$gpu vgpu.run=/opt/vgpu/run-demo.sh" \
	--log "$out/logs/run-$gpu.log" "${disk[@]}"
