#!/usr/bin/env bats
# Fault injection, for real: saferm killed with SIGKILL half way through
# 5,000 operands; full filesystems under saferm, the flags cache and the
# probe's page and history; a read-only state directory; a corrupt token
# ledger; a locked history; symlink swaps racing saferm --permanent and
# --purge; saferun with a read-only or full state directory, a corrupt
# ledger, no sandbox, and killed half way through applying a sandbox run. Whatever could touch real paths runs in a jail
# (tests/helpers/jail.bash): a private mount namespace where every mount is
# read-only and only fresh tmpfs mounts are writable. Loops over thousands
# of files are in tests/helpers/faults.py. Every loop is bounded in count
# and in time.

load helpers/common
load helpers/fleet
load helpers/jail

setup() {
	common_setup
	export FAULTS="$REPO_ROOT/tests/helpers/faults.py"
}

teardown() {
	stop_fleet
	common_teardown
}

# --- SIGKILL ------------------------------------------------------------------

# After each kill, faults.py check() accepts (see it for the details):
# every operand in place or in files/ with a whole, valid info file naming
# it; nothing in files/ without its info file (the spec's "emergency
# case"); at most one info file without its file (the run died between
# writing it and the move: it must be whole and name an operand still in
# place, so that it is harmless; --list shows it as an orphan, --purge
# removes it), and no empty or half-written one; a journal of whole lines
# that knows every item moved but the one in flight (each line is written
# after its move). Every twelfth kill, trash-list and saferm --list read it
# all without a complaint. After --undo, what the journal knew is back: at
# most the item in flight is still in the trash.
@test "faults (jail): SIGKILL at 25 moments while trashing 5,000 operands: nothing lost, every info file whole, --undo brings back what the journal knows" {
	# The trigger is the number of entries in files/, polled: the kills
	# spread over the operands whatever the speed (also under ASan), and
	# no timing is asserted. Percent signs and spaces in the directory:
	# every Path= is percent-encoded.
	run -0 jail bash -c 'python3 "$FAULTS" killtest --src "$JAIL/work/src dir%" --n 5000 --kills 25 \
		--trash "$XDG_DATA_HOME/Trash" --journal "$XDG_STATE_HOME/safedeploy/saferm/journal"'
	assert_equal "${#lines[@]}" 25
	refute_line --partial "error:"
	# Most kills hit a run under way, not one already over.
	run -0 awk '$6 == "-9," && $7 > 0 && $7 < 5000 { n++ } END { print n + 0 }' <<< "$output"
	[ "$output" -ge 20 ]
}

# Deterministic: strace kills saferm at a chosen system call (the first
# write: the info file's content; the first renameat2: the move; the second
# write: the journal line). Before the fix in lib/trash.c the first kill
# left an empty .trashinfo that trash-list called a parse error and that
# --purge never removed.
@test "faults (jail): SIGKILL at each step of one trashing (strace): no half-written info file; --purge and --restore clean up" {
	command -v strace > /dev/null || skip "strace is not installed"
	run -0 jail bash -c '
		T=$XDG_DATA_HOME/Trash
		kill_at() { # SYSCALL N: saferm src/a, killed at the N-th SYSCALL
			strace -f -qq -o /dev/null -e trace="$1" -e inject="$1":signal=SIGKILL:when="$2" saferm src/a
			echo "killed at $1 $2: status $?"
		}
		tidy() { # no complaint from trash-list or saferm --list
			trash-list 2>&1 > /dev/null | sed "s/^/trash-list: /"
			saferm --list 2>&1 > /dev/null | sed "s/^/saferm --list: /"
		}
		mkdir src && echo a > src/a
		kill_at write 1
		ls -A "$T/info" "$T/files" | sed "s/^/left: /"
		tidy
		kill_at renameat2 1
		ls -A "$T/info" | sed "s/^/info: /"
		saferm --list | grep -c "orphan: info without its file"
		tidy
		saferm --purge
		kill_at write 2
		ls -A "$T/files" | sed "s/^/files: /"
		saferm --undo 2>&1
		saferm --restore a
		cat src/a
		ls -A "$T/info" "$T/files" | sed "s/^/left: /"'
	assert_line "killed at write 1: status 137"
	assert_line "killed at renameat2 1: status 137"
	assert_line "killed at write 2: status 137"
	# Killed before the info file was whole: no info file at all.
	refute_line --regexp '^left: [^/]'
	refute_line --partial "trash-list:"
	refute_line --partial "saferm --list:"
	# Killed before the move: one whole orphan, purged.
	assert_line "info: a.trashinfo"
	assert_line "1"
	assert_line --regexp "^purged 1 item"
	# Killed before the journal line: in the trash, with its info file;
	# --undo does not know it, --restore brings it back.
	assert_line "files: a"
	assert_line --partial "nothing to undo"
	assert_line --regexp "^restored '.*/src/a'$"
	assert_line "a"
}

