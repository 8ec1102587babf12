# SPDX-License-Identifier: GPL-2.0
# Sourced by setup-mesa.sh and setup-igt.sh (after versions.sh, arch.sh and their log()).
#
# extract_pinned SUITE TREE LOGFILE HOOK HINT PIN...
#   Unpacks the pinned packages PIN... (name=version) of SUITE and their dependencies into
#   TREE with mmdebstrap's extract variant (nothing runs on the host), HOOK being its
#   --extract-hook; mmdebstrap's output goes to LOGFILE. On failure it says whether the
#   mirror no longer carries a pinned version (then HINT in versions.sh needs a bump) and
#   returns 1. A suite's Release file may be past its Valid-Until date on a stale mirror:
#   that is not checked.
extract_pinned() {
	local suite=$1 tree=$2 mlog=$3 hook=$4 hint=$5 missing
	shift 5
	if mmdebstrap --variant=extract --architectures="$DEB_ARCH" \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--include="$(IFS=,; echo "$*")" \
		--extract-hook="$hook" \
		"$suite" "$tree" "$DEBIAN_MIRROR" > "$mlog" 2>&1; then
		return 0
	fi
	missing="Version '.*' for '.*' was not found|Unable to locate package"
	if grep -qE "$missing" "$mlog"; then
		log "the mirror ($DEBIAN_MIRROR, $suite) no longer has a pinned version:"
		grep -E "$missing" "$mlog" >&2
		log "bump $hint in versions.sh (apt-cache policy on the suite shows what it has)," \
		    "or point DEBIAN_MIRROR at snapshot.debian.org"
	else
		tail -30 "$mlog" >&2
		log "mmdebstrap failed"
	fi
	return 1
}
