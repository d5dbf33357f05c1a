#!/usr/bin/env bats
# saferun: real commands on real trees. A plan is shown, nothing runs
# without a token bound to it, a stale plan is refused naming what changed,
# the sandbox reports and applies what a script did, policies decide.

load helpers/common
load helpers/man

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# The token of the re-run line in $output (or $stderr).
token_of() {
	grep -o -- '--confirm [0-9A-HJKMNP-TV-Z]\{48\}' <<< "$1" | head -1 | cut -d' ' -f2
}

# A tree of N files (1 KiB each) in DIR.
tree() {
	local dir=$1 n=$2 i
	mkdir -p "$dir/sub"
	for ((i = 0; i < n; i++)); do
		head -c 1024 /dev/zero > "$dir/sub/f$i"
	done
}

# A listing of a tree that changes when anything a user cares about does:
# relative names, types, modes and content digests.
snapshot() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %p %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0r sha256sum)
}

@test "saferun: --help, --version, usage errors exit 125, a missing command 127" {
	run -0 saferun --help
	assert_line --partial "Usage: saferun [OPTION]... [--] COMMAND [ARG]..."
	run -0 saferun --version
	assert_output --regexp '^saferun \(safedeploy\) [0-9]'
	run -125 --separate-stderr saferun
	assert_equal "$stderr" "saferun: missing command
Try 'saferun --help' for more information."
	run -125 --separate-stderr saferun --timeout soon -- true
	assert_equal "${stderr%%$'\n'*}" "saferun: --timeout: not a duration: 'soon'"
	run -127 --separate-stderr saferun -- no-such-command-here x
	assert_equal "$stderr" "saferun: 'no-such-command-here': command not found"
}

@test "saferun: rm -r without a terminal shows the plan, deletes nothing and exits 3; the re-run line deletes" {
	tree build 40
	run -3 --separate-stderr saferun -- rm -r build
	assert_equal "$output" ""
	assert_regex "$stderr" "would delete 42 files \(48K\): build"$'\n'
	assert_regex "$stderr" "saferun: confirmation needed; to go ahead, run:"
	assert_dir_exists build/sub
	assert_equal "$(find build -type f | wc -l)" 40
	local tok
	tok=$(token_of "$stderr")
	[ -n "$tok" ] || fail "no token in: $stderr"
	grep -qF -- "saferun --confirm $tok -- rm -r build" <<< "$stderr" || fail "re-run line: $stderr"
	run -0 saferun --confirm "$tok" -- rm -r build
	assert_not_exists build
}

@test "saferun: a token is single use and bound to the exact command" {
	tree a 3
	tree b 3
	local tok
	tok=$(token_of "$(saferun -n -- rm -r a)")
	run -3 --separate-stderr saferun --confirm "$tok" -- rm -r b
	assert_regex "$stderr" "saferun: token is for a different plan"
	assert_dir_exists b/sub
	run -0 saferun --confirm "$tok" -- rm -r a
	assert_not_exists a
	# A plan that stays the same after it ran: a rule asks for a token.
	mkdir -p "$XDG_CONFIG_HOME/safedeploy"
	printf 'saferun:\n  rules:\n    - command: truncate\n      action: confirm\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"

	tok=$(token_of "$(saferun -n -- truncate -c -s 10 absent)")
	run -0 saferun --confirm "$tok" -- truncate -c -s 10 absent
	run -3 --separate-stderr saferun --confirm "$tok" -- truncate -c -s 10 absent
	assert_regex "$stderr" "token was already used at"
	assert_equal "$output" ""
}

@test "saferun: a file added since the dry run makes the plan stale: refused, naming what changed, nothing deleted" {
	tree data 5
	run -0 saferun -n -- rm -r data
	local tok
	tok=$(token_of "$output")
	echo new > data/sub/added-later
	run -3 --separate-stderr saferun --confirm "$tok" -- rm -r data
	assert_regex "$stderr" "token is for a different plan"
	assert_regex "$stderr" "changed since the plan: 'data' changed: 7 entries below it now, 6 in the plan"
	assert_file_exists data/sub/added-later
	assert_file_exists data/sub/f0
}

@test "saferun: a stale plan names the effects it would now add and no longer have" {
	mkdir d && touch d/x1 d/x2
	local tok
	tok=$(saferun -n --json -- find d -name 'x*' -delete | jq -r .token)
	rm d/x2 && touch d/x3
	run -3 --separate-stderr saferun --confirm "$tok" -- find d -name 'x*' -delete
	assert_regex "$stderr" "saferun: would now also delete 'd/x3'"
	assert_regex "$stderr" "saferun: would no longer delete 'd/x2'"
	assert_file_exists d/x1
}