# --- full filesystems -----------------------------------------------------------

@test "faults (jail): a filesystem that fills up while trashing: what fits goes, the rest stays with ENOSPC, no info file left behind; --undo brings all back" {
	run -0 jail bash -c '
		F=$JAIL/full
		mkdir "$F" && mount -t tmpfs -o size=256k full "$F" || exit 9
		mkdir -p "$F/.Trash-0/files" "$F/.Trash-0/info" && chmod 700 "$F/.Trash-0"
		python3 "$FAULTS" mkfiles "$F/src" 30 || exit 9
		# Full, then room for three info files (a page each).
		dd if=/dev/zero of="$F/filler" bs=4k 2> /dev/null
		truncate -s -12k "$F/filler"
		saferm "$F/src"/f* 2> "$JAIL/err"
		echo "status $?"
		grep -c "^saferm: cannot remove .*: No space left on device\$" "$JAIL/err"
		grep -v "No space left on device\$" "$JAIL/err"
		python3 "$FAULTS" check --src "$F/src" --n 30 --trash "$F/.Trash-0" --topdir "$F" || exit 1
		rm "$F/filler"
		saferm --undo | grep -c "^restored "
		python3 "$FAULTS" check --src "$F/src" --n 30 --trash "$F/.Trash-0" --topdir "$F"'
	assert_line --index 0 "status 1"
	assert_line --index 1 "27"
	assert_line --index 2 "in place 27, trashed 3, orphans 0"
	assert_line --index 3 "3"
	assert_line --index 4 "in place 30, trashed 0, orphans 0"
}

# The journal on a full disk: the line of f is cut where the disk filled
# (a short write, then ENOSPC). Before the fix in cmd/saferm/journal.c the
# next run's line was glued to that torn one, and --undo said "every saferm
# run has been undone" while g sat in the trash.
@test "faults (jail): a journal line torn by a full disk does not hide the next run from --undo" {
	run -0 jail bash -c '
		S=$XDG_STATE_HOME
		mkdir -p "$S" && mount -t tmpfs -o size=64k state "$S" && mkdir -p "$S/safedeploy/saferm" || exit 9
		J=$S/safedeploy/saferm/journal
		# Two settled lines ending 20 bytes before a page boundary.
		run=20260101T000000.000000001-1
		entry=$(printf "%0$((2038 - ${#run} - 7))d" 0)
		printf "+\t%s\t/x\t%s\n-\t%s\t/x\t%s\n" "$run" "$entry" "$run" "$entry" > "$J"
		dd if=/dev/zero of="$S/filler" bs=4k 2> /dev/null
		echo f > f
		saferm f
		echo "f: status $?, journal $(stat -c %s "$J") bytes"
		rm "$S/filler"
		echo g > g
		saferm g
		saferm --undo 2>&1
		echo "undo: status $?"
		cat g
		saferm --restore f > /dev/null && cat f'
	assert_line --index 0 "saferm: warning: cannot record 'f' for --undo; it is in the trash"
	assert_line --index 1 "f: status 0, journal 4096 bytes"
	assert_line --partial "journal:3: skipping a malformed line"
	assert_line --regexp "^restored '.*/g'$"
	assert_line "undo: status 0"
	assert_line "g"
	assert_line "f"
}

