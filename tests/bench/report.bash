# Shared by every benchmark (sourced): one way to state a figure against its
# target. Each call prints the script's human line and, when BENCH_REPORT
# names a file (`make bench` sets it), appends one tab-separated row to it:
#
#   bench  figure  measured  unit  op  target  ratio  verdict  note
#
# ratio is measured / target; verdict is PASS or MISS against the target
# (a target is stated, never asserted: no script fails because of one), "-"
# when the figure has no target, "n/a" when it was not measured. A row
# whose figure is "(setup)" carries, in note, what the run measured on.
#
# BENCH_QUICK=1 asks every benchmark for a run small enough to check the
# machinery (fewer files, pods, commits and repetitions); its figures are
# not comparable with the targets.

bench_name=${BENCH_NAME:-$(basename "$0" .sh)}

# bench_quick SMALL FULL: SMALL under BENCH_QUICK=1, else FULL (a default
# for a size or a repetition count; the script's own knob still wins).
bench_quick() { if [ "${BENCH_QUICK:-0}" != 0 ]; then echo "$1"; else echo "$2"; fi; }

# bench_mb KIB: KiB (as /usr/bin/time's %M gives them) in MB (MiB), 1 decimal.
bench_mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# bench_header: the column titles of the lines bench_result prints.
bench_header() {
	printf '  %-44s %14s %14s %9s  %s\n' "figure" "measured" "target" "m/target" "verdict"
}

# bench_ratio MEASURED OP TARGET: "RATIO VERDICT", e.g. "0.84 PASS";
# "- -" without a target, "- n/a" without a measurement.
bench_ratio() {
	awk -v m="$1" -v op="$2" -v t="$3" 'BEGIN {
		num = "^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$"
		if (m !~ num) { print "- n/a"; exit }
		if (op == "-" || op == "" || t !~ num) { print "- -"; exit }
		if (op == "<") ok = m + 0 < t + 0
		else if (op == "<=") ok = m + 0 <= t + 0
		else if (op == ">") ok = m + 0 > t + 0
		else if (op == ">=") ok = m + 0 >= t + 0
		else { print "- -"; exit }
		if (t + 0 == 0) r = "-"
		else {
			r = m / t; a = r < 0 ? -r : r
			if (a >= 100) r = sprintf("%.0f", r)
			else if (a >= 1) r = sprintf("%.2f", r)
			else if (a >= 0.001) r = sprintf("%.3f", r)
			else r = sprintf("%.2g", r)
		}
		print r, (ok ? "PASS" : "MISS") }'
}

# bench_row FIGURE MEASURED UNIT OP TARGET [NOTE]: append the row to
# $BENCH_REPORT (when set) without printing anything.
bench_row() {
	local figure=$1 measured=$2 unit=$3 op=$4 target=$5 note=${6:-} ratio verdict
	[ -n "${BENCH_REPORT:-}" ] || return 0
	read -r ratio verdict < <(bench_ratio "$measured" "$op" "$target")
	# Tabs and newlines would break the row.
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bench_name" "${figure//[$'\t\n']/ }" \
		"${measured:--}" "${unit:--}" "${op:--}" "${target:--}" "$ratio" "$verdict" \
		"${note//[$'\t\n']/ }" >> "$BENCH_REPORT"
}

# bench_result FIGURE MEASURED UNIT OP TARGET [NOTE]: print the human line
# (figure, measured, target, measured/target, verdict) and record the row.
# OP is one of < <= > >=, or - for a figure without a target (TARGET -).
bench_result() {
	local figure=$1 measured=${2:--} unit=$3 op=$4 target=$5 note=${6:-} ratio verdict m=- t=-
	read -r ratio verdict < <(bench_ratio "$measured" "$op" "$target")
	[ "$measured" = - ] || m="$measured${unit:+ $unit}"
	[ "$op" = - ] || t="$op $target${unit:+ $unit}"
	printf '  %-44s %14s %14s %9s  %s%s\n' "$figure" "$m" "$t" "$ratio" "$verdict" "${note:+  ($note)}"
	bench_row "$@"
}

# bench_setup TEXT: what this run measured on (sizes, repetitions), for the
# report; not printed.
bench_setup() { bench_row "(setup)" "" "" - - "$1"; }
