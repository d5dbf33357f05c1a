#!/usr/bin/env bats
# safedeploy token: issue, check, redeem, confirm; every refusal says which.

load helpers/common

setup() {
	common_setup
	plan plan.json '{"tool":"rm","argv":["rm","-rf","build"],"targets":[{"path":"build","entries":12}]}'
}

json_field() { # json_field FIELD < doc
	python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1"
}

@test "token: issue prints a 48-character token that check accepts" {
	run -0 --separate-stderr safedeploy token issue --plan plan.json
	assert_output --regexp '^[0-9A-HJKMNP-TV-Z]{48}$'
	assert_equal "$stderr" ""
	local tok=$output
	run -0 safedeploy token check --plan plan.json "$tok"
	assert_output --regexp '^token is valid for (4m5[0-9]s|5m) more$'
}

@test "token: the key is created 0600 in the state directory on first use" {
	run -0 safedeploy token issue --plan plan.json
	assert_file_exists "$XDG_STATE_HOME/safedeploy/token.key"
	assert_equal "$(stat -c %a "$XDG_STATE_HOME/safedeploy/token.key")" 600
	assert_equal "$(stat -c %a "$XDG_STATE_HOME/safedeploy")" 700
}

@test "token: key order and whitespace in the plan do not matter" {
	local tok
	tok=$(safedeploy token issue --plan plan.json)
	printf '{\n  "targets": [ {"entries": 12, "path": "build"} ],\n  "argv": ["rm", "-rf", "build"],\n  "tool": "rm"\n}\n' > same.json
	run -0 safedeploy token check --plan same.json "$tok"
}

@test "token: a token for another plan is refused as such" {
	local tok
	tok=$(safedeploy token issue --plan plan.json)
	plan other.json '{"tool":"rm","argv":["rm","-rf","/"]}'
	run -3 --separate-stderr safedeploy token check --plan other.json "$tok"
	assert_equal "$stderr" "safedeploy: token is for a different plan"
	assert_equal "$output" ""
}

@test "token: an expired token is refused with how long ago" {
	local tok
	tok=$(safedeploy token issue --plan plan.json --ttl 1s)
	sleep 2.2
	run -3 --separate-stderr safedeploy token check --plan plan.json "$tok"
	assert_regex "$stderr" "^safedeploy: token expired ([0-9]+s|just now|[0-9]+ms) ago$|^safedeploy: token expired just now$"
}

@test "token: redeem is single use; the second use says when the first was" {
	local tok
	tok=$(safedeploy token issue --plan plan.json)
	run -0 safedeploy token redeem --plan plan.json "$tok"
	assert_output "token redeemed: it cannot be used again"
	run -3 --separate-stderr safedeploy token check --plan plan.json "$tok"
	assert_regex "$stderr" "^safedeploy: token was already used at 20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8} [-+][0-9]{4}$"
	run -3 --separate-stderr safedeploy token redeem --plan plan.json "$tok"
	assert_regex "$stderr" "already used at"
}

@test "token: malformed tokens name what is wrong" {
	run -3 --separate-stderr safedeploy token check --plan plan.json 'ABCD'
	assert_equal "$stderr" "safedeploy: token is malformed: it has 4 characters, a token has 48"
	run -3 --separate-stderr safedeploy token check --plan plan.json '0123456789ABCDEFGHJKMNPQRSTVWXYZ012345678901234U'
	assert_equal "$stderr" "safedeploy: token is malformed: 'U' (character 48) cannot appear in a token"
	run -3 --separate-stderr safedeploy token check --plan plan.json 'AB$D'
	assert_equal "$stderr" "safedeploy: token is malformed: '\$' (character 3) cannot appear in a token"
	run -3 --separate-stderr safedeploy token check --plan plan.json ''
	assert_equal "$stderr" "safedeploy: token is malformed: it has 0 characters, a token has 48"
	# Checking a malformed token creates no key and no ledger.
	assert_not_exists "$XDG_STATE_HOME/safedeploy"
}