@test "faults (jail): flags --history on a full filesystem: the findings, a warning about the cache, the old cache intact" {
	mkdir src
	cat > src/.safedeploy.yml <<-'EOF'
		flags:
		  define:
		    - paths: ["flags*.go"]
		      pattern: '^\s*const\s+(\w+)\s*='
		  reference:
		    - paths: ["*.go"]
		      pattern: 'enabled\((\w+)\)'
	EOF
	printf 'package main\nfunc run() {\n\tif enabled(POWER_PEG) {\n\t}\n}\n' > src/peg.go
	printf 'package main\nconst POWER_PEG = true\n' > defined.go
	SRC=$PWD run -0 jail bash -c '
		F=$JAIL/full
		mkdir "$F" && mount -t tmpfs -o size=512k full "$F" || exit 9
		export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@example.com GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@example.com
		commit() { git add -A && GIT_AUTHOR_DATE=$1 GIT_COMMITTER_DATE=$1 git commit -qm "$2"; }
		git init -q "$F/repo" && cd "$F/repo" && cp -a "$SRC/src/." . || exit 9
		# The Knight pattern: defined, removed, defined again.
		cp "$SRC/defined.go" flags.go && commit 2005-01-01T10:00:00Z A
		printf "package main\n" > flags.go && commit 2006-03-01T10:00:00Z B
		safedeploy flags --history > /dev/null 2>&1
		old=$(ls .git/safedeploy/flags-*.json) && cp "$old" "$JAIL/old.json" || exit 9
		cp "$SRC/defined.go" flags.go && commit 2012-07-27T10:00:00Z C
		dd if=/dev/zero of="$F/filler" bs=4k 2> /dev/null
		safedeploy flags --history --json > "$JAIL/out.json" 2> "$JAIL/err"
		echo "status $?"
		jq -r ".findings[] | .kind + \" \" + .flag" "$JAIL/out.json"
		cat "$JAIL/err"
		cmp "$old" "$JAIL/old.json" && echo "old cache intact"
		ls .git/safedeploy
		rm "$F/filler"
		safedeploy flags --history > /dev/null 2> "$JAIL/err"
		echo "status $?"
		cat "$JAIL/err"
		ls .git/safedeploy | grep -c "^flags-.*\.json\$"'
	assert_line --index 0 "status 1"
	assert_line "resurrected POWER_PEG"
	assert_line --regexp "^safedeploy: warning: cannot write the flag cache '.*/\.git/safedeploy/flags-[0-9a-f-]+\.json': No space left on device$"
	assert_line "old cache intact"
	refute_line --regexp "^flags-.*\.tmp"
	# Room again: the cache is extended, silently; the old one goes.
	assert_equal "${lines[-2]}" "status 1"
	assert_equal "${lines[-1]}" "1"
}

# probe_in_jail SCRIPT: run SCRIPT in the jail with a probe configuration
# (one HTTP check on the loopback fleet) in $P.
probe_in_jail() {
	start_fleet "$(printf '{"addr":"127.0.0.2","routes":{"/health":{"json":{"ok":true}}}}')"
	printf 'endpoints:\n  - {name: api, url: "%s", conditions: ["[STATUS] == 200"]}\n' "$(url 127.0.0.2 /health)" > p.yml
	P=$PWD/p.yml run jail bash -c "$1"
}

