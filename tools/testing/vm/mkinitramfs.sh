#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Builds a gzipped newc initramfs for a test guest.
#
#   mkinitramfs.sh ARCH KDIR OUT.cpio.gz [EXTRA_DIR...]     prints OUT on stdout
#
# Contents: Debian's busybox-static for ARCH (applet links are created by /init
# at boot: an arm64 busybox cannot run on the build host), the modules that
# KDIR's modules_install put under KDIR/modroot/lib/modules/<ver>, the generic
# /init from initramfs-init.sh, and each EXTRA_DIR overlaid at the root in
# order (later ones win), e.g. EXTRA_DIR/opt/vgpu/run.sh. depmod runs after the
# overlay, so modules placed under /lib/modules/<ver>/ by an EXTRA_DIR are
# known to modprobe as well.
#
# The archive is written by the kernel's own usr/gen_init_cpio (found in KDIR),
# so ownership is root and /dev/console exists without running as root. If
# KDIR has none, GNU cpio is used and /init reopens the console on devtmpfs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
usage="usage: mkinitramfs.sh ARCH KDIR OUT.cpio.gz [EXTRA_DIR...]"
ARCH=${1:?$usage}
KDIR=${2:?$usage}
OUT=${3:?$usage}
shift 3
. "$here/arch.sh"

log() { echo "[mkinitramfs $ARCH] $*" >&2; }

for d in "$@"; do
	[ -d "$d" ] || { log "EXTRA_DIR '$d' is not a directory"; exit 2; }
done

# Kernel release: the build's own, or the only directory under modroot.
if [ -e "$KDIR/include/config/kernel.release" ]; then
	kver=$(cat "$KDIR/include/config/kernel.release")
else
	kvers=("$KDIR"/modroot/lib/modules/*)
	((${#kvers[@]} == 1)) && [ -d "${kvers[0]}" ] || { log "cannot tell the kernel release of $KDIR"; exit 1; }
	kver=$(basename "${kvers[0]}")
fi
moddir=$KDIR/modroot/lib/modules/$kver
[ -d "$moddir" ] || { log "$moddir missing (run modules_install with INSTALL_MOD_PATH=\$KDIR/modroot)"; exit 1; }

# busybox-static, extracted once per Debian version.
bbpkg=busybox-static:$DEB_ARCH
bbver=$("$here/apt-private.sh" policy "$bbpkg" 2>/dev/null | awk '/Candidate:/ { print $2 }') || true
if [ -z "$bbver" ] || [ "$bbver" = "(none)" ]; then
	# Offline: fall back to the newest version already in the cache.
	bbver=$(ls -1 "$VGPU_CACHE/busybox" 2>/dev/null | sed -n "s/^$DEB_ARCH-//p" | sort -V | tail -1) || true
	[ -n "$bbver" ] || { log "cannot resolve $bbpkg and nothing is cached"; exit 1; }
	bbver=${bbver//%3a/:}
	log "apt unavailable, using cached busybox $bbver"
fi
busybox=$VGPU_CACHE/busybox/$DEB_ARCH-${bbver//:/%3a}/busybox
if [ ! -e "$busybox" ]; then
	deb=$VGPU_CACHE/debs/busybox-static_${bbver//:/%3a}_$DEB_ARCH.deb
	[ -e "$deb" ] || "$here/apt-private.sh" download-to "$VGPU_CACHE/debs" "$bbpkg=$bbver" >&2
	log "extracting $deb"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/vgpu-busybox.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb -x "$deb" "$tmp"
	# sid ships it in /usr/bin (merged /usr), older releases in /bin.
	src=$tmp/usr/bin/busybox
	[ -e "$src" ] || src=$tmp/bin/busybox
	mkdir -p "$(dirname "$busybox")"
	install -m 0755 "$src" "$busybox.tmp"
	mv "$busybox.tmp" "$busybox"
	rm -rf "$tmp"; trap - EXIT
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/vgpu-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# Classic (unmerged) layout with real directories, so that an EXTRA_DIR may
# bring its own /bin or /usr/bin files; busybox --install fills in the rest.
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/modules,etc,dev,proc,sys,tmp,run,root,opt/vgpu}
install -m 0755 "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$here/initramfs-init.sh" "$stage/init"

# Modules: the build/source links point back into the build tree, drop them.
cp -a "$moddir" "$stage/lib/modules/"
rm -f "$stage/lib/modules/$kver/build" "$stage/lib/modules/$kver/source"

for d in "$@"; do
	cp -a "$d"/. "$stage"/
done
depmod -b "$stage" "$kver"

# Archive. gen_init_cpio cannot express names with white space.
if bad=$(cd "$stage" && find . -name '*[[:space:]]*' -print -quit) && [ -n "$bad" ]; then
	log "file name with white space not supported: $bad"; exit 1
fi
mkdir -p "$(dirname "$OUT")"
gen=$KDIR/usr/gen_init_cpio
if [ -x "$gen" ]; then
	list=$stage.list
	trap 'rm -rf "$stage" "$list"' EXIT
	{
		(cd "$stage" && find . -mindepth 1 -printf '%y %P %m %l\n') |
		while read -r type name mode target; do
			case "$type" in
			d) echo "dir /$name $mode 0 0" ;;
			f) echo "file /$name $stage/$name $mode 0 0" ;;
			l) echo "slink /$name $target 0777 0 0" ;;
			*) log "skipping /$name (type $type)" ;;
			esac
		done
		# After /dev itself (find lists parents first).
		echo "nod /dev/console 0600 0 0 c 5 1"
	} > "$list"
	"$gen" "$list" | gzip -n -6 > "$OUT.tmp"
else
	log "no $gen: using GNU cpio (no /dev/console node in the archive)"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
		gzip -n -6 > "$OUT.tmp"
fi
mv "$OUT.tmp" "$OUT"
log "$OUT: $(du -h "$OUT" | cut -f1), kernel $kver, busybox $bbver"
echo "$OUT"
