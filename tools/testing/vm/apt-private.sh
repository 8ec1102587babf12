#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# apt-get with a private configuration and state under the cache, used only to
# *download* .debs (kernel source, guest userspace for any architecture) from
# Debian suites the host must never install from.
#
#   apt-private.sh download-to DIR PKG[:ARCH][=VER]...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"

root=$VGPU_CACHE/apt-private
suites="sid"
mkdir -p "$root"/etc/apt/{sources.list.d,preferences.d,apt.conf.d,trusted.gpg.d} \
	"$root"/var/lib/apt/lists/partial "$root"/var/cache/apt/archives/partial "$root"/var/lib/dpkg
touch "$root/var/lib/dpkg/status"
cat > "$root/etc/apt/sources.list" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR $suites main
EOS

opts=(-o "Dir=$root" -o "Dir::State::status=$root/var/lib/dpkg/status"
      -o "Dir::Etc::trusted=/etc/apt/trusted.gpg" -o "Dir::Etc::trustedparts=/etc/apt/trusted.gpg.d"
      -o "APT::Architecture=amd64" -o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64"
      -o "Acquire::Check-Valid-Until=false" -o "Debug::NoLocking=1" -o "APT::Get::List-Cleanup=0")

stamp=$root/updated
# Refresh the index at most once a day.
if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
	apt-get "${opts[@]}" -qq update
	touch "$stamp"
fi

case "${1:-}" in
download-to)
	dest=$2; shift 2
	mkdir -p "$dest"
	cd "$dest"
	apt-get "${opts[@]}" -qq download "$@"
	;;
policy|show)
	apt-cache "${opts[@]}" "$@"
	;;
*)
	echo "usage: $0 download-to DIR PKG... | policy PKG | show PKG" >&2; exit 2
	;;
esac
