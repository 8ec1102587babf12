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

# Guest userspace for the real-client tests (setup-mesa.sh): Debian's arm64 Mesa, unmodified.
# trixie: its venus (Mesa 25.0.7) and virgl work against the chroot's QEMU 11.1.3 and
# virglrenderer 1.3.0 (venus negotiates the protocol version, so an older guest Mesa is
# fine), on the C driver and on ours; and a stable suite keeps a version on the mirror
# until a point release replaces it, where sid drops it within weeks. sid's Mesa 26.2.6-1
# passed the same tests (December 2026): to try it, set MESA_SUITE=sid and sid's versions
# below (`apt-cache policy` on the suite shows them); setup-mesa.sh names any pin the
# mirror no longer has.
MESA_SUITE=trixie
MESA_VERSION=25.0.7-2+deb13u1
GLVND_VERSION=1.7.0-1+b2
VULKAN_LOADER_VERSION=1.4.309.0-1
VULKAN_TOOLS_VERSION=1.4.304.0+dfsg1-1

# IGT for the x86_64 lane (setup-igt.sh): Debian's amd64 igt-gpu-tools(-tests), unmodified
# (Debian builds IGT for amd64 only). forky (testing): it has 2.5-1 as sid does (December
# 2026), while trixie still ships 2.0 under the old name intel-gpu-tools; a new upload
# reaches testing days after sid, so the pin lasts longer there, and every library of the
# closure comes from the same suite. `apt-cache policy igt-gpu-tools-tests` on the suite
# shows what it has; setup-igt.sh names a pin the mirror no longer carries.
IGT_SUITE=forky
IGT_VERSION=2.5-1