@test "faults (jail): probe on a full disk: the history says ENOSPC, the old page and the history stay as they were" {
	probe_in_jail '
		F=$JAIL/full
		mkdir "$F" && mount -t tmpfs -o size=512k full "$F" || exit 9
		probe() { safedeploy probe run --once --config "$P" --db "$F/h.db" --out "$F/site"; }
		probe > /dev/null || exit 9
		cp -a "$F/site" "$JAIL/old" && cp "$F/h.db" "$JAIL/old.db"
		dd if=/dev/zero of="$F/filler" bs=4k 2> /dev/null
		probe
		echo "status $?"
		diff -r "$JAIL/old" "$F/site" && echo "old page intact"
		cmp "$JAIL/old.db" "$F/h.db" && echo "history intact"
		rm "$F/filler"
		probe > /dev/null
		echo "status $?"
		sqlite3 "$F/h.db" "PRAGMA integrity_check; SELECT count(*) FROM results"'
	assert_success
	assert_line --index 0 "safedeploy: cannot read the history '$BATS_TEST_TMPDIR/jail/full/h.db': disk I/O error (No space left on device)"
	assert_line --index 1 "status 4"
	assert_line "old page intact"
	assert_line "history intact"
	assert_equal "${lines[-3]}" "status 0"
	assert_equal "${lines[-2]}" "ok"
	assert_equal "${lines[-1]}" "2"
}

# Room for the two small JSON files but not for index.html: before the fix
# in lib/page.c, history.json and summary.json were replaced, index.html
# not, and man safedeploy's "a full disk leaves the old page as it was"
# did not hold.
@test "faults (jail): probe on a disk that fills up while writing the page: the old page, byte for byte, and no temporary file" {
	probe_in_jail '
		F=$JAIL/full
		mkdir "$F" && mount -t tmpfs -o size=256k full "$F" || exit 9
		probe() { safedeploy probe run --once --config "$P" --db "$JAIL/h.db" --out "$F/site"; }
		probe > /dev/null || exit 9
		cp -a "$F/site" "$JAIL/old"
		wc -c < "$F/site/index.html"
		sleep 1 # a new generation time: any new page differs
		for free in 4k 8k; do
			dd if=/dev/zero of="$F/filler" bs=4k 2> /dev/null
			truncate -s "-$free" "$F/filler"
			probe > /dev/null
			echo "status $?"
			for f in history.json summary.json index.html; do
				cmp -s "$JAIL/old/$f" "$F/site/$f" && echo "$f intact" || echo "$f CHANGED"
			done
			ls -A "$F/site"
			rm "$F/filler"
		done
		probe > /dev/null
		echo "status $?"
		cmp -s "$JAIL/old/summary.json" "$F/site/summary.json" || echo "summary.json new"'
	assert_success
	[ "${lines[0]}" -gt 4096 ] # index.html needs two pages
	assert_line --partial "cannot write '$BATS_TEST_TMPDIR/jail/full/site/"
	assert_line --partial "No space left on device"
	refute_line --partial "CHANGED"
	assert_equal "$(grep -c ' intact$' <<< "$output")" 6
	assert_equal "$(grep -c '^status 4$' <<< "$output")" 2
	refute_line --partial ".tmp"
	assert_equal "${lines[-2]}" "status 0"
	assert_equal "${lines[-1]}" "summary.json new"
}

# --- the state directory ---------------------------------------------------------

