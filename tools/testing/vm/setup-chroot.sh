#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Creates (or finds in the cache) the Debian sid chroot that runs QEMU with
# virglrenderer >= 1.0 (needed for host-visible blobs with map_info) and Xvfb
# for GL. Nothing from sid is ever installed onto the host itself.
#
#   setup-chroot.sh      prints the chroot directory on stdout
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"

pkgs=(qemu-system-arm qemu-system-x86 qemu-system-modules-opengl qemu-system-gui
      libvirglrenderer1 virgl-server libegl1 libgl1-mesa-dri mesa-vulkan-drivers
      xvfb xauth procps)
# One builder at a time per cache (parallel make runs, a background setup).
mkdir -p "$VGPU_CACHE"
exec 9> "$VGPU_CACHE/.lock-$(basename "$0" .sh)${ARCH:+-$ARCH}"
flock 9

key=$(printf '%s\n' "$CHROOT_SUITE" "${pkgs[@]}" | sha256sum | cut -c1-12)
dir=$VGPU_CACHE/chroot-$CHROOT_SUITE-$key
if [ -e "$dir/.ready" ]; then
	echo "$dir"; exit 0
fi
echo "[setup-chroot] creating $dir" >&2
rm -rf "$dir" "$dir.tmp"
mkdir -p "$VGPU_CACHE"
# The mirror's sid Release file may be past its Valid-Until date.
mmdebstrap --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
	--include="$(IFS=,; echo "${pkgs[*]}")" \
	"$CHROOT_SUITE" "$dir.tmp" "$DEBIAN_MIRROR" >&2
mv "$dir.tmp" "$dir"
chroot "$dir" qemu-system-aarch64 --version | head -1 >&2
touch "$dir/.ready"
echo "$dir"
