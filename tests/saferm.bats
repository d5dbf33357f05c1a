#!/usr/bin/env bats
# saferm: GNU rm's interface, a FreeDesktop trash that trash-cli and gio read,
# and refusals of the catastrophic. Everything aimed at '/', its children or
# $HOME runs in a jail (tests/helpers/jail.bash): every mount read-only.

load helpers/common
load helpers/jail
load helpers/man

setup() {
	common_setup
	TRASH="$XDG_DATA_HOME/Trash"
	mkdir -p "$XDG_CONFIG_HOME"
}

# The info file of the single entry NAME in the home trash.
info_of() {
	cat "$TRASH/info/$1.trashinfo"
}

# --- GNU rm's interface -----------------------------------------------------

@test "saferm: no operand is GNU's 'missing operand', exit 1; -f alone is silent" {
	run -1 saferm
	assert_output "saferm: missing operand
Try 'saferm --help' for more information."
	run -0 saferm -f
	assert_output ""
}

@test "saferm: a missing file is rm's message and status; -f silences it" {
	run -1 saferm nofile
	assert_output "saferm: cannot remove 'nofile': No such file or directory"
	run -0 saferm -f nofile
	assert_output ""
	touch file
	run -0 saferm -f file/x
	assert_output ""
	run -1 saferm ''
	assert_output "saferm: cannot remove '': No such file or directory"
}

@test "saferm: every operand is tried; the status is 1 if any failed" {
	touch a c
	run -1 saferm a nofile c
	assert_output "saferm: cannot remove 'nofile': No such file or directory"
	assert_not_exist a
	assert_not_exist c
	assert_file_exists "$TRASH/files/a"
	assert_file_exists "$TRASH/files/c"
}

@test "saferm: a directory needs -r; -d removes only an empty one" {
	mkdir -p d/sub e
	run -1 saferm d
	assert_output "saferm: cannot remove 'd': Is a directory"
	run -1 saferm -d d
	assert_output "saferm: cannot remove 'd': Directory not empty"
	assert_dir_exists d/sub
	run -0 saferm -d e
	assert_not_exist e
	run -0 saferm -r d
	assert_not_exist d
	assert_dir_exists "$TRASH/files/d/sub"
}

@test "saferm: '.' and '..' are refused with GNU's message" {
	mkdir -p d/e
	run -1 saferm -r d/. d/e/.. .
	assert_line --index 0 "saferm: refusing to remove '.' or '..' directory: skipping 'd/.'"
	assert_line --index 1 "saferm: refusing to remove '.' or '..' directory: skipping 'd/e/..'"
	assert_line --index 2 "saferm: refusing to remove '.' or '..' directory: skipping '.'"
	assert_dir_exists d/e
	run -1 saferm .
	assert_output "saferm: cannot remove '.': Is a directory"
}

@test "saferm: bundled short options and options after operands work like rm" {
	mkdir -p d1/x d2/y
	run -0 saferm -rf d1
	run -0 saferm d2 -fr
	assert_not_exist d1
	assert_not_exist d2
	mkdir d3
	run -0 saferm -R -- d3
	assert_not_exist d3
}

@test "saferm: bad options get GNU's messages and exit 1" {
	run -1 saferm -x file
	assert_output "saferm: invalid option -- 'x'
Try 'saferm --help' for more information."
	run -1 saferm --bogus
	assert_line --index 0 "saferm: unrecognized option '--bogus'"
	run -1 saferm --interactive=sometimes f
	assert_line --index 0 "saferm: invalid argument 'sometimes' for '--interactive'"
	run -1 saferm --preserve-root=some f
	assert_line --index 0 "saferm: unrecognized --preserve-root argument: 'some'"
	run -1 saferm -rf --no-preserve /
	assert_output "saferm: you may not abbreviate the --no-preserve-root option"
}

@test "saferm: an option-like file name gets GNU's hint" {
	touch -- -foo
	run -1 saferm -foo
	assert_line --index 0 "saferm: invalid option -- 'o'"
	assert_line --index 1 "Try 'saferm ./-foo' to remove the file '-foo'."
	run -0 saferm -- -foo
	assert_not_exist -- -foo
}

@test "saferm: through a symlink named rm, messages start with 'rm:'" {
	ln -s "$REPO_ROOT/bin/saferm" rm
	run -1 ./rm nofile
	assert_output "rm: cannot remove 'nofile': No such file or directory"
	run -0 ./rm --help
	assert_line --index 0 --regexp '^Usage: rm '
}

