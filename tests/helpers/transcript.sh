#!/usr/bin/env bash
# transcript.sh FILE: run a man page example transcript. "$ cmd" lines run in
# this one shell, in order; the lines after each are its expected output
# (stdout and stderr together). Prints the first difference and exits 1.
set -u
cmd="" expected="" last=0 failed=0
set_status() { return "$1"; }
check_step() {
	local got
	[ -n "$cmd" ] || return 0
	# $? in an example is the status of the one before.
	got=$(set_status "$last"; eval "$cmd" 2>&1) && last=0 || last=$?
	if [ "$got" != "${expected%$'\n'}" ]; then
		printf 'man example: $ %s\nexpected: %s\ngot:      %s\n' \
			"$cmd" "${expected%$'\n'}" "$got"
		failed=1
	fi
}
while IFS= read -r line; do
	if [[ $line == '$ '* ]]; then
		check_step
		cmd=${line#\$ }
		expected=""
	else
		expected+="$line"$'\n'
	fi
done < "$1"
check_step
exit "$failed"
