#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by run-tests.sh (busybox sh): Debian's amd64 IGT as shipped, from the read-only
# disk run-qemu.sh --disk attaches (setup-igt.sh's image), run in a chroot of that disk
# against whichever virtio_gpu driver is bound. Every subtest runs in a process of its own
# (--run-subtest) under a timeout, and every subtest and dynamic subtest becomes one TAP
# line named test@subtest[@dynamic] (a binary without subtests: just its name):
#   ok N NAME                          pass
#   ok N NAME # SKIP requirement       skip
#   not ok N NAME # FAIL|TIMEOUT|CRASH detail, then the IGT output as "# " lines
# The plan comes last, as the number of dynamic subtests is known only after running.
# parse-results.py holds the lines against tools/testing/igt/expected*.txt.
#
# Environment: VGPU_IGT_TIMEOUT seconds per subtest process (default 120),
# VGPU_IGT_FILTER comma-separated globs on test@subtest (or on the test name) to run only
# those, e.g. drm_virtgpu@drm-virtgpu-getparam, drm_virtgpu@*getparam or core_*.
I=/mnt/igt
IGT_BIN=/usr/libexec/igt-gpu-tools
IGT_LIST=$T/igt/tests.txt

# Mounts the disk at $I; fails (and leaves nothing mounted) without an IGT image.
igt_disk() {
	mkdir -p $I
	if [ -b /dev/vda ] && mount -t ext4 -o ro /dev/vda $I 2>/dev/null; then
		[ -e $I/.vgpu-igt-manifest ] && return 0
		umount $I
	fi
	return 1
}

# Binds what IGT needs into the chroot: device nodes (DRM, sw_sync in debugfs, dma-heaps),
# sysfs and debugfs (card discovery, unbind/rebind), and the modules libkmod loads.
# Prints what failed, if anything.
igt_bind() {
	for d in dev dev/pts dev/shm proc sys sys/kernel/debug tmp run; do
		mount -o bind /$d $I/$d || echo "bind mount of /$d failed"
	done
	mount -o bind /lib/modules $I/usr/lib/modules || echo "bind mount of /lib/modules failed"
}

# Unmounts everything; returns umount's status of the disk itself.
igt_unmount() {
	for d in usr/lib/modules run tmp sys/kernel/debug sys proc dev/shm dev/pts dev; do
		umount $I/$d
	done
	umount $I
}

# igt_exec SECONDS OUT PROG [ARG...]: one IGT process in the chroot, with a clean
# environment, its output in OUT; returns its exit status. The generic tests leave
# virtio_gpu out of their "any driver" card choice unless it is forced. IGT runs its exit
# handlers on the TERM of the timeout; a KILL follows 15 s later if that hangs.
igt_exec() {
	secs=$1; out=$2; shift 2
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8 \
		IGT_FORCE_DRIVER=virtio_gpu \
		timeout -k 15 "$secs" chroot $I "$@" > "$out" 2>&1 < /dev/null
}

# igt_wanted NAME: whether VGPU_IGT_FILTER selects NAME (test or test@subtest). A
# pattern on subtests selects the binaries its test part matches.
igt_wanted() {
	[ -z "$igt_filter" ] && return 0
	for p in $igt_filter; do
		# shellcheck disable=SC2254
		case "$1" in $p | $p@*) return 0 ;; esac
		# shellcheck disable=SC2254
		case "$1" in *@*) ;; ${p%%@*}) return 0 ;; esac
	done
	return 1
}

# igt_tap STATUS NAME [DETAIL] [OUTFILE]: one TAP line (STATUS pass, skip, fail, timeout,
# crash), and for anything but pass and skip the IGT output of OUTFILE, truncated: its
# own lines first, then the end of the debug log IGT dumps after a failure.
igt_tap() {
	igt_n=$((igt_n + 1))
	case "$1" in
	pass) echo "ok $igt_n $2" ;;
	skip) echo "ok $igt_n $2 # SKIP ${3:-}" ;;
	*)
		echo "not ok $igt_n $2 # $(echo "$1" | tr a-z A-Z) ${3:-}"
		[ -n "${4:-}" ] && [ -e "$4" ] && awk '
			/^\*\*\*\* DEBUG \*\*\*\*/ { dbg = 1; next }
			/^\*\*\*\*  END  \*\*\*\*/ { dbg = 0; next }
			dbg { d[nd++] = $0; next }
			{ if (no < 30) print "# " $0; else more++; no++ }
			END {
				if (more) print "# ... " more " more lines"
				if (nd) print "# IGT debug log, last " (nd < 15 ? nd : 15) " of " nd " lines:"
				for (i = (nd > 15 ? nd - 15 : 0); i < nd; i++) print "#   " d[i]
			}' "$4"
		;;
	esac
}

