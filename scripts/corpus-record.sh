#!/bin/bash
# corpus-record.sh [SCENARIO...]: record testdata/corpus/NAME.scap for every workload scenario
# (internal/corpus/workload) with gosysdig's live probe, filtered on the workload's process tree
# (it runs as a binary named cwl), and check that sysdig 0.29.3 reads each file back. Root.
# The podman capture runs its scenario in a real podman container (scripts/corpus-podman.sh).
set -eu
cd "$(dirname "$0")/.."
out=testdata/corpus
bin=$(mktemp -d); trap 'rm -rf "$bin"' EXIT
CGO_ENABLED=0 go build -o "$bin/gosysdig" ./cmd/gosysdig
go build -o "$bin/cwl" ./internal/corpus/workload
helpers=" renamed_child setid_child pidns_init podman_init "
names=${*:-$("$bin/cwl") podman}
for n in $names; do
  [[ $helpers == *" $n "* ]] && continue
  if [ "$n" = podman ]; then
    scripts/corpus-podman.sh "$bin" "$out/$n.scap"
    continue
  fi
  snap=80; [ "$n" = bigwrite ] && snap=1000
  rm -f "$bin/ready" "$out/$n.scap"
  if [[ $n == mid_* ]]; then (cd /tmp && "$bin/cwl" "$n") & wl=$!; sleep 0.5; fi
  "$bin/gosysdig" --ready-file "$bin/ready" -z -s "$snap" -w "$out/$n.scap" "proc.name=cwl or proc.aname=cwl" &
  g=$!
  for _ in $(seq 600); do [ -e "$bin/ready" ] && break; sleep 0.1; done
  [ -e "$bin/ready" ] || { echo "$n: probe not ready"; exit 1; }
  if [[ $n == mid_* ]]; then touch "/tmp/cwl-$n/go"; wait $wl || true; else (cd /tmp && "$bin/cwl" "$n") || true; fi
  sleep 0.5
  kill -INT $g; wait $g || true
  c=$(sysdig -r "$out/$n.scap" | wc -l)
  echo "$n: $c events"
  [ "$c" -gt 0 ] || { echo "$n: sysdig reads no events"; exit 1; }
done