@test "token: typed back in lower case, with hyphens, or O for 0, it still works" {
	local tok
	tok=$(safedeploy token issue --plan plan.json)
	local typed
	typed=$(tr 'A-Z0' 'a-zO' <<< "$tok" | sed 's/\(.\{8\}\)/\1-/g; s/-$//')
	run -0 safedeploy token check --plan plan.json "$typed"
}

@test "token: a token altered in one character is refused" {
	local tok bad
	tok=$(safedeploy token issue --plan plan.json)
	# Change the last character to another valid one.
	if [ "${tok: -1}" = A ]; then bad="${tok%?}B"; else bad="${tok%?}A"; fi
	run -3 --separate-stderr safedeploy token check --plan plan.json "$bad"
	assert_equal "$stderr" "safedeploy: token does not match its signature: it was altered or mistyped"
}

@test "token: a token signed with another key is refused as such" {
	local tok
	tok=$(safedeploy token issue --plan plan.json)
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > other.key
	chmod 600 other.key
	SAFEDEPLOY_TOKEN_KEY_FILE=$PWD/other.key run -3 --separate-stderr \
		safedeploy token check --plan plan.json "$tok"
	assert_equal "$stderr" "safedeploy: token was signed with another key (not the one at '$PWD/other.key')"
	# A machine that has no key at all says so, and creates none.
	SAFEDEPLOY_TOKEN_KEY_FILE=$PWD/absent.key run -3 --separate-stderr \
		safedeploy token check --plan plan.json "$tok"
	assert_regex "$stderr" "signed with another key: there is no key at '$PWD/absent.key'"
	assert_not_exists absent.key
}

@test "token: the documented format is the one accepted (independent encoder)" {
	safedeploy token issue --plan plan.json > /dev/null # creates the key
	local key="$XDG_STATE_HOME/safedeploy/token.key" tok
	tok=$("$REPO_ROOT/tests/helpers/mktoken.py" "$key" plan.json "$(date +%s)" 300)
	run -0 safedeploy token check --plan plan.json "$tok"
}

@test "token: a token from the future (more than a minute of skew) is refused" {
	safedeploy token issue --plan plan.json > /dev/null
	local key="$XDG_STATE_HOME/safedeploy/token.key" tok
	tok=$("$REPO_ROOT/tests/helpers/mktoken.py" "$key" plan.json "$(($(date +%s) + 600))" 300)
	run -3 --separate-stderr safedeploy token check --plan plan.json "$tok"
	assert_regex "$stderr" "^safedeploy: token is from the future: issued (9m5[0-9]s|10m) from now \(check the clocks\)$"
	# Thirty seconds ahead is within the allowed skew.
	tok=$("$REPO_ROOT/tests/helpers/mktoken.py" "$key" plan.json "$(($(date +%s) + 30))" 300)
	run -0 safedeploy token check --plan plan.json "$tok"
}

@test "token: --plan - reads the plan from standard input" {
	local tok
	tok=$(safedeploy token issue --plan - < plan.json)
	run -0 safedeploy token redeem --plan - "$tok" < plan.json
}

@test "token: --json on issue, check and redeem is one document with a version" {
	run -0 --separate-stderr safedeploy token issue --plan plan.json --ttl 10m --json
	local doc=$output tok
	assert_equal "$(json_field version <<< "$doc")" 1
	tok=$(json_field token <<< "$doc")
	assert_regex "$tok" '^[0-9A-Z]{48}$'
	assert_equal "$(json_field plan_digest <<< "$doc")" "sha256:$(python3 -c 'import json,hashlib,sys; print(hashlib.sha256(json.dumps(json.load(open("plan.json")),sort_keys=True,separators=(",",":")).encode()).hexdigest())')"
	# The lifetime is the one asked for.
	python3 -c 'import json,sys,datetime as d; j=json.load(sys.stdin); f=lambda s: d.datetime.strptime(s,"%Y-%m-%dT%H:%M:%SZ"); assert (f(j["expires_at"])-f(j["issued_at"])).seconds == 600' <<< "$doc"
	run -0 --separate-stderr safedeploy token check --plan plan.json --json "$tok"
	assert_equal "$(json_field valid <<< "$output")" true
	assert_equal "$(json_field verdict <<< "$output")" valid
	run -0 --separate-stderr safedeploy token redeem --plan plan.json --json "$tok"
	assert_equal "$(json_field redeemed <<< "$output")" true
	run -3 --separate-stderr safedeploy token check --plan plan.json --json "$tok"
	assert_equal "$(json_field verdict <<< "$output")" used
	assert_regex "$stderr" "already used"
	run -3 --separate-stderr safedeploy token check --plan plan.json --json NOPE
	assert_equal "$(json_field verdict <<< "$output")" malformed
}

