# Shared set-up for every bats suite: bats-support, bats-assert, bats-file,
# and a private HOME, XDG directories and system config dir per test, so that
# no test reads or writes the real user's files.

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load /usr/lib/bats/bats-file/load

REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
export REPO_ROOT

common_setup() {
	export HOME="$BATS_TEST_TMPDIR/home"
	export XDG_CONFIG_HOME="$HOME/.config"
	export XDG_STATE_HOME="$HOME/.local/state"
	export XDG_DATA_HOME="$HOME/.local/share"
	export XDG_CACHE_HOME="$HOME/.cache"
	export SAFEDEPLOY_SYSCONFDIR="$BATS_TEST_TMPDIR/etc"
	unset SAFEDEPLOY_TOKEN_KEY_FILE NO_COLOR SAFEDEPLOY_NOW
	export TERM=dumb
	mkdir -p "$HOME" "$BATS_TEST_TMPDIR/work"
	PATH="$REPO_ROOT/bin:$PATH"
	# One sanitizer log per test, checked in teardown.
	export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:log_path=$BATS_TEST_TMPDIR/sanitizer"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$BATS_TEST_TMPDIR/sanitizer"
	cd "$BATS_TEST_TMPDIR/work" || return 1
}

common_teardown() {
	local f found=0
	for f in "$BATS_TEST_TMPDIR"/sanitizer.*; do
		[ -e "$f" ] || continue
		echo "sanitizer report: $f" >&2
		cat "$f" >&2
		found=1
	done
	return "$found"
}

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# Write a plan file: plan NAME JSON
plan() {
	printf '%s\n' "$2" > "$1"
}