@test "saferun: -n --json prints the plan, its digest, the token and the re-run line" {
	tree t 2
	run -0 --separate-stderr saferun -n --json -- rm -r t
	local doc=$output
	assert_equal "$(jq -r .plan.mode <<< "$doc")" native
	assert_equal "$(jq -r .plan.command <<< "$doc")" rm
	assert_equal "$(jq -r '.plan.argv | join(" ")' <<< "$doc")" "rm -r t"
	assert_equal "$(jq -r '.plan.effects[0].op' <<< "$doc")" delete
	assert_equal "$(jq -r '.plan.effects[0].files' <<< "$doc")" 4
	assert_equal "$(jq -r '.plan.exe.path' <<< "$doc")" "$(readlink -f "$(command -v rm)")"
	assert_equal "$(jq -r '.plan.exe.sha256' <<< "$doc")" "$(sha256sum "$(readlink -f "$(command -v rm)")" | cut -d' ' -f1)"
	assert_regex "$(jq -r .digest <<< "$doc")" '^[0-9a-f]{64}$'
	assert_regex "$(jq -r .rerun <<< "$doc")" '^saferun --confirm [0-9A-Z]{48} -- rm -r t$'
	assert_dir_exists t
}

@test "saferun: arguments with spaces, newlines and leading dashes survive the plan and the re-run line" {
	mkdir -- '-odd dir' $'new\nline'
	touch -- '-odd dir/x' $'new\nline/y'
	run -0 --separate-stderr saferun -n --json -- rm -r -- '-odd dir' $'new\nline'
	assert_equal "$(jq -r '.plan.argv[3]' <<< "$output")" '-odd dir'
	assert_equal "$(jq -r '.plan.argv[4]' <<< "$output")" $'new\nline'
	assert_dir_exists '-odd dir'
	# The printed line, pasted back into a shell, is the same command.
	local line
	line=$(jq -r .rerun <<< "$output")
	run -0 bash -c "$line"
	assert_not_exists '-odd dir'
	assert_not_exists $'new\nline'
}

@test "saferun: on a terminal the code is typed back, then the command runs" {
	tree t 2
	run -0 python3 "$BATS_TEST_DIRNAME/helpers/ttydrive.py" \
		--answer 'type ([0-9A-Z-]+)' '\1' -- saferun -- rm -r t
	assert_output --partial "would delete 4 files"
	assert_not_exists t
}

@test "saferun: find -delete, git clean -fdx, chmod -R and rsync --delete are planned from their own dry runs" {
	tree f 3
	touch f/keep.txt
	run -3 --separate-stderr saferun -- find f -name 'f[0-9]*' -delete
	assert_regex "$stderr" "would delete 3 files"
	assert_file_exists f/sub/f0

	git init -q repo
	(cd repo && echo a > tracked && git add tracked && git -c user.name=t -c user.email=t@t commit -qm one &&
		echo junk > untracked && mkdir build && echo o > build/out.o && echo '*.o' > .gitignore)
	run -3 --separate-stderr bash -c 'cd repo && saferun -- git clean -fdx'
	assert_regex "$stderr" "git clean"
	assert_regex "$stderr" "would delete"
	assert_file_exists repo/untracked

	run -3 --separate-stderr saferun -- chmod -R go-r f
	assert_regex "$stderr" "would change the mode of"
	assert_equal "$(stat -c %a f/sub/f0)" 644

	mkdir src dst
	echo s > src/a
	echo old > dst/gone
	run -3 --separate-stderr saferun -- rsync -a --delete src/ dst/
	assert_regex "$stderr" "delete"
	assert_file_exists dst/gone
}

@test "saferun: git reset --hard shows the uncommitted changes it would lose and an undo point" {
	git init -q repo
	cd repo
	echo one > f && git add f && git -c user.name=t -c user.email=t@t commit -qm one
	echo edited > f
	run -3 --separate-stderr saferun -- git reset --hard
	assert_regex "$stderr" "would modify 1 file"
	assert_regex "$stderr" "undo: git stash apply [0-9a-f]{40}"
	assert_equal "$(cat f)" edited
	local tok
	tok=$(token_of "$stderr")
	run -0 saferun --confirm "$tok" -- git reset --hard
	assert_equal "$(cat f)" one
}

