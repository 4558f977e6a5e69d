#!/bin/sh
# Fetches the guest artifacts from Debian trixie's riscv64 archive: the kernel
# (linux-image-riscv64, resolved to the real linux-image-6.x-riscv64 package)
# and busybox-static. Uses apt-get with a private configuration (sources list,
# state and cache directories, architecture riscv64) so the host's apt setup is
# neither used nor changed; the Release file is verified against the host's
# debian-archive-keyring.
#
# Everything is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/vessel/guest/ and
# the script is idempotent: when the artifacts are present it touches no
# network. Nothing here is ever committed to the repository.
#
# Output (stdout), in shell syntax so callers can `eval "$(fetch-guest.sh)"`:
#   VESSEL_GUEST_KERNEL=<kernel Image>
#   VESSEL_GUEST_BUSYBOX=<static riscv64 busybox>
#   VESSEL_GUEST_MODULES=<directory with the .ko files>
#   VESSEL_GUEST_MODLIST=<file listing module file names in load order>
#   VESSEL_GUEST_KVER=<kernel release>
#
# Options: --refresh  ignore the cache and download again.
#          --quiet    no progress on stderr.
set -eu

SUITE=${VESSEL_GUEST_SUITE:-trixie}
MIRROR=${VESSEL_GUEST_MIRROR:-http://deb.debian.org/debian}
KEYRING=${VESSEL_GUEST_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vessel/guest
# Modules the guest needs (Debian builds virtio_mmio as a module); their
# dependencies are resolved below.
# crc32c_generic: ext4 asks the crypto API for "crc32c" (metadata_csum) at mount.
WANTED_MODULES="virtio_mmio virtio_blk virtio_net virtio_console virtio_rng crc32c_generic ext4"

refresh=0
quiet=0
for a in "$@"; do
	case $a in
	--refresh) refresh=1 ;;
	--quiet) quiet=1 ;;
	-h | --help)
		sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "fetch-guest.sh: unknown option '$a'" >&2
		exit 2
		;;
	esac
done

say() { [ "$quiet" = 1 ] || echo "fetch-guest: $*" >&2; }
die() {
	echo "fetch-guest: error: $*" >&2
	exit 1
}

STAMP=$CACHE/ready
print_paths() {
	# shellcheck disable=SC1090
	. "$STAMP"
	echo "VESSEL_GUEST_KERNEL=$CACHE/Image"
	echo "VESSEL_GUEST_BUSYBOX=$CACHE/busybox"
	echo "VESSEL_GUEST_MODULES=$CACHE/modules"
	echo "VESSEL_GUEST_MODLIST=$CACHE/modules/load-order"
	echo "VESSEL_GUEST_KVER=$KVER"
}

if [ "$refresh" = 0 ] && [ -f "$STAMP" ] && [ -f "$CACHE/Image" ] &&
	[ -x "$CACHE/busybox" ] && [ -f "$CACHE/modules/load-order" ]; then
	print_paths
	exit 0
fi

for tool in apt-get apt-cache dpkg-deb; do
	command -v "$tool" >/dev/null || die "$tool not found (this needs a Debian host)"
done
[ -r "$KEYRING" ] || die "$KEYRING not readable: install debian-archive-keyring"

mkdir -p "$CACHE"
APT=$CACHE/apt
mkdir -p "$APT/etc/sources.list.d" "$APT/etc/preferences.d" "$APT/etc/apt.conf.d" \
	"$APT/etc/trusted.gpg.d" "$APT/state/lists/partial" "$APT/cache/archives/partial" \
	"$APT/log" "$CACHE/debs"
: >"$APT/state/status"
cat >"$APT/etc/sources.list" <<EOF
deb [arch=riscv64 signed-by=$KEYRING] $MIRROR $SUITE main
EOF
# APT_CONFIG is read before the parts directory, so pointing Dir::Etc::Parts at
# an empty directory here keeps the host's apt.conf.d (hooks, proxies, docker
# cleanup rules) out of this private instance.
cat >"$APT/apt.conf" <<EOF
Dir::Etc "$APT/etc/";
Dir::Etc::main "/dev/null";
Dir::Etc::Parts "$APT/etc/apt.conf.d/";
Dir::Etc::SourceList "$APT/etc/sources.list";
Dir::Etc::SourceParts "$APT/etc/sources.list.d/";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$APT/etc/preferences.d/";
Dir::Etc::TrustedParts "$APT/etc/trusted.gpg.d/";
Dir::State "$APT/state/";
Dir::State::status "$APT/state/status";
Dir::Cache "$APT/cache/";
Dir::Log "$APT/log/";
APT::Architecture "riscv64";
APT::Architectures { "riscv64"; };
APT::Get::List-Cleanup "true";
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
Debug::NoLocking "true";
EOF
# As root, apt drops privileges to _apt, which cannot write into $HOME.
[ "$(id -u)" != 0 ] || echo 'APT::Sandbox::User "root";' >>"$APT/apt.conf"
export APT_CONFIG="$APT/apt.conf"