@test "saferm: -i asks before each removal; the answer decides" {
	touch keep go
	run -0 bash -c 'printf "n\ny\n" | saferm -i keep go'
	assert_output "saferm: remove regular empty file 'keep'? saferm: remove regular empty file 'go'? "
	assert_file_exists keep
	assert_not_exist go
}

@test "saferm: -I asks once for more than three operands or -r; no asks nothing" {
	touch a b c d
	run -0 bash -c 'echo n | saferm -I a b c d'
	assert_output "saferm: remove 4 arguments? "
	assert_file_exists a
	run -0 bash -c 'echo y | saferm -I a b c d'
	assert_not_exist a
	assert_not_exist d
	mkdir dir
	run -0 bash -c 'echo n | saferm -I -r dir'
	assert_output "saferm: remove 1 argument recursively? "
	assert_dir_exists dir
	touch e f
	run -0 bash -c 'saferm -I e f < /dev/null'
	assert_output ""
	assert_not_exist e
}

@test "saferm: --interactive=never and a later -f win over -i" {
	touch a b
	run -0 bash -c 'saferm -i --interactive=never a < /dev/null'
	assert_output ""
	assert_not_exist a
	run -0 bash -c 'saferm -i -f b < /dev/null'
	assert_not_exist b
}

@test "saferm: -v says what happened to each operand" {
	mkdir d
	touch f
	run -0 saferm -rv d f
	assert_line --index 0 "removed directory 'd' (to the trash)"
	assert_line --index 1 "removed 'f' (to the trash)"
}

@test "saferm: --help and --version" {
	run -0 saferm --help
	assert_line --index 0 --regexp '^Usage: saferm '
	assert_output --partial "--permanent"
	run -0 saferm --version
	assert_output --regexp '^saferm \(safedeploy\) [0-9]'
}

# --- the trash ----------------------------------------------------------------

@test "saferm: trashing writes a spec .trashinfo and moves the file" {
	echo data > report.txt
	run -0 saferm report.txt
	assert_not_exist report.txt
	assert_equal "$(cat "$TRASH/files/report.txt")" data
	run info_of report.txt
	assert_line --index 0 "[Trash Info]"
	assert_line --index 1 "Path=$PWD/report.txt"
	assert_line --index 2 --regexp '^DeletionDate=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$'
	assert_equal "$(stat -c %a "$TRASH")" 700
}

@test "saferm: a tree is one rename: the inode is kept whatever its size" {
	mkdir -p big/a/b
	for i in $(seq 1 200); do echo "$i" > "big/a/b/f$i"; done
	local ino
	ino=$(stat -c %i big)
	run -0 saferm -r big
	assert_equal "$(stat -c %i "$TRASH/files/big")" "$ino"
	assert_equal "$(find "$TRASH/files/big" -type f | wc -l)" 200
}

@test "saferm: the same name twice gets a new name; both restore" {
	echo one > a.txt
	saferm a.txt
	echo two > a.txt
	saferm a.txt
	assert_equal "$(cat "$TRASH/files/a.txt")" one
	assert_equal "$(cat "$TRASH/files/a.2.txt")" two
	assert_file_exists "$TRASH/info/a.2.txt.trashinfo"
	run -0 saferm --restore a.txt
	assert_equal "$(cat a.txt)" two
	assert_output --partial "restored '$PWD/a.txt'"
}

@test "saferm: odd names are percent-encoded and come back intact" {
	local names=("with space" $'new\nline' "100%" $'bad\xffutf8' "it's")
	for n in "${names[@]}"; do printf '%s' "$n" > "$n"; done
	run -0 saferm -- "${names[@]}"
	grep -q '^Path=.*/with%20space$' "$TRASH/info/with space.trashinfo"
	grep -q '^Path=.*/100%25$' "$TRASH/info/100%.trashinfo"
	grep -q '^Path=.*/new%0Aline$' "$TRASH/info/new"$'\n'"line.trashinfo"
	grep -q '^Path=.*/bad%FFutf8$' "$TRASH/info/bad"$'\xff'"utf8.trashinfo"
	run -0 saferm --undo
	for n in "${names[@]}"; do
		assert_equal "$(cat -- "$n")" "$n"
	done
}

