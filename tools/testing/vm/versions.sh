# SPDX-License-Identifier: GPL-2.0
# Pinned inputs of the test environment. Every cache key is derived from these
# values (plus the hashes of the files that consume them), so bumping one here
# rebuilds exactly what depends on it.

# Kernel: Debian sid's linux-source package (an "all" package holding the tarball).
KERNEL_SRC_PKG=linux-source-7.2
KERNEL_SRC_VERSION=7.2.13-1
KERNEL_TARBALL=linux-source-7.2.tar.xz

# Host toolchain (bookworm packages only: never sid/trixie on the host).
LLVM_VERSION=19
BINDGEN_VERSION=0.73.2

# Debian mirror used for the sid chroot and the guest userspace.
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CHROOT_SUITE=sid

# Everything built or downloaded lives here, outside the repository.
VGPU_CACHE=${VGPU_CACHE:-$HOME/.cache/virtio-gpu-rs}
