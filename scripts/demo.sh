#!/bin/sh
# The README's main command (`make demo`): installs the Debian packages Vessel
# needs, builds build/vessel, pulls Debian's riscv64 kernel and busybox with
# `vessel image pull debian --disk 1G` (verified against the archive's
# signed index; initramfs and an ext4 qcow2 root disk under
# ${XDG_CACHE_HOME:-~/.cache}/vessel/images/debian/), then boots it from that
# disk under `vessel vm run`, with the console on
# this terminal. Files written in the guest stay on the disk across runs.
# `poweroff -f` in the guest, or Ctrl-A x, leaves.
#
# Extra arguments go to `vessel vm run` (e.g. --cpus 2, --console virtio, or
# --bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin).
set -eu
cd "$(dirname "$0")/.."

./scripts/deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
disk=${XDG_CACHE_HOME:-$HOME/.cache}/vessel/images/debian/demo.qcow2
# A disk from an earlier demo is kept (it holds the user's files): the pull
# then only refreshes the kernel and initramfs.
if [ -e "$disk" ]; then
	build/vessel image pull debian
else
	build/vessel image pull debian --disk 1G --output "$disk"
fi
echo "demo: booting Debian's kernel from $disk; 'poweroff -f' or Ctrl-A x leaves" >&2
exec build/vessel vm run --image debian --disk "$disk" --memory 512M "$@"