@test "token: a plan that is not JSON is named with line and column, exit 4" {
	printf '{"tool": "rm",\n "argv": [1, 2,]\n}\n' > bad.json
	run -4 --separate-stderr safedeploy token issue --plan bad.json
	assert_regex "$stderr" "^safedeploy: plan 'bad.json' is not valid JSON: line 2, column [0-9]+: "
	assert_equal "$output" ""
}

@test "token: an empty plan, a list and a missing file are refused, exit 4" {
	: > empty.json
	run -4 --separate-stderr safedeploy token issue --plan empty.json
	assert_equal "$stderr" "safedeploy: plan 'empty.json': empty: it says nothing to confirm"
	echo '{}' > empty.json
	run -4 --separate-stderr safedeploy token issue --plan empty.json
	assert_equal "$stderr" "safedeploy: plan 'empty.json': empty: it says nothing to confirm"
	echo '[1,2]' > list.json
	run -4 --separate-stderr safedeploy token issue --plan list.json
	assert_equal "$stderr" "safedeploy: plan 'list.json': not a JSON object"
	run -4 --separate-stderr safedeploy token issue --plan nowhere.json
	assert_equal "$stderr" "safedeploy: cannot open 'nowhere.json': No such file or directory"
}

@test "token: usage errors: no --plan, no token, extra operands, bad --ttl" {
	run -2 --separate-stderr safedeploy token issue
	assert_equal "${stderr_lines[0]}" "safedeploy: missing --plan FILE"
	run -2 --separate-stderr safedeploy token check --plan plan.json
	assert_equal "${stderr_lines[0]}" "safedeploy: missing TOKEN"
	run -2 --separate-stderr safedeploy token check --plan plan.json A B
	assert_equal "${stderr_lines[0]}" "safedeploy: unexpected argument 'B'"
	run -2 --separate-stderr safedeploy token issue --plan plan.json --ttl 5x
	assert_equal "${stderr_lines[0]}" "safedeploy: --ttl: invalid duration '5x': unknown unit 'x' (use ms, s, m, h, d or w)"
	run -2 --separate-stderr safedeploy token issue --plan plan.json --ttl 300
	assert_regex "${stderr_lines[0]}" "missing unit"
	run -2 --separate-stderr safedeploy token issue --plan plan.json --ttl 500ms
	assert_equal "${stderr_lines[0]}" "safedeploy: --ttl: a token lifetime must be between 1s and 194d"
	run -2 --separate-stderr safedeploy token issue --plan plan.json --ttl 200d
	run -2 --separate-stderr safedeploy token frob
	assert_regex "${stderr_lines[0]}" "unknown token command 'frob'"
}

@test "token: a key readable by others is refused like ssh does, exit 4" {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > shared.key
	chmod 644 shared.key
	SAFEDEPLOY_TOKEN_KEY_FILE=$PWD/shared.key run -4 --separate-stderr \
		safedeploy token issue --plan plan.json
	assert_equal "$stderr" "safedeploy: key file '$PWD/shared.key' is accessible by others (mode 0644); restrict it with: chmod 600 '$PWD/shared.key'"
	assert_equal "$output" ""
	echo short > short.key
	chmod 600 short.key
	SAFEDEPLOY_TOKEN_KEY_FILE=$PWD/short.key run -4 --separate-stderr \
		safedeploy token issue --plan plan.json
	assert_regex "$stderr" "is too short \(5 bytes; at least 32"
}