@test "saferm: a symlink operand trashes the link, never its target" {
	mkdir target
	touch target/keep
	ln -s target link
	ln -s target link2
	run -0 saferm link
	assert_file_exists target/keep
	assert_link_exists "$TRASH/files/link"
	run -0 saferm -r link2/
	assert_file_exists target/keep
	assert_link_exists "$TRASH/files/link2"
	touch file
	run -1 saferm file/
	assert_output "saferm: cannot remove 'file/': Not a directory"
}

@test "saferm: trash-cli lists and restores what saferm trashed" {
	echo hello > hello.txt
	mkdir dir
	saferm -r hello.txt dir
	run -0 trash-list
	assert_line --regexp "^[0-9-]+ [0-9:]+ $PWD/hello.txt\$"
	assert_line --regexp "^[0-9-]+ [0-9:]+ $PWD/dir\$"
	# trash-restore offers what was trashed from the current directory.
	run -0 bash -c "trash-restore <<< 0"
	[ -e hello.txt ] || [ -d dir ]
}

@test "saferm: gio (GLib's trash) lists and restores what saferm trashed" {
	command -v dbus-run-session || skip "dbus-run-session is not installed"
	echo hello > 'gio file.txt'
	saferm 'gio file.txt'
	run -0 timeout 20 dbus-run-session -- gio trash --list
	assert_output --partial "$PWD/gio file.txt"
	run -0 timeout 20 dbus-run-session -- gio trash --restore 'trash:///gio%20file.txt'
	assert_equal "$(cat 'gio file.txt')" hello
}

@test "saferm: --list shows path, date and size; --json is one document" {
	printf '%4096s' x > big.txt
	mkdir d
	printf '%8192s' y > d/inner
	saferm -r big.txt d
	run -0 saferm --list
	assert_line --index 0 --regexp '^ID +DELETED +SIZE +PATH$'
	assert_output --regexp "[0-9a-z]{8}  [0-9-]{10} [0-9:]{8} +4(\.0)?K  $PWD/big.txt"
	assert_output --partial "  $PWD/d/"
	assert_line --regexp '^2 items, '
	run -0 --separate-stderr saferm --list --json
	assert_equal "$(jq -r '.version' <<< "$output")" 1
	assert_equal "$(jq -r '.items | length' <<< "$output")" 2
	assert_equal "$(jq -r '.items[] | select(.type == "directory") | .path' <<< "$output")" "$PWD/d"
	[ "$(jq -r '.items[] | select(.type == "directory") | .size' <<< "$output")" -ge 8192 ]
	# The sizes of directories are cached as the spec says.
	assert_file_exists "$TRASH/directorysizes"
	grep -q ' d$' "$TRASH/directorysizes"
}

@test "saferm: --restore by ID or pattern, --to DIR, never over an existing file" {
	echo 1 > a.log
	echo 2 > b.log
	echo 3 > c.txt
	saferm a.log b.log c.txt
	local id
	id=$(saferm --list --json | jq -r '.items[] | select(.path | endswith("/c.txt")) | .id')
	run -0 saferm --restore "$id"
	assert_equal "$(cat c.txt)" 3
	echo conflict > a.log
	mkdir out
	run -1 saferm --restore '*.log'
	assert_output --partial "a.log"
	assert_equal "$(cat a.log)" conflict
	assert_equal "$(cat b.log)" 2
	run -0 saferm --restore a.log --to out
	assert_equal "$(cat out/a.log)" 1
	run -1 saferm --restore nothing-like-this
	assert_output "saferm: no trashed item matches 'nothing-like-this' (see --list)"
}

@test "saferm: --undo restores what the last run trashed, then the one before" {
	touch first
	saferm first
	touch second third
	saferm second third
	run -0 saferm --undo
	assert_file_exists second
	assert_file_exists third
	assert_not_exist first
	run -0 saferm --undo
	assert_file_exists first
	run -1 saferm --undo
	assert_output --partial "nothing to undo"
}

@test "saferm: --undo skips a path that exists again and keeps it for later" {
	echo old > f
	saferm f
	echo new > f
	run -1 saferm --undo
	assert_equal "$(cat f)" new
	rm f
	run -0 saferm --undo
	assert_equal "$(cat f)" old
}

