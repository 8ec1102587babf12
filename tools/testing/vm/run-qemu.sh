#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boots a test guest under QEMU (TCG unless --accel kvm) from the sid chroot of
# setup-chroot.sh.
#
#   run-qemu.sh --arch ARCH --kernel IMAGE --initrd CPIO --gpu {2d|gl}
#               [--log FILE] [--timeout SECONDS] [--append "CMDLINE"] [--mem SIZE]
#               [--display {gtk|sdl}] [--disk IMG] [--accel {tcg|kvm}]
#
# --gpu 2d   virtio-gpu-pci, no GL, -display none.
# --gpu gl   virtio-gpu-gl-pci,blob=true,hostmem=256M,venus=on, rendered by
#            Mesa llvmpipe on a private Xvfb inside the chroot through
#            -display gtk,gl=on (--display sdl for sdl,gl=on).
# --disk IMG attaches IMG read-only as a raw virtio-blk disk (e.g. setup-mesa.sh's
#            image). QEMU gets it as an open file descriptor, so IMG need not be
#            inside the chroot and is never written.
#
# The serial console (carriage returns stripped) goes to stdout and, with
# --log, to FILE as well; QEMU's own diagnostics go to stderr. Returns when the
# guest powers off (or panics: panic=-1 plus -no-reboot ends QEMU) with QEMU's
# exit status, or kills QEMU after --timeout seconds (default 600) and exits
# 124. Needs no terminal: QEMU's stdin is /dev/null.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"

usage() {
	echo "usage: run-qemu.sh --arch ARCH --kernel IMAGE --initrd CPIO --gpu {2d|gl}" \
	     "[--log FILE] [--timeout SECONDS] [--append \"CMDLINE\"] [--mem SIZE] [--display {gtk|sdl}]" \
	     "[--disk IMG] [--accel {tcg|kvm}]" >&2
	exit 2
}

ARCH= KERNEL= INITRD= GPU= LOG= TIMEOUT=600 APPEND= MEM=2G DISPLAY_UI=gtk DISK= ACCEL=tcg
while (($#)); do
	case "$1" in
	--arch) ARCH=$2; shift 2 ;;
	--kernel) KERNEL=$2; shift 2 ;;
	--initrd) INITRD=$2; shift 2 ;;
	--gpu) GPU=$2; shift 2 ;;
	--log) LOG=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--append) APPEND=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--display) DISPLAY_UI=$2; shift 2 ;;
	--disk) DISK=$2; shift 2 ;;
	--accel) ACCEL=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "run-qemu.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
[ -n "$ARCH" ] && [ -n "$KERNEL" ] && [ -n "$INITRD" ] && [ -n "$GPU" ] || usage
case "$GPU" in 2d|gl) ;; *) echo "run-qemu.sh: --gpu must be 2d or gl" >&2; exit 2 ;; esac
case "$DISPLAY_UI" in gtk|sdl) ;; *) echo "run-qemu.sh: --display must be gtk or sdl" >&2; exit 2 ;; esac
case "$ACCEL" in tcg|kvm) ;; *) echo "run-qemu.sh: --accel must be tcg or kvm" >&2; exit 2 ;; esac
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || { echo "run-qemu.sh: bad --timeout '$TIMEOUT'" >&2; exit 2; }
[ -r "$KERNEL" ] || { echo "run-qemu.sh: no kernel '$KERNEL'" >&2; exit 2; }
[ -r "$INITRD" ] || { echo "run-qemu.sh: no initrd '$INITRD'" >&2; exit 2; }
[ -z "$DISK" ] || [ -r "$DISK" ] || { echo "run-qemu.sh: no disk image '$DISK'" >&2; exit 2; }
. "$here/arch.sh"

log() { echo "[run-qemu $ARCH-$GPU] $*" >&2; }

CHROOT=$("$here/setup-chroot.sh")

