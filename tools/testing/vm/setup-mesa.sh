#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Builds (or finds in the cache) a read-only ext4 disk image with Debian's arm64 Mesa as
# shipped, for the real-client tests: venus (mesa-vulkan-drivers), virgl GL through EGL
# surfaceless (libgl1-mesa-dri, libegl-mesa0, libglvnd's libegl1/libgles2), the Vulkan
# loader and vulkaninfo, with every dependency down to libc, as a tree the guest enters
# with chroot. The packages are only unpacked (mmdebstrap's extract variant): nothing of
# arm64 runs on the host. The versions are pinned in versions.sh and checked.
#
#   setup-mesa.sh ARCH            prints the image path on stdout
#   setup-mesa.sh ARCH --cached   the same if it is already built; otherwise prints
#                                 nothing and exits 1 (never builds)
#
# Next to the image: include/ (the Vulkan, EGL and GLES headers of the same pinned
# packages, for building our test clients on the host) and manifest.txt (every package
# and version in the image).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
self=$here/$(basename "$0")
. "$here/versions.sh"

# Runs inside mmdebstrap as its extract hook ($1: the tree, debs still in its apt
# cache): writes the manifest and fetches the header packages with the same apt
# configuration, so they come from the same index as the libraries.
if [ "${1:-}" = --extract-hook ]; then
	tree=$2; hdrs=$3; shift 3
	for deb in "$tree"/var/cache/apt/archives/*.deb; do
		dpkg-deb --show --showformat='${Package} ${Version} ${Architecture}\n' "$deb"
	done | LC_ALL=C sort > "$tree/.vgpu-manifest"
	mkdir -p "$hdrs/debs"
	(cd "$hdrs/debs" && APT_CONFIG=$MMDEBSTRAP_APT_CONFIG apt-get -qq -o APT::Sandbox::User=root download "$@")
	for deb in "$hdrs"/debs/*.deb; do
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$hdrs" --strip-components=3 ./usr/include/
	done
	rm -rf "$hdrs/debs"
	exit 0
fi

usage="usage: setup-mesa.sh ARCH [--cached]"
ARCH=${1:?$usage}
cached=0
case "${2:-}" in
--cached) cached=1 ;;
"") ;;
*) echo "$usage" >&2; exit 2 ;;
esac
. "$here/arch.sh"
log() { echo "[setup-mesa $ARCH] $*" >&2; }
. "$here/extract-pinned.sh"
# Venus and virgl through our driver are tested on the aarch64 guest only.
[ "$ARCH" = arm64 ] || { log "only arm64 is supported"; exit 2; }
# Pinned: the GPU stack itself. Everything else (libc, LLVM, X/Wayland client libraries
# that Mesa links) comes from the same suite at build time and is listed in manifest.txt.
pins=("mesa-vulkan-drivers=$MESA_VERSION" "libgl1-mesa-dri=$MESA_VERSION"
      "libegl-mesa0=$MESA_VERSION" "libegl1=$GLVND_VERSION" "libgles2=$GLVND_VERSION"
      "libvulkan1=$VULKAN_LOADER_VERSION" "vulkan-tools=$VULKAN_TOOLS_VERSION")
headers=("libvulkan-dev=$VULKAN_LOADER_VERSION" "libegl-dev=$GLVND_VERSION"
	 "libgles-dev=$GLVND_VERSION" "libgl-dev=$GLVND_VERSION")

key=$( { echo "$MESA_SUITE $DEB_ARCH"; printf '%s\n' "${pins[@]}" "${headers[@]}";
	 cat "$self" "$here/extract-pinned.sh"; } | sha256sum | cut -c1-12)
dir=$VGPU_CACHE/mesa/$DEB_ARCH-$MESA_SUITE-$key
img=$dir/mesa.ext4

if [ -e "$dir/.ready" ]; then
	echo "$img"; exit 0
fi
((cached == 0)) || exit 1

for tool in mmdebstrap mke2fs e2fsck dpkg-deb; do
	command -v "$tool" > /dev/null || { log "$tool missing (mmdebstrap, e2fsprogs, dpkg)"; exit 1; }
done
# One builder at a time per cache (parallel make runs, a background setup).
mkdir -p "$VGPU_CACHE/mesa"
exec 9> "$VGPU_CACHE/.lock-$(basename "$0" .sh)-$ARCH"
flock 9
if [ -e "$dir/.ready" ]; then
	echo "$img"; exit 0
fi

log "building $dir (Mesa $MESA_VERSION from $MESA_SUITE)"
start=$SECONDS
tmp=$dir.tmp
rm -rf "$dir" "$tmp"
mkdir -p "$tmp"
tree=$tmp/tree
trap 'rm -rf "$tmp"' EXIT

extract_pinned "$MESA_SUITE" "$tree" "$tmp/mmdebstrap.log" \
	"\"$self\" --extract-hook \"\$1\" \"$tmp/include\" ${headers[*]}" \
	"MESA_VERSION & co." "${pins[@]}" || exit 1

# apt picks exactly the pinned versions or fails, but check what was unpacked anyway.
manifest=$tree/.vgpu-manifest
for p in "${pins[@]}"; do
	want=${p#*=}; name=${p%%=*}
	got=$(awk -v n="$name" '$1 == n { print $2 }' "$manifest")
	[ "$got" = "$want" ] || { log "$name: unpacked '${got:-nothing}', pinned $want"; exit 1; }
done
for h in vulkan/vulkan.h EGL/egl.h EGL/eglext.h GLES2/gl2.h GLES3/gl3.h KHR/khrplatform.h; do
	[ -e "$tmp/include/$h" ] || { log "header $h missing from ${headers[*]}"; exit 1; }
done

# Leftovers of the unpacking, and documentation nobody reads in the guest. Mesa's own
# files stay exactly as shipped.
rm -rf "$tree"/var/cache/apt/archives "$tree"/var/lib/apt/lists \
	"$tree"/usr/share/{doc,man,info,locale,lintian,bug}
# Merged /usr: the ELF interpreter is /lib/ld-linux-aarch64.so.1, and the extract variant
# does not run base-files' setup of these links.
for d in bin sbin lib; do
	[ -e "$tree/$d" ] || [ ! -d "$tree/usr/$d" ] || ln -s "usr/$d" "$tree/$d"
done
[ -e "$tree/lib/ld-linux-aarch64.so.1" ] || { log "no ELF interpreter in the tree"; exit 1; }
# Mount points for the guest: pseudo file systems, a writable /tmp, and /opt/vgpu for our
# test programs (bound from the initramfs, so the image does not change with them).
mkdir -p "$tree"/{dev,proc,sys,tmp,run,opt/vgpu}
chmod 1777 "$tree/tmp"
icd=$(cd "$tree" && ls usr/share/vulkan/icd.d/virtio_icd*.json 2>/dev/null | head -1)
[ -n "$icd" ] || { log "mesa-vulkan-drivers ships no virtio (venus) ICD"; exit 1; }
mv "$manifest" "$tmp/manifest.txt"
cp "$tmp/manifest.txt" "$tree/.vgpu-manifest"

# Read-only in the guest: no journal, no reserved blocks, 4 KiB blocks (mke2fs would pick
# 1 KiB for a small file system). Sized from the tree: every file rounded up to a block,
# plus 5% and 8 MiB for ext4's metadata.
kib=$(du -sk -B4K "$tree" | cut -f1); kib=$((kib * 4))
files=$(find "$tree" | wc -l)
size=$(( (kib + kib / 20 + 8192) / 1024 ))M
mke2fs -q -t ext4 -b 4096 -O ^has_journal -m 0 -N $((files + 1024)) -L vgpu-mesa \
	-E root_owner=0:0 -d "$tree" -F "$tmp/mesa.ext4" "$size" > "$tmp/mke2fs.log" 2>&1 ||
	{ cat "$tmp/mke2fs.log" >&2; log "mke2fs failed"; exit 1; }
e2fsck -fn "$tmp/mesa.ext4" > "$tmp/e2fsck.log" 2>&1 ||
	{ cat "$tmp/e2fsck.log" >&2; log "e2fsck found errors in the new image"; exit 1; }
rm -f "$tmp/mke2fs.log" "$tmp/e2fsck.log"
rm -rf "$tree"

mv "$tmp" "$dir"
trap - EXIT
touch "$dir/.ready"
log "$img: $(du -h --apparent-size "$img" | cut -f1) ($files files, ICD /$icd)" \
    "in $((SECONDS - start)) s"
echo "$img"