@test "saferm: --undo after runs at once, with a corrupt journal line and a compacted journal" {
	local journal=$XDG_STATE_HOME/safedeploy/saferm/journal i
	for i in 1 2 3 4 5 6; do touch "p$i"; done
	# Four runs at once append to the one journal: every line is whole.
	saferm p1 & saferm p2 & saferm p3 & saferm p4 &
	wait
	run -0 awk -F'\t' 'NF != 4 || $1 != "+" { bad++ } END { print NR, bad + 0 }' "$journal"
	assert_output "4 0"
	printf 'garbage without tabs\n' >> "$journal"
	saferm p5 p6
	run -0 saferm --undo
	assert_output --partial "journal:5: skipping a malformed line"
	assert_file_exists p5
	assert_file_exists p6
	for i in 1 2 3 4; do
		run -0 saferm --undo
		assert_output --regexp "restored '.*/p[1-4]'"
	done
	for i in 1 2 3 4; do assert_file_exists "p$i"; done
	run -1 saferm --undo
	assert_output --partial "nothing to undo: every saferm run has been undone"
	# Past its size limit the journal is compacted: what was undone goes,
	# what can still be undone stays.
	: > "$journal"
	local dir
	dir=$(printf '%0200d' 0)
	for i in $(seq 1500); do printf '+\t2026%06dT000000.0-1\t/x/%s\tf%s\n-\t2026%06dT000000.0-1\t/x/%s\tf%s\n' "$i" "$dir" "$i" "$i" "$dir" "$i"; done >> "$journal"
	touch keep
	saferm keep
	run -0 wc -l < "$journal"
	assert_output 1
	run -0 saferm --undo
	assert_file_exists keep
}

@test "saferm: a progress bar on a terminal while counting, removing and purging; none off it" {
	local i
	mkdir -p big/a big/b
	for i in $(seq 300); do : > "big/a/f$i" && : > "big/b/g$i"; done
	cp -a big big2
	# The bar waits a second of work; at once here, where work is short.
	export SAFEDEPLOY_PROGRESS_DELAY=0
	run -0 script -qec "saferm -n --permanent -rf big" /dev/null
	assert_output --regexp 'counting [0-9]+'
	run -0 script -qec "saferm --permanent -rf big" /dev/null
	assert_output --regexp 'removing \[[#.]+\] +[0-9]+% [0-9]+/603'
	assert_not_exist big
	saferm -rf big2
	run -0 script -qec "saferm --purge" /dev/null
	assert_output --regexp 'purging \[[#.]+\] +[0-9]+% [0-9]+/603'
	assert_output --partial "purged 1 item"
	# Off a terminal: not a byte of it.
	mkdir -p big3/a && touch big3/a/f
	run -0 saferm --permanent -rf big3
	assert_output ""
}

@test "saferm: a hostile or corrupt .trashinfo is skipped with a warning" {
	touch ok
	saferm ok
	mkdir -p "$TRASH/files" "$TRASH/info"
	touch "$TRASH/files/evil" "$TRASH/files/junk"
	printf '[Trash Info]\nPath=../../../etc/passwd\nDeletionDate=2026-01-01T00:00:00\n' > "$TRASH/info/evil.trashinfo"
	printf 'not an info file\n' > "$TRASH/info/junk.trashinfo"
	run -0 --separate-stderr saferm --list
	assert_output --partial "$PWD/ok"
	refute_output --partial "/etc/passwd"
	[[ $stderr == *warning:*evil.trashinfo* ]]
	[[ $stderr == *warning:*junk.trashinfo* ]]
	run -1 saferm --restore evil
	assert_file_exists "$TRASH/files/evil"
}

@test "saferm: orphans are listed and purged" {
	mkdir -p "$TRASH/files" "$TRASH/info"
	touch "$TRASH/files/lost"
	printf '[Trash Info]\nPath=/nowhere/gone\nDeletionDate=2026-01-01T00:00:00\n' > "$TRASH/info/gone.trashinfo"
	run -0 saferm --list
	assert_output --partial "file without its info"
	assert_output --partial "info without its file"
	run -0 saferm --purge
	assert_not_exist "$TRASH/files/lost"
	assert_not_exist "$TRASH/info/gone.trashinfo"
}

