#!/usr/bin/env bash
# transcript.sh FILE: run a man page example transcript. "$ cmd" lines run in
# this one shell, in order; the lines after each are its expected output
# (stdout and stderr together). Prints the first difference and exits 1.
# What differs at every run is compared as a placeholder on both sides: a
# confirmation token (48 characters of base32) and a plan digest
# ("sha256:" and 12 hex digits).
set -u
cmd="" expected="" last=0 failed=0
set_status() { return "$1"; }
normalise() {
	sed -e 's/[0-9A-HJKMNP-TV-Z]\{48\}/TOKEN/g' -e 's/sha256:[0-9a-f]\{12\}/sha256:DIGEST/g'
}
check_step() {
	local got want
	[ -n "$cmd" ] || return 0
	# $? in an example is the status of the one before.
	got=$(set_status "$last"; eval "$cmd" 2>&1) && last=0 || last=$?
	got=$(normalise <<< "$got")
	want=$(normalise <<< "${expected%$'\n'}")
	if [ "$got" != "$want" ]; then
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