apt_q=-qq
[ "$quiet" = 1 ] || apt_q=-q
say "updating the package lists of $SUITE/riscv64 from $MIRROR"
# shellcheck disable=SC2086
apt-get $apt_q update >&2 || die "apt-get update failed (network? keyring?)"

# The metapackage depends on exactly one linux-image-<abi>-riscv64 package.
real_kernel=$(apt-cache show --no-all-versions linux-image-riscv64 |
	sed -n 's/^Depends: *//p' | tr ',' '\n' | sed 's/^ *//; s/ .*//' |
	grep -E '^linux-image-[0-9].*-riscv64$' | head -n1)
[ -n "$real_kernel" ] || die "cannot resolve linux-image-riscv64 to a kernel package"
say "kernel package: $real_kernel"

cd "$CACHE/debs"
rm -f ./*.deb
# shellcheck disable=SC2086
apt-get $apt_q download "$real_kernel" busybox-static >&2 || die "apt-get download failed"
kdeb=$(ls "$real_kernel"_*.deb)
bdeb=$(ls busybox-static_*.deb)

tmp=$(mktemp -d "$CACHE/unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
say "unpacking $kdeb"
dpkg-deb -x "$kdeb" "$tmp/k"
dpkg-deb -x "$bdeb" "$tmp/b"

kimage=$(ls "$tmp"/k/boot/vmlinu[xz]-* 2>/dev/null | head -n1)
[ -n "$kimage" ] || die "no /boot/vmlinux-* in $kdeb"
KVER=${kimage##*/vmlinu?-}
moddir=$(ls -d "$tmp"/k/lib/modules/"$KVER" "$tmp"/k/usr/lib/modules/"$KVER" 2>/dev/null | head -n1)
[ -n "$moddir" ] && [ -d "$moddir/kernel" ] || die "no modules for $KVER in $kdeb"
bb=$(ls "$tmp"/b/bin/busybox "$tmp"/b/usr/bin/busybox 2>/dev/null | head -n1)
[ -n "$bb" ] || die "no busybox binary in $bdeb"

# Resolve the wanted modules and their dependencies. The package ships no
# modules.dep (depmod makes it at install time, and kmod need not be on the
# host), so read each module's own "depends=" entry from its .modinfo section,
# which is what depmod would use too. Module names treat '-' and '_' alike.
# The result is a load order: every module after all of its dependencies.
# Modules built into the kernel (modules.builtin) are skipped.
(cd "$moddir" && find kernel -name '*.ko*') |
	awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); gsub(/-/, "_", n); print n, $0 }' \
	>"$tmp/index"
sed 's,.*/,,; s/\.ko$//; s/-/_/g' "$moddir/modules.builtin" >"$tmp/builtin"
module_cat() {
	case $1 in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -qdc "$1" ;;
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}
: >"$tmp/order"
visit() { # name stack
	_m=$(echo "$1" | tr - _)
	grep -qx "$_m" "$tmp/order.names" 2>/dev/null && return 0
	grep -qx "$_m" "$tmp/builtin" && return 0
	_p=$(awk -v m="$_m" '$1 == m { print $2; exit }' "$tmp/index")
	[ -n "$_p" ] || die "module $_m not found in $kdeb"
	_deps=$(module_cat "$moddir/$_p" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1 | tr , ' ')
	for _d in $_deps; do
		# recursion in POSIX sh shares variables: save ours on the way down
		visit "$_d"
		_m=$(echo "$1" | tr - _)
		_p=$(awk -v m="$_m" '$1 == m { print $2; exit }' "$tmp/index")
	done
	grep -qx "$_m" "$tmp/order.names" 2>/dev/null && return 0
	echo "$_m" >>"$tmp/order.names"
	echo "$_p" >>"$tmp/order"
}
for w in $WANTED_MODULES; do visit "$w"; done

rm -rf "$CACHE/modules.new"
mkdir -p "$CACHE/modules.new"
: >"$CACHE/modules.new/load-order"
while read -r rel; do
	f=${rel##*/}
	cp "$moddir/$rel" "$CACHE/modules.new/$f"
	echo "$f" >>"$CACHE/modules.new/load-order"
done <"$tmp/order"
rm -rf "$CACHE/modules"
mv "$CACHE/modules.new" "$CACHE/modules"
cp "$kimage" "$CACHE/Image.new" && mv "$CACHE/Image.new" "$CACHE/Image"
cp "$bb" "$CACHE/busybox.new" && chmod 0755 "$CACHE/busybox.new" && mv "$CACHE/busybox.new" "$CACHE/busybox"
{
	echo "KVER=$KVER"
	echo "KERNEL_DEB=${kdeb}"
	echo "BUSYBOX_DEB=${bdeb}"
} >"$STAMP"
say "kernel $KVER, $(wc -l <"$CACHE/modules/load-order") modules: $(tr '\n' ' ' <"$CACHE/modules/load-order")"
print_paths