@test "saferm: --purge --older-than keeps what is recent; --dry-run changes nothing" {
	touch recent old
	saferm recent old
	sed -i 's/^DeletionDate=.*/DeletionDate=2020-01-01T00:00:00/' "$TRASH/info/old.trashinfo"
	run -0 saferm --purge --older-than 30d --dry-run
	assert_output --partial "$PWD/old"
	refute_output --partial "$PWD/recent"
	assert_file_exists "$TRASH/files/old"
	run -0 saferm --purge --older-than 30d
	assert_output --regexp '^purged 1 item'
	assert_not_exist "$TRASH/files/old"
	assert_file_exists "$TRASH/files/recent"
	run -2 saferm --purge --older-than 30x
}

@test "saferm: --purge above the blast radius needs a token for that plan" {
	mkdir big
	for i in $(seq 1 30); do touch "big/$i"; done
	saferm -r big
	echo 'saferm: {max-files: 10}' > "$XDG_CONFIG_HOME/cfg.yml"
	run -3 saferm --config "$XDG_CONFIG_HOME/cfg.yml" --purge
	assert_dir_exists "$TRASH/files/big"
	assert_output --partial "to go ahead, run:"
	run -0 saferm --config "$XDG_CONFIG_HOME/cfg.yml" --purge --dry-run
	local line
	line=$(grep -A1 'to go ahead' <<< "$output" | tail -1)
	eval "run -0 $line"
	assert_not_exist "$TRASH/files/big"
}

# --- --permanent, the blast radius and tokens --------------------------------

@test "saferm: --permanent deletes for good, verbose like rm" {
	mkdir -p d/e
	touch d/e/f
	run -0 saferm --permanent -rv d
	assert_line "removed 'd/e/f'"
	assert_line "removed directory 'd/e'"
	assert_line "removed directory 'd'"
	assert_not_exist d
	assert_not_exist "$TRASH/files/d"
}

@test "saferm: --permanent above max-files needs a token; the dry run gives it" {
	mkdir big
	for i in $(seq 1 20); do touch "big/$i"; done
	echo 'saferm: {max-files: 10}' > "$XDG_CONFIG_HOME/cfg.yml"
	run -3 saferm --config "$XDG_CONFIG_HOME/cfg.yml" --permanent -rf big
	assert_output --partial "confirmation required"
	assert_dir_exists big
	run -0 saferm --config "$XDG_CONFIG_HOME/cfg.yml" --permanent -rf --dry-run big
	assert_output --partial "at least 11 files"
	local line
	line=$(grep -A1 'to go ahead' <<< "$output" | tail -1)
	[[ $line == *"--confirm "* ]]
	# The plan changed (one file more): the token is refused, nothing done.
	touch big/new
	eval "run -3 $line"
	assert_output --partial "different plan"
	assert_dir_exists big
	run -0 saferm --config "$XDG_CONFIG_HOME/cfg.yml" --permanent -rf --dry-run big
	line=$(grep -A1 'to go ahead' <<< "$output" | tail -1)
	eval "run -0 $line"
	assert_not_exist big
	# The token is spent: a new tree under the same name is refused.
	mkdir big
	for i in $(seq 1 20); do touch "big/$i"; done
	eval "run -3 $line"
	assert_dir_exists big
}

@test "saferm: counting for the blast radius stops once the operands together pass it" {
	local i d
	for d in a b c; do
		mkdir "$d"
		for i in $(seq 1 6); do touch "$d/$i"; done
	done
	echo 'saferm: {max-files: 10}' > "$XDG_CONFIG_HOME/cfg.yml"
	# 7 + 7 > 10: c is never walked, and the plan says "at least".
	run -0 saferm --config "$XDG_CONFIG_HOME/cfg.yml" --permanent -rf --dry-run a b c
	assert_line --regexp "^delete +'a' \(directory, 7 files, "
	assert_line --regexp "^delete +'b' \(directory, at least 4 files, "
	assert_line --regexp "^delete +'c' \(directory, not counted: past the threshold already\)"
	assert_output --partial "at least 11 files"
	run -0 --separate-stderr saferm --config "$XDG_CONFIG_HOME/cfg.yml" --permanent -rf --dry-run --json a b c
	run -0 jq -c '[.items[] | [.files, .at_least]]' <<< "$output"
	assert_output '[[7,false],[4,true],[null,true]]'
	local line
	line=$(saferm --config "$XDG_CONFIG_HOME/cfg.yml" --permanent -rf --dry-run a b c | grep -A1 'to go ahead' | tail -1)
	eval "run -0 $line"
	for d in a b c; do assert_not_exist "$d"; done
	# The same for --purge: once past it, the other items show "?".
	for d in a b c; do
		mkdir "$d"
		for i in $(seq 1 6); do touch "$d/$i"; done
		saferm -r "$d"
	done
	run -0 saferm --config "$XDG_CONFIG_HOME/cfg.yml" --purge --dry-run
	assert_line --regexp "^purge .* +\? +'$PWD/c'\$"
	assert_output --partial "would purge 3 items: at least 11 files"
}

