#!/usr/bin/env bash
# Benchmark: the copy-on-write sandbox. A command that writes 10,000 files
# (tar extracting a release of 10,000 small files) run directly and under
# `saferun --sandbox` side by side, each on its own fresh target, fastest of
# N runs, nothing deleted in between; saferun's run includes the sandbox's set-up, the command, the
# analysis of what it changed, the plan and the tear-down, and ends at the
# confirmation it needs (exit 3). Also the fixed cost: the set-up and
# tear-down saferun reports for each run, and `saferun --sandbox -- true`.
# Targets (issue 6): set-up plus tear-down under 30 ms; the whole run at most
# 1.5x the direct run.
#
#   BENCH_FILES=N   files the command writes (default 10000)
#   BENCH_RUNS=N    runs of each side, the fastest counts (default 5)
#   BENCH_QUICK=1   1,000 files, 2 runs: checks the machinery only
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$PWD/bin/saferun
# shellcheck source=tests/bench/report.bash
. tests/bench/report.bash
files=${BENCH_FILES:-$(bench_quick 1000 10000)}
runs=${BENCH_RUNS:-$(bench_quick 2 5)}
work=$(mktemp -d "${TMPDIR:-/tmp}/saferun-bench.XXXXXX")
cleanup() {
	chmod -R u+rwx "$work" 2> /dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
export HOME=$work XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config
unset SAFERUN_TTY

if ! "$bin" --sandbox -- true > /dev/null 2> "$work/probe.err" &&
	grep -q "cannot run 'true' in the sandbox" "$work/probe.err"; then
	echo "bench: no sandbox here: $(head -1 "$work/probe.err")" >&2
	bench_result "sandbox set-up + tear-down" - ms "<" 30 "no sandbox on this machine"
	exit 0
fi

# The release: N files of 1 KiB in 100 directories.
mkdir -p "$work/release"
for ((d = 0; d < 100; d++)); do mkdir "$work/release/d$d"; done
head -c 1024 /dev/urandom > "$work/blob"
for ((i = 0; i < files; i++)); do
	cp "$work/blob" "$work/release/d$((i % 100))/f$i"
done
tar -C "$work/release" -cf "$work/release.tar" .

now_ns() { date +%s%N; }

# run_direct / run_sandboxed RUN: one timed run on a fresh target, in
# microseconds. Nothing is deleted between runs (each has its own target and
# state directory): on ext4 a file created just after thousands were
# deleted costs several times more (the allocator skips recently deleted
# inodes), and that would measure the order of the runs, not the tools.
run_direct() {
	local t0 t1
	mkdir "$work/direct.$1"
	sync
	t0=$(now_ns)
	tar -C "$work/direct.$1" -xf "$work/release.tar"
	t1=$(now_ns)
	echo $(((t1 - t0) / 1000))
}

run_sandboxed() {
	local t0 t1 rc=0
	mkdir "$work/sandboxed.$1"
	sync
	t0=$(now_ns)
	XDG_STATE_HOME=$work/state.$1 "$bin" --full --sandbox -- \
		tar -C "$work/sandboxed.$1" -xf "$work/release.tar" > /dev/null 2> "$work/sandbox.err" || rc=$?
	t1=$(now_ns)
	if [ "$rc" != 3 ]; then
		echo "bench: saferun exited $rc:" >&2
		cat "$work/sandbox.err" >&2
		exit 1
	fi
	echo $(((t1 - t0) / 1000))
}

# The set-up and tear-down saferun measured, from its last run's output.
fixed_cost() {
	sed -n 's/^sandbox: set-up \([0-9.]*\) ms, tear-down \([0-9.]*\) ms$/\1 \2/p' "$work/sandbox.err"
}

min() { sort -n | head -1; }

direct=() sandboxed=() costs=() truecost=()
for ((r = 0; r < runs; r++)); do
	# Alternate which goes first.
	if ((r % 2)); then
		sandboxed+=("$(run_sandboxed "$r")")
		costs+=("$(fixed_cost)")
		direct+=("$(run_direct "$r")")
	else
		direct+=("$(run_direct "$r")")
		sandboxed+=("$(run_sandboxed "$r")")
		costs+=("$(fixed_cost)")
	fi
	t0=$(now_ns)
	XDG_STATE_HOME=$work/state.true.$r "$bin" --sandbox -- true > /dev/null 2>&1
	t1=$(now_ns)
	truecost+=($(((t1 - t0) / 1000)))
done

d=$(printf '%s\n' "${direct[@]}" | min)
s=$(printf '%s\n' "${sandboxed[@]}" | min)
t=$(printf '%s\n' "${truecost[@]}" | min)
fixed=$(printf '%s\n' "${costs[@]}" | awk '{ print $1 + $2 }' | min)
setup=$(printf '%s\n' "${costs[@]}" | sort -n -k1 | head -1 | cut -d' ' -f1)
teardown=$(printf '%s\n' "${costs[@]}" | sort -n -k2 | head -1 | cut -d' ' -f2)
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

echo "saferun --sandbox: tar extracting $files files, fastest of $runs runs each"
bench_setup "$files files (1 KiB) extracted by tar; fastest of $runs runs each; direct $(ms "$d") ms, under the sandbox $(ms "$s") ms"
bench_header
bench_result "sandbox set-up + tear-down" "$fixed" ms "<" 30 "set-up $setup ms, tear-down $teardown ms"
bench_result "saferun --sandbox / direct ($files files)" "$(awk -v a="$s" -v b="$d" 'BEGIN { printf "%.2f", a / b }')" x "<=" 1.5
bench_result "saferun --sandbox -- true, whole run" "$(ms "$t")" ms - -
