# SPDX-License-Identifier: GPL-2.0
# Per-architecture facts shared by every harness script. Source after versions.sh
# with ARCH set to arm64 or x86_64.
case "$ARCH" in
arm64)
	KARCH=arm64
	KIMAGE=arch/arm64/boot/Image
	DEB_ARCH=arm64
	QEMU_BIN=qemu-system-aarch64
	QEMU_MACHINE=(-M virt -cpu max)
	QEMU_CONSOLE=ttyAMA0
	QEMU_PKG=qemu-system-arm
	;;
x86_64)
	KARCH=x86
	KIMAGE=arch/x86/boot/bzImage
	DEB_ARCH=amd64
	QEMU_BIN=qemu-system-x86_64
	QEMU_MACHINE=(-M q35 -cpu max)
	QEMU_CONSOLE=ttyS0
	QEMU_PKG=qemu-system-x86
	;;
*)
	echo "unsupported ARCH '$ARCH' (arm64, x86_64)" >&2; exit 2
	;;
esac
KMAKE=(make ARCH=$KARCH LLVM=-$LLVM_VERSION)