@test "saferm: --permanent below the threshold needs no token; trashing never does" {
	mkdir small
	touch small/a small/b
	run -0 saferm --permanent -r small
	assert_not_exist small
	mkdir big
	for i in $(seq 1 20); do touch "big/$i"; done
	echo 'saferm: {max-files: 10}' > "$XDG_CONFIG_HOME/cfg.yml"
	run -0 saferm --config "$XDG_CONFIG_HOME/cfg.yml" -r big
	assert_not_exist big
}

@test "saferm: on a terminal the blast radius is confirmed by typing the code" {
	mkdir big
	for i in $(seq 1 20); do touch "big/$i"; done
	echo 'saferm: {max-files: 10}' > "$XDG_CONFIG_HOME/cfg.yml"
	run -0 "$REPO_ROOT/tests/helpers/ttydrive.py" \
		--answer 'type ([0-9A-Z]{3})-([0-9A-Z]{3})' '\1\2' \
		-- saferm --config "$XDG_CONFIG_HOME/cfg.yml" --permanent -r big
	assert_output --partial "would permanently delete"
	assert_not_exist big
}

@test "saferm: --dry-run prints what each operand is and changes nothing" {
	mkdir d
	touch d/a d/b f
	run -1 saferm -rn d f missing
	assert_line --regexp "^trash +'d' \(directory, 3 files, .*\) -> $TRASH\$"
	assert_line --regexp "^trash +'f' \(regular empty file, 1 file, "
	assert_line --regexp "^error +'missing': No such file or directory"
	assert_dir_exists d
	assert_file_exists f
	run -0 --separate-stderr saferm -r --dry-run --json d
	assert_equal "$(jq -r '.items[0].action' <<< "$output")" trash
	assert_equal "$(jq -r '.items[0].files' <<< "$output")" 3
}

@test "saferm: the configuration is checked: a typo is an error naming it" {
	echo 'saferm: {max-files: many}' > "$XDG_CONFIG_HOME/bad.yml"
	touch f
	run -4 saferm --config "$XDG_CONFIG_HOME/bad.yml" f
	assert_output --partial "saferm.max-files"
	assert_file_exists f
}

@test "saferm: paths under saferm.protect are refused, by inode not spelling" {
	mkdir -p precious/inner other
	touch other/x
	mkdir -p "$XDG_CONFIG_HOME/safedeploy"
	printf 'saferm:\n  protect:\n    - %s/precious\n' "$PWD" > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -1 saferm -rf ./precious/../precious other/x
	assert_output --regexp "refusing to remove '\./precious/\.\./precious': protected \(listed in saferm\.protect at .*config\.yml:[0-9]+:[0-9]+\)"
	assert_dir_exists precious
	assert_not_exist other/x
	ln -s precious alias
	run -1 saferm -rf alias/
	assert_dir_exists precious
	# An ancestor of a protected path is protected too.
	run -1 saferm -rf "$PWD"
	assert_output --partial "contains '$PWD/precious'"
}

@test "saferm: the trash itself is protected and cannot be trashed into" {
	touch f
	saferm f
	run -1 saferm -rf "$TRASH"
	assert_output --partial "protected (trash directory)"
	run -1 saferm "$TRASH/files/f"
	assert_output --partial "already in the trash"
	run -1 saferm -rf "$XDG_DATA_HOME"
	assert_output --partial "contains trash directory"
}

# --- in the jail: the real '/', its children, $HOME, mounts -------------------

@test "saferm (jail): 'rm -rf /' is refused with GNU's message; / stays" {
	run -1 jail saferm -rf /
	assert_output "saferm: it is dangerous to operate recursively on '/'
saferm: use --no-preserve-root to override this failsafe"
	run -1 jail saferm -rf //
	run -1 jail saferm -rf --no-preserve-root /
	assert_output --partial "protected (the root directory)"
	assert_dir_exists /usr/bin
}

