#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Builds the module and the selftests for ARCH against the harness kernel KDIR and packs
# them with the guest scripts into an initramfs.
#
#   build-guest.sh ARCH KDIR OUTDIR     prints the initramfs path
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$here/versions.sh"
ARCH=${1:?ARCH}; KDIR=${2:?KDIR}; OUTDIR=${3:?OUTDIR}
. "$here/arch.sh"
export PATH=$HOME/.cargo/bin:$PATH
log() { echo "[build-guest $ARCH] $*" >&2; }

case "$ARCH" in
arm64) CROSS_CC=aarch64-linux-gnu-gcc ;;
x86_64) CROSS_CC=gcc ;;
esac
src=$VGPU_CACHE/src/linux-$KERNEL_SRC_VERSION

log "module"
make -s -C "$top" modules KDIR="$KDIR" ARCH="$ARCH" >&2
overlay=$OUTDIR/overlay-$ARCH
rm -rf "$overlay"; mkdir -p "$overlay/opt/vgpu/bin"
cp "$top/virtio_gpu_rs.ko" "$overlay/opt/vgpu/"
log "page-table probe module (test facility)"
pt=$OUTDIR/ptprobe-$ARCH
rm -rf "$pt"; mkdir -p "$pt"
cp "$top"/tools/testing/selftests/virtio_gpu_rs/ptprobe/{Makefile,vgpu_ptprobe.c} "$pt/"
make -s -C "$KDIR" M="$pt" ARCH="$KARCH" LLVM=-"$LLVM_VERSION" modules >&2
cp "$pt/vgpu_ptprobe.ko" "$overlay/opt/vgpu/"
log "selftests"
make -s -C "$top/tools/testing/selftests/virtio_gpu_rs" KSRC="$src" HDRS="$KDIR/hdr/include" \
	CC="$CROSS_CC" OUT="$overlay/opt/vgpu/bin" >&2
if [ "$ARCH" = arm64 ]; then
	# Real clients: against the headers of the pinned Mesa image, which setup.sh makes.
	# They live in the initramfs, so changing them never rebuilds the image.
	if mesa=$("$here/setup-mesa.sh" "$ARCH" --cached); then
		log "Mesa client programs"
		mkdir -p "$overlay/opt/vgpu/mesa"
		make -s -C "$top/tools/testing/selftests/virtio_gpu_rs/mesa" \
			INC="$(dirname "$mesa")/include" CC="$CROSS_CC" OUT="$overlay/opt/vgpu/mesa" >&2
	else
		log "no Mesa image (setup-mesa.sh): the real-client tests will skip"
	fi
fi
cp "$here"/guest/*.sh "$overlay/opt/vgpu/"
# The IGT tests to run (the x86_64 lane's IGT disk holds the binaries).
mkdir -p "$overlay/opt/vgpu/igt"
cp "$top/tools/testing/igt/tests.txt" "$overlay/opt/vgpu/igt/"
"$here/mkinitramfs.sh" "$ARCH" "$KDIR" "$OUTDIR/initramfs-$ARCH.cpio.gz" "$overlay"
