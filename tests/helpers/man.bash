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

# check_man_options MAN HELP: every --option in HELP is in MAN (as
# "Fl \-opt", hyphens escaped or not), and every ".It Fl \-opt" of MAN is
# in HELP.
check_man_options() {
	local man=$1 help=$2 opt spelt name
	while read -r opt; do
		spelt=${opt#-}
		grep -qF -- "Fl \\${spelt}" "$man" || grep -qF -- "Fl ${spelt//-/\\-}" "$man" ||
			fail "option $opt is not in ${man##*/}"
	done < <(grep -o -- '--[a-z][a-z0-9-]*' <<< "$help" | sort -u)
	while read -r name; do
		grep -q -- "-$name\b" <<< "$help" || fail "option -$name of ${man##*/} is in no --help"
	done < <(sed -n 's/^\.It Fl \\\(-[a-z0-9\\-]*\).*/\1/p' "$man" | sed 's/\\//g' | sort -u)
}
