#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Sets up everything the harness needs for ARCH (default arm64), reusing caches:
# host toolchain, QEMU chroot, Debian's Mesa disk image for the real-client tests (arm64),
# Debian's IGT disk image (x86_64), guest kernel. Prints the kernel build directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ARCH=${1:-${ARCH:-arm64}}
"$here/setup-host.sh" >&2
"$here/setup-chroot.sh" > /dev/null
[ "$ARCH" != arm64 ] || "$here/setup-mesa.sh" "$ARCH" > /dev/null
[ "$ARCH" != x86_64 ] || "$here/setup-igt.sh" "$ARCH" > /dev/null
"$here/setup-kernel.sh" "$ARCH"
