#!/bin/sh
# The README's main command (`make demo`): installs the Debian packages Vessel
# needs, builds build/vessel, fetches Debian's riscv64 kernel and busybox,
# builds the initramfs and boots it under `vessel vm run` with the console on
# this terminal. `poweroff -f` in the guest, or Ctrl-A x, leaves.
#
# Extra arguments go to `vessel vm run` (e.g. --cpus 2, or
# --bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin).
set -eu
cd "$(dirname "$0")/.."

./scripts/deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
eval "$(./scripts/fetch-guest.sh)"
initrd=$(./scripts/mkinitramfs.sh)
echo "demo: booting Debian's $VESSEL_GUEST_KVER kernel; 'poweroff -f' or Ctrl-A x leaves" >&2
exec build/vessel vm run --kernel "$VESSEL_GUEST_KERNEL" --initrd "$initrd" \
	--memory 256M --append "console=ttyS0" "$@"