# A state directory in use (journal, key, ledger, history), then made
# read-only, twice: a read-only bind mount (EROFS), and chmod 0500 without
# the capabilities that let root write anyway (EACCES; files inside stay
# writable). Exit statuses as documented: 4 for "could not" (README's
# table, saferm(1) and safedeploy(1)), 0 for saferm when the file is in the
# trash and only the undo record is missing.
@test "faults (jail): a read-only state directory: saferm, token and probe fail cleanly and half-write nothing" {
	probe_in_jail '
		S=$XDG_STATE_HOME/safedeploy
		state() { (cd "$S" && find . -printf "%p %m %s\n" -type f -exec sha256sum {} + | sort); }
		plan() { printf "{\"tool\":\"rm\",\"n\":%s}\n" "$1" > "$JAIL/plan$1.json"; }
		tok() { safedeploy token issue --plan "$JAIL/plan$1.json"; }
		tok_quiet() { tok "$1" > /dev/null; }
		touch a b c
		saferm a || exit 9
		plan 1 && plan 2 && plan 3
		t1=$(tok 1) && safedeploy token redeem --plan "$JAIL/plan1.json" "$t1" > /dev/null || exit 9
		t2=$(tok 2) && t3=$(tok 3) || exit 9
		safedeploy probe run --once --config "$P" > /dev/null || exit 9
		state > "$JAIL/before"
		mount --bind "$S" "$S" && mount -o remount,bind,ro "$S" || exit 9
		echo "== read-only mount"
		try() { # LABEL COMMAND...: COMMAND, then "LABEL: status N"
			local label=$1
			shift
			"$@"
			echo "$label: status $?"
		}
		try "saferm" saferm b
		try "saferm --undo" saferm --undo
		try "token issue" tok_quiet 1
		try "token redeem" safedeploy token redeem --plan "$JAIL/plan2.json" "$t2"
		try "token check" safedeploy token check --plan "$JAIL/plan1.json" "$t1"
		try "probe" safedeploy probe run --once --config "$P"
		state | diff "$JAIL/before" - && echo "state unchanged"
		umount "$S"
		echo "== chmod 0500"
		state | grep -v saferm/journal > "$JAIL/before"
		chmod 500 "$S"
		nocap() { setpriv --bounding-set=-dac_override,-dac_read_search,-fowner -- "$@"; }
		try "saferm" nocap saferm c
		try "token redeem" nocap safedeploy token redeem --plan "$JAIL/plan3.json" "$t3"
		try "probe" nocap safedeploy probe run --once --config "$P"
		chmod 700 "$S"
		state | grep -v saferm/journal | diff "$JAIL/before" - && echo "state unchanged but the journal"
		echo "== writable again"
		try "token redeem" safedeploy token redeem --plan "$JAIL/plan2.json" "$t2"
		try "token redeem" safedeploy token redeem --plan "$JAIL/plan3.json" "$t3"
		saferm --undo
		ls'
	assert_success
	local state="$BATS_TEST_TMPDIR/jail/home/.local/state/safedeploy"
	# Read-only mount. saferm trashes, without the undo record (the file
	# is in the trash, --list and --restore find it: exit 0); --undo
	# cannot record what it would put back, so it puts back nothing.
	assert_line --index 1 "saferm: warning: cannot record 'b' for --undo; it is in the trash"
	assert_line --index 2 "saferm: status 0"
	assert_line --index 3 "saferm: cannot update '$state/saferm/journal': Read-only file system"
	assert_line --index 4 "saferm --undo: status 4"
	# The key exists: issuing only reads it. Redeeming needs the ledger;
	# checking only reads it.
	assert_line --index 5 "token issue: status 0"
	assert_line --index 6 "safedeploy: cannot open token ledger lock '$state/tokens.lock': Read-only file system"
	assert_line --index 7 "token redeem: status 4"
	assert_line --index 8 --regexp "^safedeploy: token was already used at "
	assert_line --index 9 "token check: status 3"
	assert_line --index 10 "safedeploy: cannot open the history '$state/probe.db': Read-only file system"
	assert_line --index 11 "probe: status 4"
	assert_line --index 12 "state unchanged"
	# chmod 0500: the journal file itself is writable, so saferm goes on
	# as usual; the ledger is replaced through a temporary file and the
	# history needs its -wal and -shm files beside it: both fail, and
	# leave nothing behind.
	assert_line --index 14 "saferm: status 0"
	assert_line --index 15 "safedeploy: cannot record the token: cannot write '$state/tokens.ledger': Permission denied"
	assert_line --index 16 "token redeem: status 4"
	assert_line --index 17 "safedeploy: cannot read the history '$state/probe.db': attempt to write a readonly database (its directory '$state': Permission denied)"
	assert_line --index 18 "probe: status 4"
	assert_line --index 19 "state unchanged but the journal"
	# Writable again: the refused redeems had recorded nothing, and
	# --undo brings back what the journal knows.
	assert_line --index 21 "token redeemed: it cannot be used again"
	assert_line --index 22 "token redeem: status 0"
	assert_line --index 24 "token redeem: status 0"
	assert_line --index 25 --regexp "^restored '.*/work/c'$"
}

