#!/usr/bin/env bash
# Benchmark: safedeploy verify against 1,000 pods on loopback, served by
# nginx (one listener per 127.1.x.y address, each answering its own JSON, one
# pod on old code), side by side in one run with what people write today:
#   the loop:      for each pod, curl -s URL | jq -r .build.version, compare
#   the one-liner: xargs -P 64 curl -s over the same URLs, then jq
# Prints wall times, the ratios, and safedeploy's peak memory against the
# targets (issue 4): at least 200x the loop, faster than the one-liner, 1,000
# targets in under 0.2 s wall, peak memory under 50 MB. Targets are printed,
# not asserted.
#
#   BENCH_PODS=N     pods (default 1,000)
#   BENCH_RUNS=N     runs of safedeploy verify, the fastest counts (default 5)
#   BENCH_LOOP=0     skip the shell loop (about a minute for 1,000 pods)
#   BENCH_PORT=N     the pods' port (default 18700)
#   BENCH_QUICK=1    100 pods, 2 runs: checks the machinery only, not
#                    comparable with the targets
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$PWD/bin/safedeploy
# shellcheck source=tests/bench/report.bash
. tests/bench/report.bash
# shellcheck source=tests/bench/nginx.bash
. tests/bench/nginx.bash
bench_start nginx curl jq /usr/bin/time
pods=${BENCH_PODS:-$(bench_quick 100 1000)}
runs=${BENCH_RUNS:-$(bench_quick 2 5)}
port=${BENCH_PORT:-18700}

addr() { bench_addr 127.1 "$1"; }
old=$(addr $((pods - 1)))
# shellcheck disable=SC2016 # nginx's variables, not the shell's
nginx_start 127.1 "$pods" "$port" \
	'{"build":{"version":"$version"},"git":{"commit":{"id":"4f2a9c1"}},"pod":"$server_addr"}' \
	"map \$server_addr \$version { default 1.2.3; $old 1.1.0; }"
curl -sf -m 2 "http://$old:$port/" | grep -q 1.1.0 || { echo "bench: the old pod does not answer 1.1.0" >&2; exit 1; }
for ((i = 0; i < pods; i++)); do echo "http://$(addr "$i"):$port/actuator/info"; done > "$work/urls.txt"

loop() {
	local u v bad=0
	while read -r u; do
		v=$(curl -s "$u" | jq -r .build.version)
		[ "$v" = 1.2.3 ] || bad=$((bad + 1))
	done < "$work/urls.txt"
	echo "$bad" > "$work/loop.out"
}

one_liner() {
	xargs -P 64 -n 4 curl -s < "$work/urls.txt" | jq -r .build.version | sort | uniq -c
}

ours() {
	"$bin" verify --targets "$work/urls.txt" --expect version=1.2.3 > "$work/ours.out" || true
}

ours_ms=$(best_of "$runs" ours)
grep -q "^1 differs: .*$old" "$work/ours.out" || { echo "bench: safedeploy did not find the old pod" >&2; tail -3 "$work/ours.out" >&2; exit 1; }
xargs_ms=$(best_of 3 one_liner)
[ "$(one_liner | grep -c 1.1.0)" = 1 ] || { echo "bench: the one-liner did not see the old pod" >&2; exit 1; }
# The loop takes about a minute for 1,000 pods; BENCH_LOOP=0 skips it.
loop_ms=0
if [ "${BENCH_LOOP:-1}" != 0 ]; then
	loop_ms=$(best_of 1 loop)
	[ "$(cat "$work/loop.out")" = 1 ] || { echo "bench: the loop did not find the old pod" >&2; exit 1; }
fi
# verify exits 1 here (one pod is old); only its peak memory matters.
peak_kb=$( { /usr/bin/time -f %M "$bin" verify --targets "$work/urls.txt" > /dev/null; } 2>&1 | tail -1) || true

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / (b > 0 ? b : 1) }'; }
printf 'verify: %d pods on loopback (nginx), best of %d runs\n' "$pods" "$runs"
[ "$loop_ms" = 0 ] || printf '  %-44s %8d ms\n' "shell loop (curl | jq per pod)" "$loop_ms"
printf '  %-44s %8d ms\n' "xargs -P 64 -n 4 curl -s | jq" "$xargs_ms"
printf '  %-44s %8d ms  (peak RSS %d KB)\n' "safedeploy verify" "$ours_ms" "$peak_kb"
loop_ratio=- loop_note="loop skipped (BENCH_LOOP=0)"
[ "$loop_ms" = 0 ] || loop_ratio=$(ratio "$loop_ms" "$ours_ms") loop_note="loop $loop_ms ms"
bench_setup "$pods pods on loopback (nginx); best of $runs runs (one-liner: 3, loop: 1); $loop_note, one-liner $xargs_ms ms"
bench_header
bench_result "loop / safedeploy verify" "$loop_ratio" x ">=" 200
bench_result "one-liner / safedeploy verify" "$(ratio "$xargs_ms" "$ours_ms")" x ">" 1
bench_result "wall, $pods targets" "$(awk -v ms="$ours_ms" 'BEGIN { printf "%.3f", ms / 1000 }')" s "<" 0.2 \
	"$([ "$pods" = 1000 ] || echo "the target is for 1,000")"
bench_result "peak RSS" "$(bench_mb "$peak_kb")" MB "<" 50
