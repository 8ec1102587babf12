#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Builds (or finds in the cache) a read-only ext4 disk image with Debian's amd64 IGT as
# shipped (igt-gpu-tools-tests: the test binaries under /usr/libexec/igt-gpu-tools;
# igt-gpu-tools: libigt.so.0 and the tools they depend on), with every dependency down to
# libc, as a tree the guest enters with chroot (guest/igt.sh). The packages are only
# unpacked (mmdebstrap's extract variant): nothing of the image runs on the host. The
# versions are pinned in versions.sh and checked, and so is the shared-library closure of
# every test binary.
#
#   setup-igt.sh ARCH            prints the image path on stdout
#   setup-igt.sh ARCH --cached   the same if it is already built; otherwise prints
#                                nothing and exits 1 (never builds)
#
# Next to the image: manifest.txt (every package and version in the image) and tests.txt
# (every test binary the package ships).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
self=$here/$(basename "$0")
. "$here/versions.sh"

# Runs inside mmdebstrap as its extract hook ($1: the tree, debs still in its apt cache).
if [ "${1:-}" = --extract-hook ]; then
	tree=$2
	for deb in "$tree"/var/cache/apt/archives/*.deb; do
		dpkg-deb --show --showformat='${Package} ${Version} ${Architecture}\n' "$deb"
	done | LC_ALL=C sort > "$tree/.vgpu-igt-manifest"
	exit 0
fi

usage="usage: setup-igt.sh ARCH [--cached]"
ARCH=${1:?$usage}
cached=0
case "${2:-}" in
--cached) cached=1 ;;
"") ;;
*) echo "$usage" >&2; exit 2 ;;
esac
. "$here/arch.sh"
log() { echo "[setup-igt $ARCH] $*" >&2; }
. "$here/extract-pinned.sh"
# Debian builds IGT for amd64 only.
[ "$ARCH" = x86_64 ] || { log "only x86_64 is supported (Debian has no other IGT build)"; exit 2; }
pins=("igt-gpu-tools-tests=$IGT_VERSION" "igt-gpu-tools=$IGT_VERSION")
libexec=usr/libexec/igt-gpu-tools

key=$( { echo "$IGT_SUITE $DEB_ARCH"; printf '%s\n' "${pins[@]}";
	 cat "$self" "$here/extract-pinned.sh"; } | sha256sum | cut -c1-12)
dir=$VGPU_CACHE/igt/$DEB_ARCH-$IGT_SUITE-$key
img=$dir/igt.ext4

if [ -e "$dir/.ready" ]; then
	echo "$img"; exit 0
fi
((cached == 0)) || exit 1

for tool in mmdebstrap mke2fs e2fsck dpkg-deb readelf; do
	command -v "$tool" > /dev/null ||
		{ log "$tool missing (mmdebstrap, e2fsprogs, dpkg, binutils)"; exit 1; }
done
# One builder at a time per cache (parallel make runs, a background setup).
mkdir -p "$VGPU_CACHE/igt"
exec 9> "$VGPU_CACHE/.lock-$(basename "$0" .sh)-$ARCH"
flock 9
if [ -e "$dir/.ready" ]; then
	echo "$img"; exit 0
fi

log "building $dir (IGT $IGT_VERSION from $IGT_SUITE)"
start=$SECONDS
tmp=$dir.tmp
rm -rf "$dir" "$tmp"
mkdir -p "$tmp"
tree=$tmp/tree
trap 'rm -rf "$tmp"' EXIT

extract_pinned "$IGT_SUITE" "$tree" "$tmp/mmdebstrap.log" \
	"\"$self\" --extract-hook \"\$1\"" \
	"IGT_VERSION (or IGT_SUITE)" "${pins[@]}" || exit 1

# apt picks exactly the pinned versions or fails, but check what was unpacked anyway.
manifest=$tree/.vgpu-igt-manifest
for p in "${pins[@]}"; do
	want=${p#*=}; name=${p%%=*}
	got=$(awk -v n="$name" '$1 == n { print $2 }' "$manifest")
	[ "$got" = "$want" ] || { log "$name: unpacked '${got:-nothing}', pinned $want"; exit 1; }
done

rm -rf "$tree"/var/cache/apt/archives "$tree"/var/lib/apt/lists \
	"$tree"/usr/share/{doc,man,info,locale,lintian,bug}
# Merged /usr: the ELF interpreter is /lib64/ld-linux-x86-64.so.2, and the extract
# variant does not run base-files' setup of these links.
for d in bin sbin lib lib64; do
	[ -e "$tree/$d" ] || [ ! -d "$tree/usr/$d" ] || ln -s "usr/$d" "$tree/$d"
done
[ -e "$tree/lib64/ld-linux-x86-64.so.2" ] || { log "no ELF interpreter in the tree"; exit 1; }

# The test binaries: ELF executables directly under libexec (the directory also holds
# data files and per-driver subdirectories, e.g. vmwgfx/).
(cd "$tree/$libexec" && find . -type f -perm -u+x | sed 's|^\./||' | LC_ALL=C sort) |
	while read -r f; do
		[ "$(head -c4 "$tree/$libexec/$f" | od -An -c | tr -d ' ')" = '177ELF' ] && echo "$f"
	done > "$tmp/tests.txt"
[ -s "$tmp/tests.txt" ] || { log "no test binaries under /$libexec"; exit 1; }
for t in drm_virtgpu vgem_basic core_getversion; do
	grep -qx "$t" "$tmp/tests.txt" || { log "igt-gpu-tools-tests has no $t"; exit 1; }
done

# Shared-library closure of every test binary, read from the ELF headers (nothing is run):
# each DT_NEEDED must be a file in the loader's default multiarch paths, or in a
# DT_RUNPATH/DT_RPATH of the object that needs it.
libdirs=(usr/lib/x86_64-linux-gnu usr/lib lib64 usr/lib64)
declare -A seen=()
queue=()
while read -r t; do queue+=("$libexec/$t"); done < "$tmp/tests.txt"
missing=()
while ((${#queue[@]})); do
	obj=${queue[0]}; queue=("${queue[@]:1}")
	[ -z "${seen[$obj]:-}" ] || continue
	seen[$obj]=1
	dyn=$(readelf -d "$tree/$obj" 2>/dev/null) || { missing+=("$obj: not an ELF file"); continue; }
	origin=$(dirname "$obj")
	paths=()
	for rp in $(sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p' <<< "$dyn" | tr ':' ' '); do
		rp=${rp//\$ORIGIN/\/$origin}; rp=${rp//\$\{ORIGIN\}/\/$origin}
		paths+=("${rp#/}")
	done
	for need in $(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<< "$dyn"); do
		found=
		for d in "${paths[@]}" "${libdirs[@]}"; do
			if [ -e "$tree/$d/$need" ]; then
				found=$(realpath -m --relative-to="$tree" "$tree/$d/$need"); break
			fi
		done
		if [ -n "$found" ]; then queue+=("$found"); else missing+=("$obj needs $need"); fi
	done
done
if ((${#missing[@]})); then
	printf '  %s\n' "${missing[@]}" >&2
	log "the unpacked dependencies do not cover every shared library"; exit 1
fi
log "shared-library closure: ${#seen[@]} objects, all present"

# Mount points for the guest: pseudo file systems, a writable /tmp, and the guest kernel's
# modules (IGT loads and unloads drivers through libkmod, e.g. vgem_basic@unload).
mkdir -p "$tree"/{dev,proc,sys,tmp,run,usr/lib/modules}
chmod 1777 "$tree/tmp"
mv "$manifest" "$tmp/manifest.txt"
cp "$tmp/manifest.txt" "$tree/.vgpu-igt-manifest"

# Read-only in the guest: no journal, no reserved blocks, 4 KiB blocks. Sized from the
# tree: every file rounded up to a block, plus 5% and 8 MiB for ext4's metadata.
kib=$(du -sk -B4K "$tree" | cut -f1); kib=$((kib * 4))
files=$(find "$tree" | wc -l)
size=$(( (kib + kib / 20 + 8192) / 1024 ))M
mke2fs -q -t ext4 -b 4096 -O ^has_journal -m 0 -N $((files + 1024)) -L vgpu-igt \
	-E root_owner=0:0 -d "$tree" -F "$tmp/igt.ext4" "$size" > "$tmp/mke2fs.log" 2>&1 ||
	{ cat "$tmp/mke2fs.log" >&2; log "mke2fs failed"; exit 1; }
e2fsck -fn "$tmp/igt.ext4" > "$tmp/e2fsck.log" 2>&1 ||
	{ cat "$tmp/e2fsck.log" >&2; log "e2fsck found errors in the new image"; exit 1; }
rm -f "$tmp/mke2fs.log" "$tmp/e2fsck.log" "$tmp/mmdebstrap.log"
rm -rf "$tree"

mv "$tmp" "$dir"
trap - EXIT
touch "$dir/.ready"
log "$img: $(du -h --apparent-size "$img" | cut -f1) ($files files," \
    "$(wc -l < "$dir/tests.txt") test binaries) in $((SECONDS - start)) s"
echo "$img"
