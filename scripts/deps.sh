#!/bin/sh
# Installs, from Debian 12's archive, everything Vessel needs to build, to run
# its tests and its benchmarks. Idempotent: does nothing when all is present.
set -eu
PKGS="
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  libcmocka-dev libfdt-dev libjansson-dev libseccomp-dev libcap-dev
  libslirp-dev libglib2.0-dev zlib1g-dev libcurl4-openssl-dev libarchive-dev gpgv debian-archive-keyring e2fsprogs
  gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu device-tree-compiler
  qemu-system-misc qemu-utils opensbi
  runc crun podman busybox-static
  cpio xz-utils zstd curl ca-certificates iproute2 util-linux procps psmisc
  jq time python3 bsdutils strace qemu-user
"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