# Per-run directory inside the chroot: kernel, initrd, console FIFO, the
# XDG_RUNTIME_DIR for gtk/sdl (mktemp makes it 0700), Xvfb's log.
work=$(mktemp -d "$CHROOT/tmp/vgpu-run-XXXXXX")
cwork=/tmp/${work##*/}           # the same directory as seen inside the chroot
xpid= qpid= tpid=

# Stops a process we started: TERM, up to 5 s of grace, then KILL (with
# GROUP=1 the KILL goes to its whole process group).
stop() {
	local pid=$1 group=${2:-0} i
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ((group)); then kill -KILL -- "-$pid" 2>/dev/null || true; fi
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	# timeout(1) leads its own process group (QEMU and virgl's render
	# server) and forwards the TERM to QEMU.
	stop "$qpid" 1
	stop "$xpid"
	stop "$tpid"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$ACCEL" = kvm ] && [ ! -e "$CHROOT/dev/kvm" ]; then
	# The chroot has a minimal /dev: give it the host's KVM node (same numbers).
	[ -c /dev/kvm ] || { log "no /dev/kvm on this host"; exit 1; }
	read -r kmaj kmin < <(stat -c '%t %T' /dev/kvm)
	mknod -m 0660 "$CHROOT/dev/kvm" c "$((16#$kmaj))" "$((16#$kmin))"
fi

cp "$KERNEL" "$work/kernel"
cp "$INITRD" "$work/initrd"

# Clean environment for everything run inside the chroot.
cenv=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)

qemu=("$QEMU_BIN" "${QEMU_MACHINE[@]}" -accel "$ACCEL" -smp 2 -m "$MEM" -nic none -no-reboot
      -kernel "$cwork/kernel" -initrd "$cwork/initrd"
      -append "console=$QEMU_CONSOLE panic=-1 loglevel=7 kunit.enable=1 kunit.autorun=1${APPEND:+ $APPEND}"
      -serial stdio -monitor none -parallel none)

if [ "$GPU" = 2d ]; then
	qemu+=(-display none -device virtio-gpu-pci)
else
	# Private X server. Start at :90 and skip numbers whose lock file in the
	# chroot has a live owner or whose abstract socket exists on the host: the abstract
	# namespace is shared with the host and with other chroots, and libxcb tries
	# it first, so QEMU could otherwise end up on somebody else's server. Xvfb
	# writes the display number to -displayfd once it accepts connections; if
	# it loses a race for the number it exits and the next one is tried.
	mkfifo "$work/xready"
	dpy=
	for ((n = 90; n < 190; n++)); do
		# A lock whose owner is gone is stale: Xvfb itself replaces those.
		if [ -e "$CHROOT/tmp/.X$n-lock" ] &&
		   kill -0 "$(tr -d ' \n' <"$CHROOT/tmp/.X$n-lock" 2>/dev/null)" 2>/dev/null; then
			continue
		fi
		! grep -q "@/tmp/.X11-unix/X$n\$" /proc/net/unix || continue
		chroot "$CHROOT" "${cenv[@]}" Xvfb ":$n" -screen 0 1280x1024x24 -nolisten tcp \
			-displayfd 3 3>"$work/xready" </dev/null >"$work/xvfb.log" 2>&1 &
		xpid=$!
		if read -r -t 30 got <"$work/xready" && [ "$got" = "$n" ]; then
			dpy=$n; break
		fi
		stop "$xpid"; xpid=
	done
	[ -n "$dpy" ] || { cat "$work/xvfb.log" >&2 || true; log "could not start Xvfb"; exit 1; }
	log "Xvfb on :$dpy (pid $xpid)"
	# NO_AT_BRIDGE: gtk would otherwise look for an accessibility bus on D-Bus.
	cenv+=(DISPLAY=":$dpy" XDG_RUNTIME_DIR="$cwork" NO_AT_BRIDGE=1 GDK_BACKEND=x11)
	qemu+=(-display "$DISPLAY_UI,gl=on"
	       -device virtio-gpu-gl-pci,blob=true,hostmem=256M,venus=on)
fi

# Console: QEMU -> FIFO -> strip CRs -> stdout (+ log). QEMU runs under
# timeout(1) in the background so that a signal to this script interrupts
# `wait` and the EXIT trap can stop it.
mkfifo "$work/console"
if [ -n "$LOG" ]; then
	mkdir -p "$(dirname "$LOG")"
	sed -u 's/\r$//' <"$work/console" | tee "$LOG" &
else
	sed -u 's/\r$//' <"$work/console" &
fi
tpid=$!

if [ -n "$DISK" ]; then
	# Opened read-only here and handed over as an fd set: the chroot cannot see the image.
	exec {diskfd}<"$DISK"
	qemu+=(-add-fd "fd=$diskfd,set=1,opaque=disk"
	       -drive "file=/dev/fdset/1,if=none,id=disk0,format=raw,readonly=on"
	       -device virtio-blk-pci,drive=disk0)
	log "disk $DISK (read-only)"
fi

log "starting $QEMU_BIN, $ACCEL (timeout ${TIMEOUT}s)"
start=$EPOCHREALTIME
timeout -k 10 "$TIMEOUT" chroot "$CHROOT" "${cenv[@]}" "${qemu[@]}" </dev/null >"$work/console" &
qpid=$!
rc=0
wait "$qpid" || rc=$?
qpid=
wait "$tpid" || true
tpid=
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
if ((rc == 124 || rc == 137)); then
	log "timed out after ${TIMEOUT}s, QEMU killed"
	rc=124
else
	log "QEMU exited with status $rc after ${secs}s"
fi
exit "$rc"