# tests/token.bats ("a corrupt ledger accepts no token and is left as it
# was") covers a line of text garbage. Here: random bytes, and zeros in
# front of a good ledger, what a crash can leave on some filesystems.
# Before the fix in lib/ledger.c the NUL bytes ended the text early: the
# ledger read as empty, a redeemed token was accepted again and the
# ledger was rewritten without it.
@test "faults: a token ledger of random bytes or with NUL bytes accepts no token and is left as it was" {
	plan plan.json '{"tool":"rm","argv":["rm","-rf","build"]}'
	local t1 t2 ledger="$XDG_STATE_HOME/safedeploy/tokens.ledger"
	t1=$(safedeploy token issue --plan plan.json)
	safedeploy token redeem --plan plan.json "$t1"
	t2=$(safedeploy token issue --plan plan.json --ttl 6m)
	cp "$ledger" good
	{ head -c 64 /dev/zero; cat good; } > "$ledger"
	cp "$ledger" before
	run -4 --separate-stderr safedeploy token redeem --plan plan.json "$t1"
	assert_equal "$stderr" "safedeploy: token ledger '$ledger' is corrupt at line 1; no token can be redeemed until it is repaired or moved aside (tokens redeemed before could then be used again until they expire)"
	run -4 safedeploy token redeem --plan plan.json "$t2"
	run -4 safedeploy token check --plan plan.json "$t1"
	cmp "$ledger" before
	# NUL bytes after the first lines: corrupt at the line that holds them.
	{ cat good; printf 'abc\0\0\0\n'; } > "$ledger"
	run -4 --separate-stderr safedeploy token redeem --plan plan.json "$t2"
	[[ $stderr == *"is corrupt at line 3;"* ]]
	python3 -c 'import os, sys; sys.stdout.buffer.write(bytes(range(256)) + os.urandom(4096))' > "$ledger"
	cp "$ledger" before
	run -4 --separate-stderr safedeploy token redeem --plan plan.json "$t2"
	[[ $stderr == *"is corrupt at line 1;"* ]]
	cmp "$ledger" before
	# Put right, the ledger works again, and still knows t1.
	cp good "$ledger"
	run -3 safedeploy token redeem --plan plan.json "$t1"
	assert_output --partial "already used"
	run -0 safedeploy token redeem --plan plan.json "$t2"
}

# --- a locked history --------------------------------------------------------------

# lock_history DB: another process (sqlite3 reading a FIFO) holds an
# exclusive lock on DB until unlock_history. Bounded: the sqlite3 is killed
# after 30 seconds whatever happens.
lock_history() {
	mkfifo lock.fifo
	timeout 30 sqlite3 "$1" < lock.fifo > lock.out 2>&1 &
	LOCKER=$!
	exec 7> lock.fifo
	echo "BEGIN EXCLUSIVE; SELECT 'locked';" >&7
	for _ in $(seq 100); do
		grep -q locked lock.out && return 0
		sleep 0.05
	done
	return 1
}

unlock_history() {
	exec 7>&-
	wait "$LOCKER" || true
	rm -f lock.fifo
}