@test "saferun: policy rules deny, allow and limit arguments; a bad rule names file, line and key" {
	mkdir -p "$XDG_CONFIG_HOME/safedeploy"
	cat > "$XDG_CONFIG_HOME/safedeploy/config.yml" <<-'EOF'
		saferun:
		  rules:
		    - command: rm
		      match: "* keep*"
		      action: deny
		      message: keep is kept
		    - command: remove-capacity
		      max: {arg: --percentage, value: 10}
		      action: deny
		      message: at most 10% at a time
		    - match: "rm -r scratch"
		      action: allow
	EOF
	tree keep 1
	run -1 --separate-stderr saferun -- rm -r keep
	assert_regex "$stderr" "saferun: denied by rule 1 \(.*config.yml:3:7\): keep is kept"
	assert_dir_exists keep
	tree scratch 1
	run -0 saferun -- rm -r scratch
	assert_not_exists scratch
	# Allowed, or nothing to confirm: it runs as if saferun were not there.
	assert_output ""
	run -0 --separate-stderr saferun -- rm -f not-there
	assert_equal "$stderr" ""

	printf '#!/bin/sh\necho removed "$@"\n' > remove-capacity
	chmod +x remove-capacity
	run -1 --separate-stderr saferun -- ./remove-capacity --percentage 100%
	assert_regex "$stderr" "denied by rule 2 .*at most 10% at a time \(--percentage 100 is over the limit of 10\)"

	printf 'saferun:\n  rules:\n    - match: x\n      action: maybe\n' > bad.yml
	run -125 --separate-stderr saferun --config bad.yml -- true
	assert_regex "$stderr" "bad.yml:4:7: 'saferun.rules\[0\].action': must be one of allow, confirm, deny \(got 'maybe'\)"
}

@test "saferun: a recursive operation on / needs a token even when a rule allows it" {
	mkdir -p "$XDG_CONFIG_HOME/safedeploy"
	printf 'saferun:\n  rules:\n    - match: "*"\n      action: allow\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -3 --separate-stderr saferun -- rm -r /
	assert_regex "$stderr" "policy: needs confirmation by a built-in rule: recursive operation on '/'"
}

# The script of the sandbox tests: creates, modifies, renames, deletes a
# tree and changes a mode, relative to the current directory.
SCRIPT='echo new > created && echo more >> modified && mv old-name new-name && rm -r gone && chmod 600 mode-only && mkdir -p made/deep && echo x > made/deep/f'

populate() {
	mkdir -p "$1/gone/inner"
	echo m > "$1/modified"
	echo o > "$1/old-name"
	echo p > "$1/mode-only"
	chmod 644 "$1/mode-only"
	for i in 1 2 3; do echo "$i" > "$1/gone/inner/$i"; done
}

@test "saferun (sandbox): a script's creates, modifies, renames and deletes are reported; the host is untouched" {
	populate w
	local before
	before=$(snapshot w)
	cd w
	run -3 --separate-stderr saferun -- sh -c "$SCRIPT"
	cd ..
	assert_equal "$(snapshot w)" "$before"
	assert_regex "$stderr" "would delete 5 files \(6B\): gone"
	assert_regex "$stderr" "rename +old-name -> new-name"
	assert_regex "$stderr" "would change the mode of 1 file: mode-only"
	assert_regex "$stderr" "would modify 1 file \(7B\): modified"
	assert_regex "$stderr" "would create 4 files \(6B\) under \./"$'\n'
	assert_regex "$stderr" "saferun --commit --confirm [0-9A-Z]{48} -- sh -c"
}

@test "saferun (sandbox): --commit applies exactly what the command did, without running it again" {
	populate w
	cp -a w ref
	(cd ref && sh -c "$SCRIPT")
	cd w
	run -3 --separate-stderr saferun -- sh -c "$SCRIPT; echo ran >> \"$BATS_TEST_TMPDIR/runs\""
	local tok
	tok=$(token_of "$stderr")
	run -0 --separate-stderr saferun --commit --confirm "$tok" -- sh -c "$SCRIPT; echo ran >> \"$BATS_TEST_TMPDIR/runs\""
	cd ..
	assert_equal "$(snapshot w)" "$(snapshot ref)"
	# The command ran once, in the sandbox; its write outside the tree
	# was applied too.
	assert_equal "$(cat "$BATS_TEST_TMPDIR/runs")" ran
	# A second commit has nothing left to apply.
	cd w
	run -3 --separate-stderr saferun --commit --confirm "$tok" -- sh -c "$SCRIPT; echo ran >> \"$BATS_TEST_TMPDIR/runs\""
	assert_regex "$stderr" "no sandbox run of this command is waiting"
}

