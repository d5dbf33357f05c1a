#!/usr/bin/env bash
# Benchmark: saferm against what a user would otherwise run, side by side in
# one run on identical copies of one tree (BENCH_FILES files, default
# 100,000, on one filesystem): rm -rf, trash-put, saferm (to the trash),
# saferm --permanent and saferm --purge. Prints times, peak memory and the
# ratios against their targets (issue 3: trashing at most 0.05x rm -rf and
# at least 20x faster than trash-put; --permanent and --purge at most 1.1x
# rm -rf; peak memory under 16 MB and independent of the tree's size).
# Targets are printed, not asserted. The deletions run in a turning order
# (rm first, then --permanent first, then --purge first), one per run.
#
#   BENCH_FILES=N        files in the tree (default 100,000)
#   BENCH_REPS=N         runs of each command, the fastest counts (default 3)
#   BENCH_TRASH_REPS=N   trashing runs within each of those (default 5)
#   BENCH_QUICK=1        2,000 files, 1 run, 2 trashing runs: checks the
#                        machinery only, not comparable with the targets
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$PWD/bin/saferm
# shellcheck source=tests/bench/report.bash
. tests/bench/report.bash
for tool in trash-put python3 /usr/bin/time; do
	command -v "$tool" > /dev/null || { echo "bench: needs $tool (make deps)" >&2; exit 1; }
