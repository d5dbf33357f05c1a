#!/usr/bin/env bash
# Benchmark: one round of safedeploy probe over 500 HTTP checks on loopback
# (nginx, one listener per 127.2.x.y address, each answering its own JSON),
# side by side with the shell loop people write today (curl for the status,
# jq for the body, per endpoint). The round includes writing the history and
# the status page. Prints wall times, the ratio and the peak memory against
# the targets (issue 7): the round under 2 s, at least 20x the loop, under
# 64 MB. Targets are printed, not asserted.
#
#   BENCH_CHECKS=N   checks (default 500)
#   BENCH_RUNS=N     rounds of safedeploy probe, the fastest counts (default 5)
#   BENCH_PORT=N     the checks' port (default 18800)
#   BENCH_QUICK=1    50 checks, 2 rounds: checks the machinery only, not
#                    comparable with the targets
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$PWD/bin/safedeploy
# shellcheck source=tests/bench/report.bash
. tests/bench/report.bash
# shellcheck source=tests/bench/nginx.bash
. tests/bench/nginx.bash
bench_start nginx curl jq /usr/bin/time
checks=${BENCH_CHECKS:-$(bench_quick 50 500)}
runs=${BENCH_RUNS:-$(bench_quick 2 5)}
port=${BENCH_PORT:-18800}
export XDG_STATE_HOME=$work/state

addr() { bench_addr 127.2 "$1"; }
# shellcheck disable=SC2016 # nginx's variable, not the shell's
nginx_start 127.2 "$checks" "$port" '{"status":"UP","host":"$server_addr"}'

for ((i = 0; i < checks; i++)); do echo "http://$(addr "$i"):$port/health"; done > "$work/urls.txt"
{
	echo "endpoints:"
	for ((i = 0; i < checks; i++)); do
		printf '  - {name: "svc-%d", url: "http://%s:%d/health", conditions: ["[STATUS] == 200", "[BODY].status == UP"]}\n' \
			"$i" "$(addr "$i")" "$port"
	done
} > "$work/checks.yml"

loop() {
	local u code up=0
	while read -r u; do
		code=$(curl -s -o "$work/body" -w '%{http_code}' "$u") || true
		[ "$code" = 200 ] && [ "$(jq -r .status "$work/body")" = UP ] && up=$((up + 1))
	done < "$work/urls.txt"
	echo "$up" > "$work/loop.out"
}

ours() {
	"$bin" probe run --once --config "$work/checks.yml" --db "$work/h.db" \
		--out "$work/site" > "$work/ours.out"
}

ours_ms=$(best_of "$runs" ours)
grep -q "^$checks of $checks up" "$work/ours.out" || { echo "bench: the probe did not see every check up" >&2; tail -3 "$work/ours.out" >&2; exit 1; }
loop_ms=$(best_of 1 loop)
[ "$(cat "$work/loop.out")" = "$checks" ] || { echo "bench: the loop did not see every check up" >&2; exit 1; }
peak_kb=$( { /usr/bin/time -f %M "$bin" probe run --once --config "$work/checks.yml" \
	--db "$work/h.db" --out "$work/site" > /dev/null; } 2>&1 | tail -1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / (b > 0 ? b : 1) }'; }
r=$(ratio "$loop_ms" "$ours_ms")
printf 'probe: one round of %d HTTP checks on loopback (nginx), best of %d runs\n' "$checks" "$runs"
printf '  %-44s %8d ms\n' "shell loop (curl, then jq, per check)" "$loop_ms"
printf '  %-44s %8d ms\n' "safedeploy probe run --once (history, page)" "$ours_ms"
bench_setup "one round of $checks HTTP checks on loopback (nginx), history and page included; best of $runs rounds; loop $loop_ms ms"
bench_header
bench_result "one round, $checks checks, wall" "$ours_ms" ms "<" 2000 \
	"$([ "$checks" = 500 ] || echo "the target is for 500")"
bench_result "loop / probe" "$r" x ">=" 20
bench_result "peak RSS" "$(bench_mb "$peak_kb")" MB "<" 64