# What the code does: SQLite's busy timeout, 5 seconds (man safedeploy:
# "A locked history is waited for 5 seconds, then an error"), before any
# check runs. tests/probe.bats checks the message with a Python locker;
# here, the wait itself, a lock released during it, and what is left. For a user: a lock released meanwhile costs only the wait; a
# lock held longer is exit 4 and a message naming the file, with the page
# left as it was, so that it turns stale rather than wrong. That is what a
# cron job wants; the checks' results are not shown at all, though.
@test "faults: a history locked by another process: waited for, then exit 4 naming it; the page untouched" {
	start_fleet "$(printf '{"addr":"127.0.0.2","routes":{"/health":{"json":{"ok":true}}}}')"
	printf 'endpoints:\n  - {name: api, url: "%s", conditions: ["[STATUS] == 200"]}\n' "$(url 127.0.0.2 /health)" > p.yml
	run -0 safedeploy probe run --once --config p.yml --db h.db --out site
	cp -a site old
	# Released after a second: the probe waited, then went ahead.
	lock_history h.db
	(sleep 1 && exec 7>&-) &
	exec 7>&-
	local start took
	start=$(date +%s%3N)
	run -0 --separate-stderr safedeploy probe run --once --config p.yml --db h.db --out site
	took=$(($(date +%s%3N) - start))
	assert_equal "$stderr" ""
	assert_line "1 of 1 up"
	[ "$took" -ge 500 ] && [ "$took" -lt 5000 ]
	wait "$LOCKER" || true
	rm -f lock.fifo
	run -0 sqlite3 h.db "SELECT count(*) FROM results"
	assert_output 2
	# Held for longer than the wait.
	rm -rf old && cp -a site old
	lock_history h.db
	start=$(date +%s%3N)
	run -4 --separate-stderr safedeploy probe run --once --config p.yml --db h.db --out site
	took=$(($(date +%s%3N) - start))
	unlock_history
	assert_equal "$stderr" "safedeploy: history 'h.db': database is locked"
	assert_output ""
	[ "$took" -ge 4500 ] && [ "$took" -le 10000 ]
	diff -r old site
	run -0 sqlite3 h.db "PRAGMA integrity_check; SELECT count(*) FROM results"
	assert_output "$(printf 'ok\n2')"
}

# --- symlink swaps ---------------------------------------------------------------------

# Rounds (at most 40, at most 3 seconds) of: a tree in the jail, removed
# by saferm while faults.py swaps two of its directories (one at the top,
# one deeper), as fast as it can, with symlinks to directories of
# sentinels outside the tree. The swap is renameat2(RENAME_EXCHANGE):
# rename(2) cannot put a symlink over a directory (EISDIR), nor can mv -T;
# an exchange is also the harder race, the name is never missing. After
# each round every sentinel (path, type, size, inode, content) is checked.
@test "faults (jail): symlink swaps racing saferm --permanent on a tree: nothing outside it is removed" {
	run -0 jail python3 "$FAULTS" racetest --mode permanent --jail "$BATS_TEST_TMPDIR/jail"
	refute_line --partial "error:"
	read -r _ rounds _ swaps _ <<< "${lines[0]}"
	[ "$rounds" -ge 5 ]
	[ "$swaps" -ge "$rounds" ] # the swaps did happen while saferm ran
}

@test "faults (jail): symlink swaps racing saferm --purge on a trashed tree: nothing outside it is removed" {
	run -0 jail python3 "$FAULTS" racetest --mode purge --jail "$BATS_TEST_TMPDIR/jail"
	refute_line --partial "error:"
	read -r _ rounds _ swaps _ <<< "${lines[0]}"
	[ "$rounds" -ge 5 ]
	[ "$swaps" -ge "$rounds" ]
}

# --- saferun --------------------------------------------------------------

# These need a mount of their own but aim at nothing of the system's: a
# private mount namespace (unshare -m) is enough, and keeps /proc writable
# for the sandbox's user namespace (the jail's read-only /proc does not).
@test "faults: saferun with a read-only state directory: no sandbox (125), a plan still shown, nothing changed" {
	mkdir -p "$XDG_STATE_HOME/safedeploy" d && touch d/f
	saferun -n -- rm -r d > /dev/null
	run -0 unshare -m --propagation private bash -c '
		S=$XDG_STATE_HOME/safedeploy
		mount --bind "$S" "$S" && mount -o remount,bind,ro "$S" || exit 9
		saferun -- rm -r d; echo "native: status $?"
		saferun -- sh -c "rm -r d"; echo "sandbox: status $?"
		[ -e d/f ] && echo "d/f still there"'
	assert_line "native: status 3"
	assert_line "sandbox: status 125"
	assert_line "d/f still there"
	assert_output --regexp "saferun: cannot create .*saferun/sandboxes.*Read-only file system"
}

