#!/usr/bin/env bats
# make install / uninstall with DESTDIR and PREFIX, as a packager runs them.

load helpers/common

@test "install: binaries, man pages and completions land under DESTDIR/PREFIX" {
	local root=$BATS_TEST_TMPDIR/root
	run -0 make -C "$REPO_ROOT" --no-print-directory install DESTDIR="$root" PREFIX=/usr
	assert_file_executable "$root/usr/bin/safedeploy"
	assert_file_exists "$root/usr/share/man/man1/safedeploy.1"
	assert_file_exists "$root/usr/share/bash-completion/completions/safedeploy"
	assert_file_exists "$root/usr/share/zsh/site-functions/_safedeploy"
	assert_file_exists "$root/usr/share/fish/vendor_completions.d/safedeploy.fish"
	assert_dir_exists "$root/usr/share/safedeploy/hooks"
	assert_file_executable "$root/usr/share/safedeploy/hooks/pre-commit"
	assert_file_executable "$root/usr/share/safedeploy/hooks/pre-push"
	run -0 "$root/usr/bin/safedeploy" --version
	assert_output --regexp '^safedeploy [0-9]'
	local c
	for c in saferm saferun; do
		assert_file_executable "$root/usr/bin/$c"
		assert_file_exists "$root/usr/share/man/man1/$c.1"
		assert_file_exists "$root/usr/share/bash-completion/completions/$c"
		assert_file_exists "$root/usr/share/zsh/site-functions/_$c"
		assert_file_exists "$root/usr/share/fish/vendor_completions.d/$c.fish"
	done
	run -0 "$root/usr/bin/saferun" --version
	assert_output --regexp '^saferun \(safedeploy\) [0-9]'
	# The installed man page renders.
	run -0 mandoc -Thtml "$root/usr/share/man/man1/safedeploy.1"
	assert_output --partial 'id="EXIT_STATUS"'
	run -0 make -C "$REPO_ROOT" --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr
	assert_not_exists "$root/usr/bin/safedeploy"
	assert_not_exists "$root/usr/bin/saferun"
	assert_not_exists "$root/usr/share/man/man1/saferun.1"
	assert_not_exists "$root/usr/share/man/man1/safedeploy.1"
	assert_not_exists "$root/usr/share/bash-completion/completions/safedeploy"
	assert_not_exists "$root/usr/share/safedeploy"
}

@test "install: the installed hooks are the ones 'safedeploy hook install' writes, and they block" {
	local root=$BATS_TEST_TMPDIR/root repo=$BATS_TEST_TMPDIR/repo
	run -0 make -C "$REPO_ROOT" --no-print-directory install DESTDIR="$root" PREFIX=/usr
	git init -q "$repo"
	git -C "$repo" config user.email dev@example.com
	git -C "$repo" config user.name Dev
	run -0 "$root/usr/bin/safedeploy" hook install -C "$repo"
	run -0 cmp "$root/usr/share/safedeploy/hooks/pre-commit" "$repo/.git/hooks/pre-commit"
	run -0 cmp "$root/usr/share/safedeploy/hooks/pre-push" "$repo/.git/hooks/pre-push"
	printf 'flags:\n  preset: list\n  reference:\n    - paths: ["*.sh"]\n      pattern: flag_on (\\w+)\n' > "$repo/.safedeploy.yml"
	printf 'new_ui\n' > "$repo/flags.txt"
	printf 'flag_on new_ui\n' > "$repo/run.sh"
	git -C "$repo" add -A
	SAFEDEPLOY="$root/usr/bin/safedeploy" run -0 git -C "$repo" commit -q -m first
	printf 'flag_on old_ui\n' >> "$repo/run.sh"
	git -C "$repo" add -A
	SAFEDEPLOY="$root/usr/bin/safedeploy" run -1 git -C "$repo" commit -q -m second
	assert_output --partial "run.sh:2:9: error: flag 'old_ui' is not defined"
	run -0 make -C "$REPO_ROOT" --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr
	assert_not_exists "$root/usr/share/safedeploy"
}
