#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Installs the host toolchain needed to build the guest kernels and the module.
# Only bookworm packages are installed on the host; newer userspace (QEMU,
# virglrenderer) lives in a chroot made by setup-chroot.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"

log() { echo "[setup-host] $*" >&2; }

pkgs=(clang-$LLVM_VERSION lld-$LLVM_VERSION llvm-$LLVM_VERSION libclang-$LLVM_VERSION-dev
      flex bison bc cpio kmod xz-utils make gcc libc6-dev libelf-dev libssl-dev
      mmdebstrap debian-archive-keyring dpkg-dev python3 curl ca-certificates
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross rsync)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Dry run first: refuse anything that would pull a newer libc (a mixed-suite
	# apt configuration on the host must never upgrade it).
	if apt-get -s install --no-install-recommends "${missing[@]}" | grep -E '^Inst libc6 '; then
		log "refusing: installing would replace libc6"; exit 1
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Rust: the machine's rustup toolchain plus rust-src (the kernel builds core/alloc).
export PATH=$HOME/.cargo/bin:$PATH
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	log "adding rust-src"
	rustup component add rust-src
fi
if ! command -v bindgen >/dev/null || ! bindgen --version | grep -q " $BINDGEN_VERSION\$"; then
	log "installing bindgen-cli $BINDGEN_VERSION"
	cargo install --locked --version "$BINDGEN_VERSION" bindgen-cli
fi
log "host toolchain ready: $(rustc --version), $(bindgen --version), clang-$LLVM_VERSION"
