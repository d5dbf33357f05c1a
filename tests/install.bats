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
	run -0 "$root/usr/bin/safedeploy" --version
	assert_output --regexp '^safedeploy [0-9]'
	# The installed man page renders.
	run -0 mandoc -Thtml "$root/usr/share/man/man1/safedeploy.1"
	assert_output --partial 'id="EXIT_STATUS"'
	run -0 make -C "$REPO_ROOT" --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr
	assert_not_exists "$root/usr/bin/safedeploy"
	assert_not_exists "$root/usr/share/man/man1/safedeploy.1"
	assert_not_exists "$root/usr/share/bash-completion/completions/safedeploy"
	assert_not_exists "$root/usr/share/safedeploy"
}
