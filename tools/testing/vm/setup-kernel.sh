#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Builds (or finds in the cache) a guest kernel for ARCH and VARIANT.
#
#   setup-kernel.sh ARCH [VARIANT]      prints the build directory on stdout
#
# VARIANT names extra fragments: "base" is common+ARCH, any other name adds
# config/VARIANT.config on top. The cache key hashes the kernel version, the
# fragments and the toolchain versions, so a changed input means a new tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
ARCH=${1:?usage: setup-kernel.sh ARCH [VARIANT]}
VARIANT=${2:-base}
. "$here/arch.sh"
export PATH=$HOME/.cargo/bin:$PATH

log() { echo "[setup-kernel $ARCH-$VARIANT] $*" >&2; }

frags=("$here/config/common.config" "$here/config/$ARCH.config")
[ "$VARIANT" = base ] || frags+=("$here/config/$VARIANT.config")

# Source tree, unpacked once per version.
src=$VGPU_CACHE/src/linux-$KERNEL_SRC_VERSION
if [ ! -e "$src/.unpacked" ]; then
	deb=$VGPU_CACHE/debs/${KERNEL_SRC_PKG}_${KERNEL_SRC_VERSION}_all.deb
	[ -e "$deb" ] || "$here/apt-private.sh" download-to "$VGPU_CACHE/debs" "$KERNEL_SRC_PKG=$KERNEL_SRC_VERSION" >&2
	log "unpacking $KERNEL_SRC_PKG $KERNEL_SRC_VERSION"
	mkdir -p "$VGPU_CACHE/src"
	tmp=$(mktemp -d "$VGPU_CACHE/src/.tmp.XXXXXX")
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/src/$KERNEL_TARBALL"
	tar -xf "$tmp/usr/src/$KERNEL_TARBALL" -C "$tmp"
	rm -rf "$src"
	mv "$tmp"/linux-source-* "$src"
	rm -rf "$tmp"
	touch "$src/.unpacked"
fi

# One builder at a time per cache (parallel make runs, a background setup).
mkdir -p "$VGPU_CACHE"
exec 9> "$VGPU_CACHE/.lock-$(basename "$0" .sh)${ARCH:+-$ARCH}"
flock 9

key=$( { echo "$KERNEL_SRC_VERSION"; cat "${frags[@]}"; rustc --version; bindgen --version;
	 clang-$LLVM_VERSION --version | head -1; } | sha256sum | cut -c1-12)
out=$VGPU_CACHE/kbuild/$ARCH-$VARIANT-$key
# UAPI headers for the guest test programs (cheap; also done for older cached trees).
ensure_headers() {
	[ -e "$out/hdr/.done" ] && return 0
	"${KMAKE[@]}" -C "$src" O="$out" INSTALL_HDR_PATH="$out/hdr" headers_install > /dev/null
	touch "$out/hdr/.done"
}

if [ -e "$out/.built" ]; then
	ensure_headers
	echo "$out"; exit 0
fi

log "configuring in $out"
rm -rf "$out"; mkdir -p "$out"
cat "${frags[@]}" > "$out/fragments.config"
"${KMAKE[@]}" -C "$src" O="$out" KCONFIG_ALLCONFIG="$out/fragments.config" allnoconfig >&2
"${KMAKE[@]}" -C "$src" O="$out" olddefconfig >&2
# Options drop silently when a dependency is missing: verify every line.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qxF "$line" "$out/.config" || { log "missing after olddefconfig: $line"; bad=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		! grep -q "^$opt=" "$out/.config" || { log "should be unset: $opt"; bad=1; } ;;
	esac
done < "$out/fragments.config"
((bad == 0)) || { log "config verification failed"; exit 1; }

log "building (log: $out/build.log)"
start=$SECONDS
if ! "${KMAKE[@]}" -C "$src" O="$out" -j"$(nproc)" "$(basename "$KIMAGE")" modules > "$out/build.log" 2>&1; then
	tail -40 "$out/build.log" >&2; log "build failed"; exit 1
fi
rm -rf "$out/modroot"
"${KMAKE[@]}" -C "$src" O="$out" INSTALL_MOD_PATH="$out/modroot" modules_install > /dev/null
log "built in $((SECONDS - start)) s"
ensure_headers
touch "$out/.built"
echo "$out"