@test "token: an unwritable state directory is a clear error, exit 4" {
	mkdir -p "$XDG_STATE_HOME"
	# A private mount namespace with a read-only tmpfs as the state home.
	unshare -m -r true 2> /dev/null || skip "no user and mount namespaces here"
	run -4 --separate-stderr unshare -m -r sh -c \
		'mount -t tmpfs -o ro tmpfs "$XDG_STATE_HOME" && exec safedeploy token issue --plan plan.json'
	assert_equal "$stderr" "safedeploy: cannot create directory '$XDG_STATE_HOME/safedeploy': Read-only file system"
	# With a key elsewhere, issuing works; redeeming needs the ledger.
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > ci.key
	chmod 600 ci.key
	export SAFEDEPLOY_TOKEN_KEY_FILE=$PWD/ci.key
	local tok
	tok=$(safedeploy token issue --plan plan.json)
	run -4 --separate-stderr unshare -m -r sh -c \
		'mount -t tmpfs -o ro tmpfs "$XDG_STATE_HOME" && exec safedeploy token redeem --plan plan.json "$1"' sh "$tok"
	assert_equal "$stderr" "safedeploy: cannot record the token: cannot create directory '$XDG_STATE_HOME/safedeploy': Read-only file system"
	# Nothing was recorded: the token is still good.
	run -0 safedeploy token redeem --plan plan.json "$tok"
}

@test "token: a corrupt ledger accepts no token and is left as it was" {
	local tok1 tok2
	tok1=$(safedeploy token issue --plan plan.json)
	safedeploy token redeem --plan plan.json "$tok1"
	tok2=$(safedeploy token issue --plan plan.json --ttl 6m)
	local ledger="$XDG_STATE_HOME/safedeploy/tokens.ledger"
	printf 'garbage\n' >> "$ledger"
	cp "$ledger" before
	run -4 --separate-stderr safedeploy token redeem --plan plan.json "$tok2"
	assert_equal "$stderr" "safedeploy: token ledger '$ledger' is corrupt at line 3; no token can be redeemed until it is repaired or moved aside (tokens redeemed before could then be used again until they expire)"
	run -4 safedeploy token redeem --plan plan.json "$tok1"
	run -4 safedeploy token check --plan plan.json "$tok1"
	cmp "$ledger" before
}

@test "token: eight concurrent redeems of one token: exactly one succeeds" {
	local tok i ok=0 used=0
	tok=$(safedeploy token issue --plan plan.json)
	for i in 1 2 3 4 5 6 7 8; do
		(
			rc=0
			safedeploy token redeem --plan plan.json "$tok" > "out.$i" 2>&1 || rc=$?
			echo "$rc" > "rc.$i"
		) &
	done
	wait
	for i in 1 2 3 4 5 6 7 8; do
		case $(cat "rc.$i") in
		0) ok=$((ok + 1)) ;;
		3) grep -q "already used" "out.$i" && used=$((used + 1)) ;;
		esac
	done
	assert_equal "$ok" 1
	assert_equal "$used" 7
}

@test "token: pipeline stages on two machines share the key file" {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > ci.key
	chmod 600 ci.key
	export SAFEDEPLOY_TOKEN_KEY_FILE=$PWD/ci.key
	local tok
	tok=$(HOME=$PWD/plan-runner XDG_STATE_HOME=$PWD/plan-runner/state safedeploy token issue --plan plan.json)
	HOME=$PWD/apply-runner XDG_STATE_HOME=$PWD/apply-runner/state run -0 \
		safedeploy token redeem --plan plan.json "$tok"
	assert_not_exists "$PWD/plan-runner/state/safedeploy/token.key"
}

