#!/bin/sh
# Writes a private podman configuration for driving an OCI runtime on this
# host, without touching /etc/containers: containers.conf and storage.conf in
# DIR, storage (vfs driver) and run state under DIR too. Prints the
# environment to use (eval it):
#
#   eval "$(scripts/podman-setup.sh /tmp/pm /path/to/vessel-runtime)"
#   podman --runtime "$RUNTIME" run ...
#
# The settings this host needs (see docs/containers.md): cgroupfs (no systemd
# cgroup driver), file events (no journald), default ulimits within the hard
# limits (the bounding set lacks CAP_SYS_RESOURCE), no network namespace
# setup (netns "none"), and the runtime named in runtime_supports_json so
# that podman passes --log-format=json to it and reads its errors.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR RUNTIME" >&2; exit 2; }
dir=$1
runtime=$2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
name=$(basename "$runtime")
mkdir -p "$dir/storage" "$dir/run" "$dir/tmp" "$dir/volumes" "$dir/net"
cat >"$dir/containers.conf" <<CONF
[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
log_driver = "k8s-file"

[network]
network_config_dir = "$dir/net"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events.log"
tmp_dir = "$dir/tmp"
volume_path = "$dir/volumes"
runtime = "$name"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "$name"]

[engine.runtimes]
$name = ["$runtime"]
CONF
cat >"$dir/storage.conf" <<CONF
[storage]
driver = "vfs"
runroot = "$dir/run"
graphroot = "$dir/storage"
CONF
cat <<ENV
export CONTAINERS_CONF='$dir/containers.conf'
export CONTAINERS_STORAGE_CONF='$dir/storage.conf'
export PODMAN_DIR='$dir'
ENV