# igt_skip_reason OUTFILE: IGT's "Test requirement: ..." line, or its last line.
igt_skip_reason() {
	r=$(grep -m1 '^Test requirement: ' "$1" | cut -c1-160)
	[ -n "$r" ] || r=$(grep -v '^Subtest .*: SKIP' "$1" | tail -1 | cut -c1-160)
	echo "$r" | tr '#' '_'
}

# igt_fate RC SECONDS TIMEOUT: how one process ended: timeout (killed by our timeout),
# crash (another signal), or exit.
igt_fate() {
	if [ "$1" -ge 124 ] && [ "${2%.*}" -ge "$3" ]; then echo timeout
	elif [ "$1" -gt 128 ]; then echo crash
	else echo exit
	fi
}

# igt_result NAME RC SECONDS TIMEOUT OUTFILE: the TAP line of one process.
igt_result() {
	name=$1; rc=$2; out=$5
	case "$(igt_fate "$rc" "$3" "$4")" in
	timeout) igt_tap timeout "$name" "after $4 s (exit status $rc)" "$out" ;;
	crash) igt_tap crash "$name" "signal $((rc - 128))" "$out" ;;
	*)
		case "$rc" in
		0) igt_tap pass "$name" ;;
		77) igt_tap skip "$name" "$(igt_skip_reason "$out")" ;;
		98) igt_tap fail "$name" "" "$out" ;;
		*) igt_tap fail "$name" "exit status $rc" "$out" ;;
		esac
		;;
	esac
}