@test "token: token.ttl and token.key-file come from the configuration" {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > conf.key
	chmod 600 conf.key
	mkdir -p "$XDG_CONFIG_HOME/safedeploy"
	printf 'token:\n  ttl: 2h\n  key-file: %s\n' "$PWD/conf.key" > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -0 --separate-stderr safedeploy token issue --plan plan.json --json
	assert_equal "$(json_field key_file <<< "$output")" "$PWD/conf.key"
	python3 -c 'import json,sys,datetime as d; j=json.load(sys.stdin); f=lambda s: d.datetime.strptime(s,"%Y-%m-%dT%H:%M:%SZ"); assert (f(j["expires_at"])-f(j["issued_at"])).seconds == 7200' <<< "$output"
	assert_not_exists "$XDG_STATE_HOME/safedeploy/token.key"
	# --ttl wins over the file.
	run -0 --separate-stderr safedeploy token issue --plan plan.json --json --ttl 1m
	python3 -c 'import json,sys,datetime as d; j=json.load(sys.stdin); f=lambda s: d.datetime.strptime(s,"%Y-%m-%dT%H:%M:%SZ"); assert (f(j["expires_at"])-f(j["issued_at"])).seconds == 60' <<< "$output"
	printf 'token:\n  ttl: 5 minutes\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -4 --separate-stderr safedeploy token issue --plan plan.json
	assert_regex "$stderr" "config.yml:2:3: 'token.ttl': invalid duration '5 minutes'"
}

@test "token confirm: with no terminal it fails closed and prints the re-run line" {
	run -3 --separate-stderr setsid -w safedeploy token confirm --plan plan.json --summary 'remove build/ (12 entries)'
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "safedeploy: confirmation required and no terminal to ask on; nothing was done"
	assert_equal "${stderr_lines[1]}" "safedeploy: the plan: remove build/ (12 entries)"
	assert_regex "${stderr_lines[2]}" "^safedeploy: to go ahead within 5m, run: safedeploy token confirm --plan plan.json --summary 'remove build/ \(12 entries\)' --confirm [0-9A-Z]{48}$"
	local rerun=${stderr_lines[2]#*run: }
	run -0 setsid -w bash -c "$rerun"
	run -3 --separate-stderr setsid -w bash -c "$rerun"
	assert_regex "$stderr" "token was already used at"
}

@test "token confirm: on a terminal the user types the code back" {
	run -0 "$REPO_ROOT/tests/helpers/ttydrive.py" \
		--answer 'type ([0-9A-Z]{3}-[0-9A-Z]{3})' '\1' \
		-- safedeploy token confirm --plan plan.json --summary 'remove build/'
	assert_output --partial "remove build/"
	assert_output --regexp "plan sha256:[0-9a-f]{12}"
	# Typed in lower case and without the hyphen, it is accepted too.
	run -0 "$REPO_ROOT/tests/helpers/ttydrive.py" \
		--answer 'type ([0-9A-Z]{3})-([0-9A-Z]{3})' 'lower:\1\2' \
		-- safedeploy token confirm --plan plan.json
}

@test "token confirm: a wrong code three times or an empty answer refuses, exit 3" {
	run -3 "$REPO_ROOT/tests/helpers/ttydrive.py" \
		--answer 'type [0-9A-Z]{3}-' 'WRONG1' \
		--answer 'tries left' 'WRONG2' \
		--answer 'try left' 'WRONG3' \
		-- safedeploy token confirm --plan plan.json
	assert_output --partial "That is not the code (2 tries left)."
	assert_output --partial "not confirmed: the code was typed wrong 3 times; nothing was done"
	run -3 "$REPO_ROOT/tests/helpers/ttydrive.py" --answer 'type ' '' \
		-- safedeploy token confirm --plan plan.json
	assert_output --partial "cancelled; nothing was done"
}

@test "token confirm: a pipe on standard input cannot answer for the user" {
	run -3 --separate-stderr setsid -w safedeploy token confirm --plan plan.json <<< "ABC-DEF"
	assert_regex "${stderr_lines[0]}" "no terminal to ask on"
}