@test "faults (jail): where no sandbox can run, saferun says why and runs the command only with a token" {
	run -0 jail bash -c '
		touch keep
		saferun -- sh -c "rm keep"; echo "status $?"
		[ -e keep ] && echo "keep still there"'
	assert_line "status 3"
	assert_line "keep still there"
	assert_line --regexp "^saferun: cannot run 'sh' in the sandbox: .+"
	assert_line "saferun: its effects are unknown: it runs only once confirmed"
}

@test "faults: saferun with a corrupt token ledger accepts no token and runs nothing" {
	mkdir d && touch d/f
	local tok ledger="$XDG_STATE_HOME/safedeploy/tokens.ledger"
	tok=$(saferun -n --json -- rm -r d | jq -r .token)
	printf 'not a ledger\0\n' > "$ledger"
	run -125 --separate-stderr saferun --confirm "$tok" -- rm -r d
	assert_regex "$stderr" "token ledger '$ledger' is corrupt at line 1"
	assert_file_exists d/f
}

@test "faults: a full filesystem under the sandbox: the command sees ENOSPC, saferun says it cannot keep the run, the host is untouched" {
	run -0 unshare -m --propagation private bash -c '
		S=$XDG_STATE_HOME
		mkdir -p "$S" && mount -t tmpfs -o size=1m small "$S" || exit 9
		saferun -- sh -c "head -c 4M /dev/zero > big; echo rc=\$?"; echo "status $?"
		[ ! -e big ] && echo "no big on the host"
		ls -A "$S/safedeploy/saferun/sandboxes" | wc -l'
	# The command inside the sandbox met the full disk...
	assert_line "rc=1"
	assert_line --regexp "No space left on device"
	# ...and so did saferun, keeping the run: said, discarded, exit 125.
	assert_line --regexp "^saferun: cannot write '.*/layers.json': No space left on device$"
	assert_line "status 125"
	assert_line "no big on the host"
	assert_equal "${lines[-1]}" 0
}

# Each file the sandbox modified is replaced whole (a temporary file beside
# it, then a rename): killed at any moment of --commit, every file holds
# either its old content or its new one, never a mix or nothing.
@test "faults: SIGKILL at 10 moments of saferun --commit over 1,000 files: each file old or new, never torn" {
	mkdir t
	local i k n old new torn
	for ((i = 0; i < 1000; i++)); do echo "old $i" > "t/f$i"; done
	script='for f in t/f*; do echo "new ${f#t/f} and some more text" > "$f"; done'
	for ((k = 0; k < 10; k++)); do
		for ((i = 0; i < 1000; i++)); do echo "old $i" > "t/f$i"; done
		tok=$(saferun -n --json -- sh -c "$script" | jq -r .token)
		[ -n "$tok" ] || fail "no token"
		saferun --commit --confirm "$tok" -- sh -c "$script" > /dev/null 2>&1 &
		local pid=$!
		# Kill when a share of the files is new, polled; bounded.
		for ((n = 0; n < 1000; n++)); do
			new=$(grep -l '^new' t/f* 2> /dev/null | wc -l)
			[ "$new" -lt $((k * 90 + 10)) ] || break
			kill -0 "$pid" 2> /dev/null || break
			sleep 0.01
		done
		kill -9 "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null || true
		old=$(grep -l '^old [0-9]*$' t/f* | wc -l)
		new=$(grep -l '^new [0-9]* and some more text$' t/f* | wc -l)
		torn=$((1000 - old - new))
		echo "# kill $k: $old old, $new new, $torn torn" >&3
		assert_equal "$torn" 0
		assert_equal "$(ls t | wc -l)" "$(find t -name 'f*' | wc -l)"
		rm -f t/.saferun.*
	done
}