@test "saferun (sandbox): a host change between the sandbox run and --commit is refused; nothing is applied" {
	populate w
	cd w
	run -3 --separate-stderr saferun -- sh -c "$SCRIPT"
	local tok
	tok=$(token_of "$stderr")
	echo "edited on the host" > modified
	local before
	before=$(snapshot .)
	run -3 --separate-stderr saferun --commit --confirm "$tok" -- sh -c "$SCRIPT"
	assert_regex "$stderr" "refusing to apply: the host changed since the sandbox run: 'modified' was modified"
	assert_equal "$(snapshot .)" "$before"
	echo late > gone/inner/late
	run -3 --separate-stderr saferun --commit --confirm "$tok" -- sh -c "$SCRIPT"
	assert_regex "$stderr" "'gone' changed"
	assert_file_exists gone/inner/late
}

@test "saferun (sandbox): a sandbox kept from before a restart is refused at --commit and pruned; nothing is applied" {
	populate w
	cd w
	local boxes=$XDG_STATE_HOME/safedeploy/saferun/sandboxes tok before box
	run -3 --separate-stderr saferun -- sh -c "$SCRIPT"
	tok=$(token_of "$stderr")
	box=$(echo "$boxes"/*)
	assert_equal "$(cat "$box/boot_id")" "$(cat /proc/sys/kernel/random/boot_id)"
	# As after a restart: the overlays were volatile, the layers may be torn.
	echo 00000000-0000-4000-8000-000000000000 > "$box/boot_id"
	before=$(snapshot .)
	run -3 --separate-stderr saferun --commit --confirm "$tok" -- sh -c "$SCRIPT"
	assert_regex "$stderr" "made before the machine restarted.*run it again without --commit"
	assert_equal "$(snapshot .)" "$before"
	assert_not_exists "$box"
	# One that nobody commits goes at the next run of anything, token or not.
	run -3 saferun -- sh -c "$SCRIPT"
	box=$(echo "$boxes"/*)
	rm "$box/boot_id"
	run saferun -- true
	assert_not_exists "$box"
	assert_equal "$(snapshot .)" "$before"
}

@test "saferun (sandbox): a command that never ends is killed by --timeout, the host untouched (exit 137)" {
	run -137 --separate-stderr saferun --timeout 1s -- sh -c 'touch made; sleep 60'
	assert_regex "$stderr" "did not finish within 1s in the sandbox and was killed"
	assert_not_exists made
}

@test "saferun (sandbox): standard input reaches the command; no changes means its own status, nothing to confirm" {
	run -3 --separate-stderr bash -c 'printf hello | saferun -- sh -c "cat > got"'
	assert_regex "$stderr" "would create 1 file \(5B\): got"
	assert_not_exists got
	run -7 --separate-stderr saferun -- sh -c 'echo out; exit 7'
	assert_equal "$output" out
	assert_regex "$stderr" "no changes"
}

@test "saferun (sandbox): a write where no overlay is kept is reported as not captured" {
	run --separate-stderr saferun -- sh -c 'echo x > /dev/shm/saferun-test-$$; echo y > kept'
	assert_regex "$stderr" "/dev/shm/saferun-test-[0-9]+"
	assert_regex "$stderr" "not kept|not captured"
	run ls /dev/shm/
	refute_output --partial saferun-test
}

@test "saferun: a file name that is not UTF-8 is refused with a clear error, nothing run" {
	mkdir "bad$(printf '\377')dir"
	run -125 --separate-stderr saferun -- rm -r "bad$(printf '\377')dir"
	assert_equal "$stderr" "saferun: cannot make a plan: the name 'bad\\xffdir' is not valid UTF-8, and a plan (JSON) cannot hold it"
	assert_dir_exists "bad$(printf '\377')dir"
	run -125 --separate-stderr saferun -- sh -c "rm -r bad*"
	assert_regex "$stderr" "is not valid UTF-8"
	assert_dir_exists "bad$(printf '\377')dir"
}

@test "saferun: with --json, what a sandboxed command prints goes to standard error" {
	run -0 --separate-stderr saferun -n --json -- sh -c 'echo printed; echo x > f'
	assert_equal "$(jq -r '.plan.effects[0].op' <<< "$output")" create
	assert_regex "$stderr" "printed"
}

# --- documentation ----------------------------------------------------------

@test "saferun: every option in --help is in the man page, and back" {
	check_man_options "$REPO_ROOT/cmd/saferun/saferun.1" "$(saferun --help)"
}

@test "saferun: the man page's examples work as shown" {
	run_man_examples "$REPO_ROOT/cmd/saferun/saferun.1" 1 2 3
}