done
files=${BENCH_FILES:-$(bench_quick 2000 100000)}
reps=${BENCH_REPS:-$(bench_quick 1 3)}
trash_runs=${BENCH_TRASH_REPS:-$(bench_quick 2 5)}
work=$(mktemp -d "${TMPDIR:-/tmp}/saferm-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HOME=$work/home XDG_DATA_HOME=$work/home/.local/share
export XDG_STATE_HOME=$work/home/.local/state XDG_CONFIG_HOME=$work/home/.config
mkdir -p "$HOME"
# The default blast radius (10,000 files): like a user, take the token from
# a dry run; the confirmed run counts only up to the threshold again.
token() { "$bin" "$@" --dry-run --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("token") or "")'; }

# A tree like a build directory: 100 directories of N/100 files of SIZE bytes.
make_tree() { # DIR N SIZE
	python3 - "$@" <<'EOF'
import os, sys
root, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = max(1, n // 100)
for d in range((n + per - 1) // per):
    path = os.path.join(root, "obj%03d" % d)
    os.makedirs(path)
    for f in range(min(per, n - d * per)):
        with open(os.path.join(path, "f%06d.o" % f), "w") as fh:
            fh.write("x" * size)
EOF
}
make_tree "$work/template" "$files" 64

# A fresh copy, written out, so that no tool pays for another's writeback.
copy() { cp -a "$work/template" "$work/$1"; sync; sleep 0.5; }

# run NAME CMD...: wall microseconds and peak RSS (KiB) of one run; over
# the repetitions (each on a fresh copy, made by the caller), the fastest
# time and the largest peak are kept.
run() {
	local name=$1 start end us rss
	shift
	# What came before (a copy, a token's dry run) is written out first:
	# no tool pays for another's writeback.
	sync
	start=${EPOCHREALTIME/./}
	/usr/bin/time -f '%M' -o "$work/rss.tmp" "$@" > /dev/null 2>&1
	end=${EPOCHREALTIME/./}
	# Less what timing itself costs (/usr/bin/time), measured on
	# /bin/true at the start.
	us=$((end - start - ${overhead:-0}))
	[ "$us" -gt 0 ] || us=1
	rss=$(cat "$work/rss.tmp")
	if [ ! -e "$work/$name.us" ] || [ "$us" -lt "$(cat "$work/$name.us")" ]; then
		echo "$us" > "$work/$name.us"
	fi
	if [ ! -e "$work/$name.rss" ] || [ "$rss" -gt "$(cat "$work/$name.rss")" ]; then
		echo "$rss" > "$work/$name.rss"
	fi
}
us() { cat "$work/$1.us"; }
ms() { awk -v us="$(us "$1")" 'BEGIN { printf "%.2f", us / 1000 }'; }
rss() { cat "$work/$1.rss"; }

# Trashing is a rename that takes a few milliseconds on any tree, less than
# this machine's noise: each trashing tool runs BENCH_TRASH_REPS times on
# its copy, which is moved back between runs (a rename too).
trash_reps() { # NAME COPY CMD...
	local name=$1 t=$2 k
	shift 2
	for ((k = 0; k < trash_runs; k++)); do
		run "$name" "$@" "$work/$t"
		[ "$k" -eq $((trash_runs - 1)) ] && break
		mv "$XDG_DATA_HOME/Trash/files/$t" "$work/$t"
		rm "$XDG_DATA_HOME/Trash/info/$t.trashinfo"
	done
}

for ((rep = 0; rep < 5; rep++)); do run noop /bin/true; done
overhead=$(us noop)

# The three deletions, each on a fresh copy. Their order turns with each
# repetition, so that none always runs first after the copies (with the
# writeback of the others' deletions still to come) or last.
del_rm() { copy t1 && run rm rm -rf "$work/t1"; }
del_permanent() {
	copy t4 && tok=$(token --permanent -rf "$work/t4") &&
		run permanent "$bin" --confirm "$tok" --permanent -rf "$work/t4"
}
del_purge() {
	tok=$(token --purge) && "$bin" --purge --confirm "$tok" > /dev/null # only t5 next
	copy t5 && "$bin" -rf "$work/t5" && tok=$(token --purge) &&
		run purge "$bin" --purge --confirm "$tok"
}
order=(del_rm del_permanent del_purge)
for ((rep = 0; rep < reps; rep++)); do
	copy t2 && trash_reps trash t2 "$bin" -rf
	copy t3 && trash_reps trashput t3 trash-put
	for ((k = 0; k < 3; k++)); do "${order[(rep + k) % 3]}"; done
	for t in t1 t2 t3 t4; do
		[ ! -e "$work/$t" ] || { echo "bench: $t was not removed" >&2; exit 1; }
	done
	[ -z "$(ls -A "$XDG_DATA_HOME/Trash/files")" ] || { echo "bench: purge left files" >&2; exit 1; }
done

# Peak memory must not grow with the tree: the same purge on a tenth.
small=$((files / 10))
rm -rf "$work/template" && make_tree "$work/template" "$small" 0
copy t6 && tok=$(token --permanent -rf "$work/t6") &&
	run permanent_small "$bin" ${tok:+--confirm "$tok"} --permanent -rf "$work/t6"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / (b ? b : 1) }'; }

fstype=$(df --output=fstype "$work" | tail -1)
printf 'saferm benchmark: %d files on %s; fastest of %d runs (trashing: %d), less %d us of timing overhead\n' \
	"$files" "$fstype" "$reps" $((reps * trash_runs)) "$overhead"
printf '%-28s %10s %10s\n' "command" "ms" "peak KiB"
for n in rm trashput trash permanent purge permanent_small; do
	printf '%-28s %10s %10s\n' "$n" "$(ms "$n")" "$(rss "$n")"
done
bench_setup "$files files on $fstype; fastest of $reps runs (trashing: $((reps * trash_runs))); rm -rf $(ms rm) ms, trash-put $(ms trashput) ms"
bench_header
bench_result "saferm (trash) / rm -rf" "$(ratio "$(us trash)" "$(us rm)")" x "<=" 0.05
bench_result "trash-put / saferm (trash)" "$(ratio "$(us trashput)" "$(us trash)")" x ">=" 20
bench_result "saferm --permanent / rm -rf" "$(ratio "$(us permanent)" "$(us rm)")" x "<=" 1.1
bench_result "saferm --purge / rm -rf" "$(ratio "$(us purge)" "$(us rm)")" x "<=" 1.1
bench_result "peak RSS, --permanent (full tree)" "$(bench_mb "$(rss permanent)")" MB "<" 16
bench_result "peak RSS, --permanent (a tenth of it)" "$(bench_mb "$(rss permanent_small)")" MB - - \
	"should equal the full tree's"