# igt_dynamic PREFIX RC FATE OUTFILE: one TAP line per dynamic subtest in OUTFILE, from
# IGT's "Starting dynamic subtest: X" and "Dynamic subtest X: RESULT (Ns)" lines, with the
# output between the two for anything but a pass. One started but never finished gets
# the FATE of the whole process (igt_fate: a timeout or a crash; a fail otherwise).
igt_dynamic() {
	grep -q '^Starting dynamic subtest: ' "$4" || return 0
	awk -v prefix="$1" -v rc="$2" -v fate="$3" -v n="$igt_n" -v nfile=/tmp/igt.n '
		function emit(st, name, why,   i, m) {
			n++
			if (st == "pass") { print "ok " n " " prefix "@" name; return }
			if (st == "skip") { print "ok " n " " prefix "@" name " # SKIP " why; return }
			print "not ok " n " " prefix "@" name " # " toupper(st) " " why
			m = nb > 30 ? 30 : nb
			for (i = 0; i < m; i++) print "# " b[i]
			if (nb > m) print "# ... " (nb - m) " more lines"
		}
		/^Starting dynamic subtest: / {
			cur = substr($0, 27); nb = 0; req = ""; next
		}
		cur != "" && /^Dynamic subtest .*: [A-Z]+/ {
			res = $0; sub(/ \([0-9.]+s\)$/, "", res); sub(/.*: /, "", res)
			st = res == "SUCCESS" ? "pass" : res == "SKIP" ? "skip" :
			     res == "CRASH" ? "crash" : res == "TIMEOUT" ? "timeout" : "fail"
			why = st == "skip" ? req : st == "fail" && res != "FAIL" ? res : ""
			gsub(/#/, "_", why)
			emit(st, cur, why); cur = ""; next
		}
		cur != "" {
			if (nb < 200) b[nb++] = $0
			if (req == "" && /^Test requirement: /) req = substr($0, 1, 160)
		}
		END {
			if (cur != "")
				emit(fate == "exit" ? "fail" : fate, cur, "never finished (exit status " rc ")")
			print n > nfile
		}' "$4"
	igt_n=$(cat /tmp/igt.n)
}

# igt_modules: the loaded modules, sorted, on one line.
igt_modules() { cut -d' ' -f1 /proc/modules | sort | tr '\n' ' '; }

# igt_uptime: seconds since boot, with decimals; igt_since T: seconds since T.
igt_uptime() { cut -d' ' -f1 /proc/uptime; }
igt_since() { awk -v a="$1" '{ printf "%.1f", $1 - a }' /proc/uptime; }

# igt_run_list LIST: the TAP lines of every binary named in LIST (one per line, "#"
# comments), against the driver bound now. Numbering continues from $igt_n.
igt_run_list() {
	tmo=${VGPU_IGT_TIMEOUT:-120}
	igt_filter=$(echo "${VGPU_IGT_FILTER:-}" | tr ',' ' ')
	[ -z "$igt_filter" ] || echo "# IGT filter: $igt_filter"
	o=/tmp/igt.out
	# Names and patterns are words, never file globs.
	set -f
	for test in $(sed 's/#.*//' "$1"); do
		igt_wanted "$test" || continue
		t0=$(igt_uptime); before=$igt_n; mods=$(igt_modules)
		if [ ! -x "$I$IGT_BIN/$test" ]; then
			igt_tap fail "$test" "not in the IGT image"
			continue
		fi
		igt_exec 60 $o "$IGT_BIN/$test" --list-subtests; rc=$?
		subs=$(cat $o)
		if [ $rc != 0 ] && [ -n "$subs" ]; then
			igt_tap fail "$test" "--list-subtests: exit status $rc" $o
			continue
		fi
		if [ -z "$subs" ]; then
			# A test without subtests runs as a whole.
			igt_exec "$tmo" $o "$IGT_BIN/$test"; rc=$?
			igt_result "$test" $rc "$(igt_since "$t0")" "$tmo" $o
		fi
		for sub in $subs; do
			igt_wanted "$test@$sub" || continue
			s=$(igt_uptime)
			igt_exec "$tmo" $o "$IGT_BIN/$test" --run-subtest "$sub"; rc=$?
			el=$(igt_since "$s")
			igt_dynamic "$test@$sub" $rc "$(igt_fate $rc "$el" "$tmo")" $o
			igt_result "$test@$sub" $rc "$el" "$tmo" $o
		done
		echo "# $test: $((igt_n - before)) results in $(igt_since "$t0") s"
		# IGT loads drivers it wants to open (drm_load_module), e.g. the C virtio_gpu.
		[ "$mods" = "$(igt_modules)" ] ||
			echo "# $test: modules before: $mods; after: $(igt_modules)"
	done
	set +f
}

# igt_bound: the driver bound to the GPU (virtio device id 16), or nothing.
igt_bound() {
	for d in /sys/bus/virtio/devices/*; do
		[ "$(cat $d/device)" = 0x0010 ] && [ -e $d/driver ] && basename "$(readlink $d/driver)"
	done
}

# igt_section NAME [c]: the section NAME on our driver, or (c) on the upstream C driver,
# which replaces ours for the run and is replaced by ours after it. Expects the image
# mounted (igt_disk) and bound (igt_bind, its complaints in $igt_why), $KO our module.
# Besides the IGT results: NAME-setup (chroot, and the GPU bound to the driver under
# test), NAME-still-bound (the same after the run: core_hotunplug unbinds, removes and
# rebinds it) and, for the C driver, NAME-back-to-ours.
igt_section() {
	start=$(igt_uptime)
	echo "VGPU-SECTION-BEGIN tap $1"
	echo "TAP version 13"
	echo "# $(grep -E '^(igt-gpu-tools-tests|libdrm2|libc6) ' $I/.vgpu-igt-manifest | tr '\n' ' ')"
	igt_n=0
	why=$igt_why
	want=virtio_gpu_rs
	if [ "${2:-}" = c ]; then
		want=virtio_gpu
		# IGT may have loaded the C module during an earlier section (it modprobes the
		# drivers it looks for): a loaded module does not probe a device released later.
		{ rmmod virtio_gpu_rs && { ! grep -q '^virtio_gpu ' /proc/modules ||
			rmmod virtio_gpu; } && modprobe virtio-gpu; } ||
			why="$why could not switch to the C driver"
	fi
	[ -r "$IGT_LIST" ] || why="$why no test list $IGT_LIST in the initramfs"
	drv=$(igt_bound)
	[ "$drv" = $want ] || why="$why the GPU is bound to '$drv', not $want"
	echo "# GPU bound to: $drv"
	if [ -z "$why" ]; then
		igt_tap pass "$1-setup"
		igt_run_list "$IGT_LIST"
		now=$(igt_bound)
		if [ "$now" = $want ]; then igt_tap pass "$1-still-bound"; else
			igt_tap fail "$1-still-bound" "the GPU is bound to '$now' after the run, not $want"
		fi
	else
		igt_tap fail "$1-setup" "$why"
	fi
	if [ "${2:-}" = c ]; then
		if rmmod virtio_gpu && insmod $KO && [ "$(igt_bound)" = virtio_gpu_rs ]; then
			igt_tap pass "$1-back-to-ours"
		else
			igt_tap fail "$1-back-to-ours" "could not switch back from the C driver to ours"
		fi
	elif grep -q '^virtio_gpu ' /proc/modules; then
		# Loaded by IGT but bound to nothing: leave the module state as it was.
		rmmod virtio_gpu
	fi
	echo "1..$igt_n"
	echo "VGPU-SECTION-END $1"
	echo "vgpu: $1 section took $(igt_since "$start") s"
}
