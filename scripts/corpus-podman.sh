#!/bin/bash
# corpus-podman.sh BIN OUT: record OUT (testdata/corpus/podman.scap) with BIN/gosysdig while the
# workload's podman_init scenario runs as pid 1 of a real podman container (runc, its own PID
# namespace, no network), metadata from podman's API. The filter is container.id!=host, so the
# capture holds the container's whole life from runc init on (its pid 1 cloned into the new PID
# namespace, then exec'd as cwl). Called by corpus-record.sh; skips with a message (the
# committed capture stays) without root, podman, runc or a static busybox.
#
# The cgroup: podman's cgroupfs manager (the only one without systemd, as here) puts a
# container in /libpod_parent/libpod-<id>, whatever --cgroup-parent says (the last component
# is always libpod-<id>), and sysdig 0.29.3 knows podman only in the layout of podman's
# systemd manager, /machine.slice/libpod-<id>.scope (libsinsp runc.cpp matches "/libpod-",
# 64 hex digits, ".scope"). So runc is called through a wrapper that gives it, in the bundle's
# config.json, the cgroupsPath podman's systemd manager would have given: the container, its
# processes and the capture are real, the cgroup is the one of a systemd host.
set -eu
cd "$(dirname "$0")/.."
bin=$1 out=$2
skip() { echo "podman: $*: skipping (the committed capture stays)"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
for t in podman runc busybox tar; do command -v "$t" >/dev/null || skip "$t not installed"; done
busybox=$(command -v busybox)
ldd "$busybox" >/dev/null 2>&1 && skip "$busybox is not static (apt-get install busybox-static)"

w=$bin/podman
rm -rf "$w"; mkdir -p "$w/root/bin" "$w/root/tmp" "$w/root/etc" "$w/root/proc" "$w/root/sys" "$w/root/dev"
cat >"$w/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF=$w/containers.conf
cat >"$w/runc" <<EOF
#!/bin/sh
# runc with the container's cgroup moved to systemd's layout (see corpus-podman.sh).
prev=
for a in "\$@"; do
  if [ "\$prev" = --bundle ]; then
    sed -i -E 's#"cgroupsPath":"[^"]*/libpod-([0-9a-f]{64})"#"cgroupsPath":"/machine.slice/libpod-\\1.scope"#' "\$a/config.json"
  fi
  prev=\$a
done
exec $(command -v runc) "\$@"
EOF
chmod +x "$w/runc"

cp "$busybox" "$w/root/bin/busybox"
for a in sh cat; do ln -s busybox "$w/root/bin/$a"; done
CGO_ENABLED=0 go build -o "$w/root/bin/cwl" ./internal/corpus/workload
tar -C "$w/root" -cf "$w/image.tar" .
image=localhost/gosysdig-corpus:latest name=gosysdig-corpus
podman rm -f --ignore "$name" >/dev/null
podman import -q "$w/image.tar" "$image" >/dev/null

# machine.slice is left as found: made here, it goes (empty) at the end.
slices=$(ls -d /sys/fs/cgroup/*/machine.slice 2>/dev/null || true)
sock=$w/podman.sock
podman system service --time=0 "unix://$sock" & svc=$!
trap 'kill $svc 2>/dev/null; wait $svc 2>/dev/null; podman rmi -f "$image" >/dev/null 2>&1
  [ -n "$slices" ] || rmdir /sys/fs/cgroup/*/machine.slice 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "podman: podman system service did not start"; exit 1; }

rm -f "$w/ready" "$out"
"$bin/gosysdig" --podman-socket "$sock" --ready-file "$w/ready" -z -s 80 -w "$out" "container.id!=host" &
g=$!
for _ in $(seq 600); do [ -e "$w/ready" ] && break; sleep 0.1; done
[ -e "$w/ready" ] || { echo "podman: probe not ready"; exit 1; }
podman --runtime "$w/runc" run --rm --name "$name" --hostname cwl-podman --network none "$image" /bin/cwl podman_init
sleep 0.5
kill -INT $g; wait $g || true
c=$(sysdig -r "$out" | wc -l)
echo "podman: $c events"
[ "$c" -gt 0 ] || { echo "podman: sysdig reads no events"; exit 1; }
