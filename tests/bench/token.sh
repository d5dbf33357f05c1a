#!/usr/bin/env bash
# Benchmark: binding a confirmation to a plan. safedeploy token issue and
# check against what a user would otherwise script: jq to canonicalise the
# plan, sha256sum for the digest, openssl for the HMAC. Both sides run in one
# go on the same plans; prints times and the ratio. Issue 2 sets no target
# for it: the ratios are reported without one.
#
#   BENCH_RUNS=N     runs of each side per plan, the mean counts (default 20)
#   BENCH_SIZES="N ..." targets per plan (default "10 10000 100000")
#   BENCH_QUICK=1    3 runs of plans of 10, 1,000 and 10,000 targets: checks
#                    the machinery only
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$PWD/bin/safedeploy
# shellcheck source=tests/bench/report.bash
. tests/bench/report.bash
for tool in jq openssl python3; do
	command -v "$tool" > /dev/null || { echo "bench: needs $tool (make deps)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME=$work/state HOME=$work
runs=${BENCH_RUNS:-$(bench_quick 3 20)}
sizes=${BENCH_SIZES:-$(bench_quick '10 1000 10000' '10 10000 100000')}

# Plans the size of a real deletion: N targets with fingerprints.
make_plan() {
	python3 -c '
import json, sys
n = int(sys.argv[1])
print(json.dumps({"tool": "rm", "argv": ["rm", "-rf", "build"], "cwd": "/srv/app",
    "targets": [{"path": "build/obj/%06d.o" % i, "type": "file", "dev": 2049,
                 "ino": 1000000 + i, "size": 4096 + i, "mtime": 1732200000 + i}
                for i in range(n)]}, indent=1))' "$1" > "$2"
}

now_ns() { date +%s%N; }

# time_runs NAME CMD...: mean milliseconds per run over $runs runs.
time_runs() {
	local start end
	start=$(now_ns)
	for ((i = 0; i < runs; i++)); do "$@" > /dev/null; done
	end=$(now_ns)
	echo $(((end - start) / runs / 1000))
}

baseline() { # the script a user would write instead
	local digest key
	digest=$(jq -S -c . "$1" | sha256sum | cut -d' ' -f1)
	key=$(cat "$work/key")
	printf '%s%s' "$digest" "$(date +%s)" | openssl dgst -sha256 -hmac "$key" -r | cut -c1-24
}

ours() {
	local tok
	tok=$("$bin" token issue --plan "$1")
	"$bin" token check --plan "$1" "$tok"
}

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/key"
chmod 600 "$work/key"
export SAFEDEPLOY_TOKEN_KEY_FILE=$work/key

printf '%-22s %14s %14s %8s\n' "plan" "jq+sha+openssl" "safedeploy" "ratio"
bench_setup "plans of $sizes targets; mean of $runs runs of issue + check each; issue 2 sets no target"
for n in $sizes; do
	make_plan "$n" "$work/plan.json"
	size=$(stat -c %s "$work/plan.json")
	base=$(time_runs baseline "$work/plan.json")
	mine=$(time_runs ours "$work/plan.json")
	ratio=$(awk -v a="$base" -v b="$mine" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }')
	printf '%-22s %11d us %11d us %7.2fx\n' "$n targets ($((size / 1024))K)" \
		"$base" "$mine" "$ratio"
	bench_row "jq+sha+openssl / issue+check, $n targets" "$ratio" x - - \
		"$((size / 1024))K plan; safedeploy $(awk -v us="$mine" 'BEGIN { printf "%.1f", us / 1000 }') ms"
done
echo "ratio > 1: safedeploy is faster (issue + check, $runs runs each)"