@test "saferm (jail): a direct child of / is refused, naming the rule" {
	run -1 jail saferm -rf /usr
	assert_output --partial "saferm: refusing to remove '/usr': protected (direct child of /)"
	assert_dir_exists /usr/bin
}

@test "saferm (jail): the stray-space accident refuses /usr and goes on" {
	run -1 jail bash -c 'mkdir -p "$JAIL/lib/nvidia/xorg" && saferm -rf /usr "$JAIL/lib/nvidia/xorg/xorg" && true; echo "status $?"; ls "$JAIL/lib/nvidia/xorg"; exit 1'
	assert_output --partial "refusing to remove '/usr': protected (direct child of /)"
	assert_output --partial "status 1"
}

@test "saferm (jail): the expansion of /* is refused whole: not even harmless operands move" {
	run -0 jail bash -c 'touch "$JAIL/work/harmless"; saferm -rf /* "$JAIL/work/harmless"; echo "status $?"; ls "$JAIL/work"'
	assert_output --partial "direct children of '/'"
	assert_output --partial "nothing was removed"
	assert_output --partial "status 1"
	assert_line harmless
	assert_dir_exists /etc
}

@test "saferm (jail): the Steam accident, \"\$STEAMROOT/\"* with an empty variable" {
	run -0 jail bash -c 'STEAMROOT=""; saferm -rf "$STEAMROOT/"*; echo "status $?"'
	assert_output --partial "direct children of '/'"
	assert_output --partial "status 1"
}

@test "saferm (jail): \$HOME, its ancestors and a symlink to / are refused" {
	run -1 jail saferm -rf "$BATS_TEST_TMPDIR/jail/home"
	assert_output --partial "protected (your home directory)"
	run -1 jail bash -c 'mkdir -p "$JAIL/a/b" && HOME="$JAIL/a/b" saferm -rf "$JAIL/a"'
	assert_output --partial "contains '$BATS_TEST_TMPDIR/jail/a/b', your home directory"
	run -1 jail bash -c 'ln -s / "$JAIL/rootlink" && saferm -rf "$JAIL/rootlink/"'
	assert_output --partial "(same as '/')"
}

@test "saferm (jail): mount points and their ancestors are refused" {
	run -1 jail saferm -rf "$BATS_TEST_TMPDIR/jail/vol"
	assert_output --partial "protected (mount point)"
	run -1 jail bash -c 'mkdir -p "$JAIL/d/m" && mount -t tmpfs t "$JAIL/d/m" && touch "$JAIL/d/m/data" && saferm -rf "$JAIL/d"; s=$?; ls "$JAIL/d/m"; exit $s'
	assert_output --partial "contains mount point"
	assert_line data
}

@test "saferm (jail): another filesystem gets its own .Trash-\$uid; trash-list sees it" {
	run -0 jail bash -c 'echo x > "$JAIL/vol/f" && saferm "$JAIL/vol/f" && ls -la "$JAIL/vol" && cat "$JAIL/vol/.Trash-0/info/f.trashinfo" && trash-list'
	assert_line --regexp '^drwx------ .* \.Trash-0$'
	assert_line "Path=f"
	assert_output --regexp "$BATS_TEST_TMPDIR/jail/vol/f\$"
}

@test "saferm (jail): another filesystem's trash is protected, and what is in it stays" {
	run -1 jail bash -c '
		echo x > "$JAIL/vol/f" && saferm "$JAIL/vol/f" &&
		saferm -rf "$JAIL/vol/.Trash-0/files"
		saferm -rf "$JAIL/vol/.Trash-0"
		saferm "$JAIL/vol/.Trash-0/files/f"
		cd "$JAIL/vol/.Trash-0" && saferm -r info; s=$?
		ls "$JAIL/vol/.Trash-0/files"; exit $s'
	assert_line "saferm: refusing to remove '$BATS_TEST_TMPDIR/jail/vol/.Trash-0/files': protected (trash directory)"
	assert_line "saferm: refusing to remove '$BATS_TEST_TMPDIR/jail/vol/.Trash-0': protected (trash directory)"
	assert_line "saferm: cannot trash '$BATS_TEST_TMPDIR/jail/vol/.Trash-0/files/f': it is already in the trash (use --purge, or --permanent)"
	assert_line "saferm: refusing to remove 'info': protected (trash directory)"
	assert_line --index "$((${#lines[@]} - 1))" f
}

