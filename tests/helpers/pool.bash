# shellcheck shell=bash
# A few jobs at a time, reported in a stable order (tests/fuzz/run,
# tests/valgrind/run). Source it, then:
#   n=$(pool_jobs "${FUZZ_JOBS-}") || exit 2
#   pool_run "$n" WORK REPORT ITEM...

# The number of jobs: $1 if given (a positive integer), else the number of
# CPUs, at most 2. Each job is single-threaded (libFuzzer, valgrind), so a
# third one on a 2-CPU machine only slows the others; above 2 the memory
# (libFuzzer's -rss_limit_mb is 2 GB per target) and a shared CI runner's
# other work set the limit. FUZZ_JOBS or VALGRIND_JOBS raise it.
pool_jobs() {
	local n=${1-}

	if [ -z "$n" ]; then
		n=$(nproc 2> /dev/null) || n=1
		[ "$n" -gt 2 ] && n=2
	fi
	case $n in
	'' | *[!0-9]* | 0*)
		echo "pool: the number of jobs must be a positive integer, not '$n'" >&2
		return 1
		;;
	esac
	echo "$n"
}

# Items to start first (pool_run), in this order; the caller sets it.
pool_first=()

# pool_run JOBS WORK REPORT ITEM...
# Runs "WORK ITEM" in the background for every ITEM, at most JOBS at a
# time, and "REPORT ITEM" in this shell for each ITEM in the order given, as
# soon as it and every ITEM before it have finished. WORK keeps its results
# in files for REPORT. Items named in the array pool_first (if set) start
# first, in that order; the others follow in the order given.
pool_run() {
	local jobs=$1 work=$2 report=$3
	shift 3
	local items=("$@") order=() next=0 dir i first
	local -A queued=()

	dir=$(mktemp -d "${TMPDIR:-/tmp}/sd-pool.XXXXXX") || return 1
	for first in "${pool_first[@]}"; do
		for i in "${!items[@]}"; do
			if [ "${items[i]}" = "$first" ] && [ -z "${queued[$i]-}" ]; then
				order+=("$i")
				queued[$i]=1
			fi
		done
	done
	for i in "${!items[@]}"; do
		[ -n "${queued[$i]-}" ] || order+=("$i")
	done
	for i in "${order[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n
			pool_report_ready
		done
		("$work" "${items[i]}"; : > "$dir/$i") &
	done
	while [ -n "$(jobs -rp)" ]; do
		wait -n
		pool_report_ready
	done
	wait
	pool_report_ready
	# A WORK that died before it could say so: REPORT finds no results.
	while [ "$next" -lt "${#items[@]}" ]; do
		"$report" "${items[next]}"
		next=$((next + 1))
	done
	rm -rf "$dir"
}

# pool_run's reporting: every finished ITEM not yet reported whose
# predecessors all were (uses pool_run's locals).
pool_report_ready() {
	while [ "$next" -lt "${#items[@]}" ] && [ -e "$dir/$next" ]; do
		"$report" "${items[next]}"
		next=$((next + 1))
	done
}
