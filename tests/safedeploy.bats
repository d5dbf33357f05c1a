#!/usr/bin/env bats
# safedeploy: the dispatcher, help, version and usage errors.

load helpers/common
load helpers/man

@test "safedeploy: --help lists every command and exits 0" {
	run -0 safedeploy --help
	assert_output --partial "Usage: safedeploy [OPTIONS] COMMAND"
	assert_output --partial "token "
	assert_output --partial "config "
	assert_output --partial "Exit status:"
}

@test "safedeploy: --version prints the version from VERSION or git describe" {
	run -0 safedeploy --version
	assert_output --regexp '^safedeploy [0-9]+\.[0-9]+\.[0-9]+'
}

@test "safedeploy: every command answers --help, help CMD and CMD -h alike" {
	for cmd in token verify config flags hook; do
		run -0 safedeploy "$cmd" --help
		assert_output --partial "Usage: safedeploy $cmd"
		local via_flag=$output
		run -0 safedeploy help "$cmd"
		assert_equal "$output" "$via_flag"
		run -0 safedeploy "$cmd" -h
		assert_equal "$output" "$via_flag"
	done
	for sub in issue check redeem confirm; do
		run -0 safedeploy token "$sub" --help
		assert_output --partial "Usage: safedeploy token $sub"
		run -0 safedeploy help token "$sub"
		assert_output --partial "Usage: safedeploy token $sub"
	done
	run -0 safedeploy flags timeline --help
	assert_output --partial "Usage: safedeploy flags timeline"
	local via_flag=$output
	run -0 safedeploy help flags timeline
	assert_equal "$output" "$via_flag"
	run -0 safedeploy flags timeline -h
	assert_equal "$output" "$via_flag"
}

@test "safedeploy: an unknown command is a usage error with a try line" {
	run -2 --separate-stderr safedeploy frobnicate
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "safedeploy: unknown command 'frobnicate'"
	assert_equal "${stderr_lines[1]}" "Try 'safedeploy --help' for more information."
	run -2 --separate-stderr safedeploy help frobnicate
	assert_equal "${stderr_lines[0]}" "safedeploy: unknown command 'frobnicate'"
}

@test "safedeploy: unknown options and missing values are usage errors" {
	run -2 --separate-stderr safedeploy --frobnicate
	assert_equal "${stderr_lines[0]}" "safedeploy: unknown option '--frobnicate'"
	assert_equal "${stderr_lines[1]}" "Try 'safedeploy --help' for more information."
	run -2 --separate-stderr safedeploy token issue --plan
	assert_equal "${stderr_lines[0]}" "safedeploy: option '--plan' needs a value"
	assert_equal "${stderr_lines[1]}" "Try 'safedeploy token issue --help' for more information."
	run -2 --separate-stderr safedeploy token check -x
	assert_equal "${stderr_lines[0]}" "safedeploy: unknown option '-x'"
	run -2 --separate-stderr safedeploy token issue --json=yes --plan p
	assert_equal "${stderr_lines[0]}" "safedeploy: option '--json=yes' takes no value"
	run -2 --separate-stderr safedeploy --color=rainbow token --help
	assert_equal "${stderr_lines[0]}" "safedeploy: invalid --color value 'rainbow' (use auto, always or never)"
}

@test "safedeploy: no command is a usage error" {
	run -2 --separate-stderr safedeploy
	assert_equal "${stderr_lines[0]}" "safedeploy: missing command"
	run -2 --separate-stderr safedeploy token
	assert_equal "${stderr_lines[0]}" "safedeploy: missing command (issue, check, redeem or confirm)"
	assert_equal "${stderr_lines[1]}" "Try 'safedeploy token --help' for more information."
}

@test "safedeploy: every option in the help is in the man page, and back" {
	local help
	help=$( { safedeploy --help; for c in config verify; do safedeploy "$c" --help; done;
		for s in issue check redeem confirm; do safedeploy token "$s" --help; done;
		safedeploy probe run --help; safedeploy probe independence --help;
		safedeploy probe merge --help; safedeploy flags --help;
		safedeploy flags timeline --help; safedeploy hook --help; } )
	check_man_options "$REPO_ROOT/cmd/safedeploy/safedeploy.1" "$help"
}

@test "safedeploy: the man page's pipeline examples work as shown" {
	run_man_examples "$REPO_ROOT/cmd/safedeploy/safedeploy.1" 1 2 3
}
