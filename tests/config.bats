#!/usr/bin/env bats
# safedeploy config: merge order, origins, and clear errors for bad files.

load helpers/common

setup() {
	common_setup
	mkdir -p "$SAFEDEPLOY_SYSCONFDIR" "$XDG_CONFIG_HOME/safedeploy"
}

@test "config: no file at all is an empty configuration" {
	run -0 --separate-stderr safedeploy config
	assert_output ""
	assert_equal "$stderr" ""
}

@test "config: system, user, repository and --config merge in that order" {
	printf 'color: never\ntoken:\n  ttl: 1m\n  key-file: /sys.key\n' > "$SAFEDEPLOY_SYSCONFDIR/config.yml"
	printf 'token:\n  ttl: 2m\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	git init -q repo
	mkdir -p repo/sub/dir
	printf 'token:\n  ttl: 3m\n' > repo/.safedeploy.yml
	cd repo/sub/dir
	run -0 safedeploy config
	assert_output "$(printf 'color="never"\ntoken.ttl="3m"\ntoken.key-file="/sys.key"')"
	printf '{"token": {"ttl": "4m"}}\n' > ../../../extra.json
	run -0 safedeploy config --config ../../../extra.json
	assert_line 'token.ttl="4m"'
	run -0 safedeploy --config ../../../extra.json config
	assert_line 'token.ttl="4m"'
}

@test "config: --origin names the file, line and column of every value" {
	printf '# comment\ntoken:\n  ttl: 10m\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -0 safedeploy config --origin
	assert_output "token.ttl=\"10m\"	# $XDG_CONFIG_HOME/safedeploy/config.yml:3:3"
}

@test "config: an invalid YAML file names file, line and column, exit 4" {
	printf 'token:\n  ttl: 5m\n bad: [\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -4 --separate-stderr safedeploy config
	assert_regex "$stderr" "^safedeploy: $XDG_CONFIG_HOME/safedeploy/config.yml:[0-9]+:[0-9]+: "
	# Every command that reads the configuration refuses the same way.
	plan p.json '{"a":1}'
	run -4 --separate-stderr safedeploy token issue --plan p.json
	assert_regex "$stderr" "config.yml:[0-9]+:[0-9]+: "
	assert_equal "$output" ""
}

@test "config: a value of the wrong type names the key, exit 4" {
	printf 'color: purple\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -4 --separate-stderr safedeploy config
	assert_regex "$stderr" "config.yml:1:1: 'color': must be one of auto, always, never \(got 'purple'\)"
	printf 'token:\n  ttl: 5x\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -4 --separate-stderr safedeploy config
	assert_regex "$stderr" "config.yml:2:3: 'token.ttl': invalid duration '5x': unknown unit 'x'"
	printf 'token: [1, 2]\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -4 --separate-stderr safedeploy config
	assert_regex "$stderr" "'token': expected a mapping"
}

@test "config: an unknown key is a warning that names it and suggests one" {
	printf 'tokn:\n  ttl: 5m\ntoken:\n  tll: 5m\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -0 --separate-stderr safedeploy config
	assert_regex "$stderr" "safedeploy: warning: .*config.yml:1:1: unknown key 'tokn' \(did you mean 'token'\?\)"
	assert_regex "$stderr" "config.yml:4:3: unknown key 'token.tll' \(did you mean 'token.ttl'\?\)"
}

@test "config: a missing --config file is an error, exit 4" {
	run -4 --separate-stderr safedeploy config --config nowhere.yml
	assert_regex "$stderr" "nowhere.yml"
	assert_regex "$stderr" "No such file or directory"
}

@test "config: a JSON file with a syntax error names line and column" {
	printf '{\n  "token": {"ttl": "5m",}\n}\n' > bad.json
	run -4 --separate-stderr safedeploy config --config bad.json
	assert_regex "$stderr" "^safedeploy: bad.json:2:[0-9]+: "
}

@test "config: color from the file, overridden by --color and NO_COLOR" {
	printf 'color: always\nextra: 1\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -0 --separate-stderr safedeploy config
	assert_regex "$stderr" $'\e\\[33mwarning:'
	run -0 --separate-stderr safedeploy config --color=never
	assert_regex "$stderr" "^safedeploy: warning: "
	printf 'extra: 1\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -0 --separate-stderr safedeploy --color=always config
	assert_regex "$stderr" $'\e\\[33mwarning:'
	# Off a terminal, auto means no colour.
	run -0 --separate-stderr safedeploy config
	assert_regex "$stderr" "^safedeploy: warning: "
}

@test "config: --keys lists the known keys with their types" {
	run -0 safedeploy config --keys
	assert_line --regexp '^token.ttl +duration +how long'
	assert_line --regexp '^color +enum .*\(auto\|always\|never\)$'
	run -0 safedeploy config --keys --json
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["version"]==1 and any(k["key"]=="token.ttl" for k in d["keys"])' <<< "$output"
}

@test "config: --json reports the files read, values, origins and warnings" {
	printf 'token:\n  ttl: 10m\nextra: 1\n' > "$XDG_CONFIG_HOME/safedeploy/config.yml"
	run -0 --separate-stderr safedeploy config --json
	python3 -c '
import json, sys
d = json.load(sys.stdin)
f = sys.argv[1]
assert d["version"] == 1 and d["valid"] is True, d
assert d["files"] == [f], d["files"]
assert d["config"]["token"]["ttl"] == "10m", d
assert d["origins"]["token.ttl"] == f + ":2:3", d["origins"]
assert any("unknown key '"'"'extra'"'"'" in w for w in d["warnings"]), d["warnings"]
' "$XDG_CONFIG_HOME/safedeploy/config.yml" <<< "$output"
}
