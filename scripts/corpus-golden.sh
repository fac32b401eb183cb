#!/bin/bash
# corpus-golden.sh: write sysdig 0.29.3's output for every testdata/corpus capture x case of
# testdata/corpus/cases.tsv into testdata/corpus/golden/CAPTURE__CASE.out.gz (as
# ../shared/compat/gen.sh: TZ=UTC LC_ALL=C, the exit status appended as rc=N).
set -u
cd "$(dirname "$0")/.."
d=testdata/corpus
command -v sysdig >/dev/null || { echo "corpus-golden: sysdig 0.29.3 is required" >&2; exit 1; }
sysdig --version | grep -q '0\.29\.3' || { echo "corpus-golden: sysdig is not 0.29.3" >&2; exit 1; }
rm -rf "$d/golden"; mkdir -p "$d/golden"
export TZ=UTC LC_ALL=C
for t in "$d"/*.scap; do
  tn=$(basename "$t" .scap)
  while IFS=$'\t' read -r id args; do
    [ -z "$id" ] && continue
    f="$d/golden/${tn}__${id}.out"
    eval "timeout 60 sysdig -r \"$t\" $args" </dev/null >"$f" 2>/dev/null
    echo "rc=$?" >>"$f"
    gzip -n9 "$f"
  done <"$d/cases.tsv"
done