@test "saferm (jail): .Trash with the sticky bit is used; without it, or as a symlink, it is not" {
	run -0 jail bash -c '
		mkdir -m 1777 "$JAIL/vol/.Trash" && echo x > "$JAIL/vol/a" && saferm "$JAIL/vol/a" &&
		ls "$JAIL/vol/.Trash/0/files" &&
		chmod 0777 "$JAIL/vol/.Trash" && echo y > "$JAIL/vol/b" && saferm "$JAIL/vol/b" &&
		ls "$JAIL/vol/.Trash-0/files"'
	assert_line --index 0 a
	assert_line --index 1 b
	run -0 jail bash -c '
		mkdir -m 1777 "$JAIL/elsewhere" && ln -s "$JAIL/elsewhere" "$JAIL/vol/.Trash" &&
		echo z > "$JAIL/vol/c" && saferm "$JAIL/vol/c" && ls "$JAIL/vol/.Trash-0/files" && ls -A "$JAIL/elsewhere" | wc -l'
	assert_line --index 0 c
	assert_line --index 1 0
}

@test "saferm (jail): no usable trash: the operand is refused and stays" {
	run -1 jail bash -c 'mkdir "$JAIL/ro" && mount -t tmpfs t "$JAIL/ro" && echo x > "$JAIL/ro/f" && mount -o remount,ro "$JAIL/ro" && saferm "$JAIL/ro/f"; s=$?; cat "$JAIL/ro/f"; exit $s'
	assert_output --partial "cannot trash"
	assert_output --partial "Read-only file system"
	assert_line x
}

@test "saferm (jail): a full filesystem while writing the info file moves nothing" {
	run -1 jail bash -c '
		mkdir "$JAIL/full" && mount -t tmpfs -o size=64k t "$JAIL/full" &&
		mkdir -p "$JAIL/full/.Trash-0/files" "$JAIL/full/.Trash-0/info" && chmod 700 "$JAIL/full/.Trash-0" &&
		echo keep > "$JAIL/full/f" &&
		(dd if=/dev/zero of="$JAIL/full/filler" bs=4k 2> /dev/null || true) &&
		saferm "$JAIL/full/f"; s=$?; cat "$JAIL/full/f"; ls -A "$JAIL/full/.Trash-0/info" | wc -l; exit $s'
	assert_line keep
	assert_line 0
}

@test "saferm: kill -9 at many moments: every file is in place or in the trash with its info" {
	mkdir many
	local i n=2000
	for ((i = 0; i < n; i++)); do : > "many/f$i"; done
	local ops=()
	for ((i = 0; i < n; i++)); do ops+=("many/f$i"); done
	local delay
	for delay in 0.001 0.003 0.005 0.01 0.02 0.03 0.05 0.08 0.12 0.2; do
		saferm "${ops[@]}" 2> /dev/null &
		local pid=$!
		sleep "$delay"
		kill -9 "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null || true
		# Put back what went, by hand, checking each info file as we go.
		local f name
		for f in "$TRASH"/files/*; do
			[ -e "$f" ] || continue
			name=${f##*/}
			assert_file_exists "$TRASH/info/$name.trashinfo"
			local path
			path=$(sed -n 's/^Path=//p' "$TRASH/info/$name.trashinfo")
			[ ! -e "$path" ] || fail "$path is both in place and in the trash"
			mv "$f" "$path"
			rm "$TRASH/info/$name.trashinfo"
		done
		# An info file whose move never happened is an orphan at most.
		local orphans
		orphans=$(find "$TRASH/info" -name '*.trashinfo' 2> /dev/null | wc -l)
		[ "$orphans" -le 1 ] || fail "$orphans orphan info files"
		rm -f "$TRASH"/info/*.trashinfo
		assert_equal "$(find many -type f | wc -l)" "$n"
	done
}

# --- documentation ----------------------------------------------------------

@test "saferm: every option in --help is in the man page, and back" {
	check_man_options "$REPO_ROOT/cmd/saferm/saferm.1" "$(saferm --help)"
}

@test "saferm: the man page's examples work as shown" {
	run_man_examples "$REPO_ROOT/cmd/saferm/saferm.1" 1
	run_man_examples_in_jail "$REPO_ROOT/cmd/saferm/saferm.1" 2
}
