# Man page checks shared by the suites: run the EXAMPLES of a man page as a
# transcript (tests/helpers/transcript.sh).

# The literal blocks of MAN's EXAMPLES section whose numbers are given.
man_examples() {
	local man=$1
	shift
	awk -v want=" $* " '
		/^\.Sh EXAMPLES/ { ex = 1; next }
		/^\.Sh / { ex = 0 }
		ex && /^\.Bd -literal/ { n++; inblk = index(want, " " n " ") > 0; next }
		ex && /^\.Ed/ { inblk = 0; next }
		inblk { print }
	' "$man"
}

# run_man_examples MAN N...: "$ cmd" lines run in one shell, the lines after
# each are its expected output (stdout and stderr).
run_man_examples() {
	local man=$1
	man_examples "$@" > transcript
	"$BATS_TEST_DIRNAME/helpers/transcript.sh" transcript ||
		fail "the examples of $man do not work as shown"
}

# The same in the jail (jail.bash), for examples aimed at system paths.
run_man_examples_in_jail() {
	local man=$1
	man_examples "$@" > transcript
	jail "$BATS_TEST_DIRNAME/helpers/transcript.sh" "$PWD/transcript" ||
		fail "the examples of $man do not work as shown (in the jail)"
}
