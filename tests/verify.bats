#!/usr/bin/env bats
# safedeploy verify against a real fleet of HTTP servers on loopback.

load helpers/common
load helpers/fleet

NEW=4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39
OLD=9e0d3b27c1a4f5e6d7c8b9a0f1e2d3c4b5a69788

teardown() {
	stop_fleet
	common_teardown
}

# How many requests the fleet served, and over how many TCP connections.
requests_and_connections() {
	python3 -c 'import json,sys; c=[json.loads(l)["conn"] for l in open(sys.argv[1])]; print(len(c), len(set(c)))' \
		"$BATS_TEST_TMPDIR/requests.log"
}

json_get() { # json_get PYTHON_EXPR < doc
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

eight_pods_one_old() {
	local pods=() i
	for i in 2 3 4 5 6 7 8; do pods+=("$(pod 127.0.0.$i 1.2.3 "${NEW:0:7}")"); done
	pods+=("$(pod 127.0.0.9 1.1.0 "${OLD:0:7}")")
	start_fleet "${pods[@]}"
	for i in 2 3 4 5 6 7 8 9; do url 127.0.0.$i; echo; done > targets.txt
}

@test "verify: 7 of 8 pods updated: exit 1 and a summary naming the 8th" {
	eight_pods_one_old
	run -1 --separate-stderr safedeploy verify --targets targets.txt
	assert_equal "$stderr" ""
	assert_line "7 of 8 targets agree: version=1.2.3 commit=${NEW:0:7}"
	assert_line "1 differs: 127.0.0.9:$FLEET_PORT (127.0.0.9) version=1.1.0 commit=${OLD:0:7}"
	assert_line --regexp "^127.0.0.9:$FLEET_PORT +127.0.0.9 +mismatch +1.1.0 +${OLD:0:7} +version=1.1.0 \(7 others say 1.2.3\)"
	assert_line --regexp "^127.0.0.2:$FLEET_PORT +127.0.0.2 +match +1.2.3 +${NEW:0:7}$"
}

@test "verify: a fleet that agrees passes, and every pod was asked once" {
	local pods=() i
	for i in 2 3 4 5; do pods+=("$(pod 127.0.0.$i 1.2.3 "${NEW:0:7}")"); done
	start_fleet "${pods[@]}"
	run -0 safedeploy verify --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)" \
		--url "$(url 127.0.0.4)" --url "$(url 127.0.0.5)"
	assert_line "4 of 4 targets agree: version=1.2.3 commit=${NEW:0:7}"
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/requests.log")" 4
}

@test "verify: --expect names the expected value; commits match by prefix" {
	eight_pods_one_old
	run -1 safedeploy verify --targets targets.txt --expect version=1.2.3 --expect "commit=$NEW"
	assert_line --partial "version=1.1.0, expected 1.2.3"
	assert_line --partial "commit=${OLD:0:7}, expected $NEW"
	# The seven abbreviated commits match the full id.
	assert_line --regexp "^7 of 8 targets agree"
	run -0 safedeploy verify --url "$(url 127.0.0.2)" --expect "commit=${NEW:0:10}" --expect version=1.2.3
	# Fewer than 7 characters is no prefix match.
	run -1 safedeploy verify --url "$(url 127.0.0.2)" --expect "commit=${NEW:0:6}"
}

@test "verify: Spring's full git mode, commit as {full, abbrev}, is read" {
	start_fleet "$(pod 127.0.0.2 1.2.3 x | sed "s/\"id\":\"x\"/\"id\":{\"full\":\"$NEW\",\"abbrev\":\"${NEW:0:7}\"}/")" \
		"$(pod 127.0.0.3 1.2.3 "${NEW:0:7}")"
	run -0 safedeploy verify --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	assert_line "2 of 2 targets agree: version=1.2.3 commit=$NEW"
}

@test "verify: --expect-commit HEAD resolves the repository's commit with libgit2" {
	git init -q repo && cd repo
	git -c user.name=t -c user.email=t@t commit -q --allow-empty -m one
	local head
	head=$(git rev-parse HEAD)
	start_fleet "$(pod 127.0.0.2 1.2.3 "${head:0:7}")" "$(pod 127.0.0.3 1.2.3 "$OLD")"
	run -1 safedeploy verify --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)" --expect-commit HEAD
	assert_line --partial "commit=$OLD, expected $head"
	assert_line --regexp "^1 of 2 targets agree"
	run -4 --separate-stderr safedeploy verify --url "$(url 127.0.0.2)" --expect-commit no-such-branch
	assert_regex "$stderr" "cannot resolve 'no-such-branch'"
	cd "$BATS_TEST_TMPDIR"
	run -4 --separate-stderr safedeploy verify --url "$(url 127.0.0.2)" --expect-commit HEAD
	assert_regex "$stderr" "not in a git repository"
}

@test "verify: --exactly-one role=primary catches two primaries and none" {
	start_fleet "$(pod 127.0.0.2 1 a '"role":"primary"')" "$(pod 127.0.0.3 1 a '"role":"replica"')" \
		"$(pod 127.0.0.4 1 a '"role":"primary"')"
	local args=(--field role=role --field version=build.version --exactly-one role=primary)
	run -1 safedeploy verify "${args[@]}" --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)" --url "$(url 127.0.0.4)"
	assert_line "2 targets say role=primary (127.0.0.2:$FLEET_PORT, 127.0.0.4:$FLEET_PORT); exactly one may"
	run -0 safedeploy verify "${args[@]}" --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	run -1 safedeploy verify "${args[@]}" --url "$(url 127.0.0.3)"
	assert_line "no target says role=primary; exactly one must"
}

@test "verify: --same-prefix features finds the one pod with a flag flipped" {
	start_fleet "$(pod 127.0.0.2 1 a '"features":{"rlp":"true","power-peg":"false"}')" \
		"$(pod 127.0.0.3 1 a '"features":{"rlp":"true","power-peg":"false"}')" \
		"$(pod 127.0.0.4 1 a '"features":{"rlp":"true","power-peg":"true"}')"
	run -1 safedeploy verify --same-prefix features --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)" --url "$(url 127.0.0.4)"
	assert_line --partial "features.power-peg=true (others false)"
	assert_line --regexp "^1 differs: 127.0.0.4:"
}

@test "verify: --min-targets fails when too few agree" {
	start_fleet "$(pod 127.0.0.2 1.2.3 a)" "$(pod 127.0.0.3 1.2.3 a)"
	run -0 safedeploy verify --min-targets 2 --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	run -1 safedeploy verify --min-targets 3 --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	assert_line "only 2 targets agree; --min-targets is 3"
}

@test "verify: prom:METRIC.LABEL reads a Prometheus build_info label" {
	metrics_pod() { # metrics_pod ADDR VERSION
		python3 -c 'import json,sys; print(json.dumps({"addr": sys.argv[1], "routes": {"/metrics": {"text":
"# HELP app_build_info build\n# TYPE app_build_info gauge\napp_build_info_total 3\n"
"app_build_info{version=\"%s\",revision=\"abc\"} 1\n" % sys.argv[2]}}}))' "$1" "$2"
	}
	start_fleet "$(metrics_pod 127.0.0.2 2.0.0)" "$(metrics_pod 127.0.0.3 1.9.0)"
	run -1 safedeploy verify --field version=prom:app_build_info.version \
		--url "$(url 127.0.0.2 /metrics)" --url "$(url 127.0.0.3 /metrics)"
	assert_line --regexp "^1 differs: 127.0.0.3:$FLEET_PORT \(127.0.0.3\) version=1.9.0$"
	run -1 safedeploy verify --field version=prom:app_build_info.nope --url "$(url 127.0.0.2 /metrics)"
	assert_line --partial "field 'version': metric 'app_build_info' has no label 'nope'"
}

@test "verify: --targets reads comments, blank lines, stdin, and names bad lines" {
	start_fleet "$(pod 127.0.0.2 1 a)" "$(pod 127.0.0.3 1 a)"
	printf '# the web tier\n\n%s   # first\n  %s\n' "$(url 127.0.0.2)" "$(url 127.0.0.3)" > t.txt
	run -0 safedeploy verify --targets t.txt
	assert_line --regexp "^2 of 2 targets agree"
	run -0 safedeploy verify --targets - < t.txt
	printf '%s\nftp://x/\n' "$(url 127.0.0.2)" > bad.txt
	run -2 --separate-stderr safedeploy verify --targets bad.txt
	assert_equal "${stderr_lines[0]}" "safedeploy: bad.txt:2: 'ftp://x/' is not an http:// or https:// URL"
}

@test "verify: a target listed twice is asked once, with a warning" {
	start_fleet "$(pod 127.0.0.2 1 a)"
	run -0 --separate-stderr safedeploy verify --url "$(url 127.0.0.2)" --url "$(url 127.0.0.2)"
	assert_equal "$stderr" "safedeploy: warning: target '$(url 127.0.0.2)' is listed more than once; asked once"
	assert_line "1 of 1 target agree: version=1 commit=a"
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/requests.log")" 1
}

kubectl_pods() { # kubectl_pods KIND then NAME:IP:READY:TERMINATING...
	local kind=$1 items=() spec
	shift
	for spec in "$@"; do
		IFS=: read -r name ip ready term <<< "$spec"
		items+=("$(printf '{"metadata":{"name":"%s","namespace":"prod"%s},"spec":{"containers":[{"name":"web","ports":[{"name":"http","containerPort":%s}]}]},"status":{"phase":"Running"%s,"conditions":[{"type":"Ready","status":"%s"}]}}' \
			"$name" "${term:+,\"deletionTimestamp\":\"2026-11-21T10:00:00Z\"}" "$FLEET_PORT" \
			"${ip:+,\"podIP\":\"$ip\"}" "$ready")")
	done
	local IFS=,
	printf '{"apiVersion":"v1","kind":"%s","metadata":{},"items":[%s]}\n' "$kind" "${items[*]}"
}

@test "verify: --kubectl-json: pod names, terminating and not-ready pods" {
	start_fleet "$(pod 127.0.0.2 1.2.3 a)" "$(pod 127.0.0.3 1.2.3 a)" "$(pod 127.0.0.4 1.1.0 b)"
	kubectl_pods List web-1:127.0.0.2:True web-2:127.0.0.3:False web-3:127.0.0.4:True:yes > pods.json
	run -1 safedeploy verify --kubectl-json pods.json
	assert_line --regexp "^prod/web-1 +127.0.0.2 +match"
	assert_line --regexp "^prod/web-2 +127.0.0.3 +not-ready +1.2.3 +a +pod is not Ready$"
	assert_line --regexp "^prod/web-3 +127.0.0.4 +terminating +- +- +pod is terminating$"
	assert_line "1 of 2 targets agree: version=1.2.3 commit=a"
	assert_line "1 terminating, not asked: prod/web-3 (127.0.0.4) pod is terminating"
	# The terminating pod was not asked.
	run ! grep -q 127.0.0.4 "$BATS_TEST_TMPDIR/requests.log"
	# An API PodList reads the same; a terminating pod alone does not fail.
	kubectl_pods PodList web-1:127.0.0.2:True web-3:127.0.0.4:True:yes | sed 's/"kind":"PodList"/&/' > podlist.json
	run -0 safedeploy verify --kubectl-json - < podlist.json
}

@test "verify: --kubectl-json with no pods, no IP, or no port fails clearly" {
	FLEET_PORT=18999
	kubectl_pods List > empty.json
	run -1 --separate-stderr safedeploy verify --kubectl-json empty.json
	assert_equal "$stderr" "safedeploy: the pod list in 'empty.json' has no pods"
	assert_line "no targets: nothing was checked"
	kubectl_pods List web-1::False > noip.json
	run -4 safedeploy verify --kubectl-json noip.json
	assert_line --regexp "^prod/web-1 +- +unreachable .*pod has no IP yet"
	echo '{"kind":"Deployment","items":[]}' > deploy.json
	run -4 --separate-stderr safedeploy verify --kubectl-json deploy.json
	assert_regex "$stderr" "'deploy.json' is not a pod list \(kind 'Deployment'\)"
	echo '{"kind":"List","items":[' > trunc.json
	run -4 --separate-stderr safedeploy verify --kubectl-json trunc.json
	assert_regex "$stderr" "'trunc.json' is not valid JSON: line 2, column 0"
	kubectl_pods List web-1:127.0.0.2:True | sed 's/,"ports":\[[^]]*\]//' > noport.json
	run -2 --separate-stderr safedeploy verify --kubectl-json noport.json
	assert_regex "${stderr_lines[0]}" "pod 'prod/web-1' declares no container port; give one with --port"
}

@test "verify: bad answers get a clear verdict: 500, HTML, truncated, closed mid-body" {
	start_fleet "$(pod 127.0.0.2 1 a)" \
		'{"addr":"127.0.0.3","routes":{"/actuator/info":{"status":500,"json":{"error":"boom"}}}}' \
		'{"addr":"127.0.0.4","routes":{"/actuator/info":{"text":"<html><body>login</body></html>","content_type":"text/html"}}}' \
		'{"addr":"127.0.0.5","routes":{"/actuator/info":{"behaviour":"truncated","json":{"build":{"version":"1"},"git":{"commit":{"id":"a"}}}}}}' \
		'{"addr":"127.0.0.6","routes":{"/actuator/info":{"behaviour":"close-mid-body","json":{"build":{"version":"1"},"git":{"commit":{"id":"a"}}}}}}' \
		'{"addr":"127.0.0.7","routes":{"/actuator/info":{"json":{"build":{"name":"web"}}}}}'
	run -1 safedeploy verify --timeout 3s --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)" --url "$(url 127.0.0.4)" \
		--url "$(url 127.0.0.5)" --url "$(url 127.0.0.6)" --url "$(url 127.0.0.7)"
	assert_line --regexp "^127.0.0.3:$FLEET_PORT +127.0.0.3 +invalid +- +- +HTTP 500$"
	assert_line --regexp "^127.0.0.4:.* invalid .*answer is not JSON \(text/html\): line 1, column 1: "
	assert_line --regexp "^127.0.0.5:.* invalid .*answer is not JSON .*line 1"
	assert_line --regexp "^127.0.0.6:.* (unreachable|invalid) .*"
	assert_line --regexp "^127.0.0.7:.* invalid .*field 'version': 'build.version': 'version' is missing$"
	assert_line "1 of 6 targets agree: version=1 commit=a"
}

@test "verify: a pod that never answers is unreachable by --timeout; the run ends by its deadline" {
	start_fleet "$(pod 127.0.0.2 1 a)" '{"addr":"127.0.0.3","routes":{"/actuator/info":{"behaviour":"hang"}}}' \
		'{"addr":"127.0.0.4","routes":{"/actuator/info":{"behaviour":"hang"}}}'
	local start=$SECONDS
	run -4 safedeploy verify --timeout 1s --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	assert_line --regexp "^127.0.0.3:.* unreachable .*no answer within 1\.[0-9]s$"
	assert_line "1 of 2 targets agree: version=1 commit=a"
	run -0 safedeploy verify --timeout 1s --allow-unreachable 1 --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	# The overall deadline cuts requests short even with a long timeout.
	run -4 safedeploy verify --timeout 30s --deadline 1s --url "$(url 127.0.0.3)" --url "$(url 127.0.0.4)"
	assert_line --partial "the overall deadline passed first"
	[ $((SECONDS - start)) -lt 15 ]
}

@test "verify: refused connections and names that do not resolve are unreachable, exit 4" {
	start_fleet "$(pod 127.0.0.2 1 a)"
	run -4 safedeploy verify --connect-timeout 2s --url "$(url 127.0.0.2)" \
		--url "http://127.0.0.2:1/actuator/info" --url "http://no-such-host.invalid:$FLEET_PORT/"
	assert_line --regexp "^127.0.0.2:1 +- +unreachable .*(Connection refused|Failed to connect)"
	assert_line --regexp "^no-such-host.invalid:$FLEET_PORT +- +unreachable .*resolve"
	assert_line "2 unreachable:"
}

@test "verify: a 50 MB answer is cut off at --max-body and judged invalid" {
	start_fleet "$(pod 127.0.0.2 1 a)" '{"addr":"127.0.0.3","routes":{"/actuator/info":{"behaviour":"huge"}}}'
	run -1 safedeploy verify --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	assert_line --regexp "^127.0.0.3:.* invalid .*answer larger than 1048576 bytes$"
	run -1 safedeploy verify --max-body 10k --url "$(url 127.0.0.3)"
	assert_line --partial "answer larger than 10240 bytes"
}

@test "verify: a number where a string was expected is compared as text, and said" {
	start_fleet '{"addr":"127.0.0.2","routes":{"/actuator/info":{"json":{"build":{"version":2}}}}}' \
		'{"addr":"127.0.0.3","routes":{"/actuator/info":{"json":{"build":{"version":"2"}}}}}'
	run -0 safedeploy verify --field version=build.version --expect version=2 --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	assert_line "field 'version' is a number on some targets and a string on others (127.0.0.3:$FLEET_PORT); compared as text"
}

@test "verify: a redirect to another host is not followed unless --follow" {
	start_fleet "$(pod 127.0.0.2 1 a)" \
		"{\"addr\":\"127.0.0.3\",\"routes\":{\"/actuator/info\":{\"behaviour\":\"redirect\",\"location\":\"http://127.0.0.2:PORT/actuator/info\"}}}"
	sed -i "s/PORT/$FLEET_PORT/" "$BATS_TEST_TMPDIR/fleet.json"
	stop_fleet
	local spec
	spec=$(python3 -c 'import json,sys; print(",".join(json.dumps(p) for p in json.load(open(sys.argv[1]))["pods"]))' "$BATS_TEST_TMPDIR/fleet.json")
	start_fleet "$spec"
	run -1 safedeploy verify --url "$(url 127.0.0.3)"
	assert_line --regexp "^127.0.0.3:.* invalid .*HTTP 302: redirected to 'http://127.0.0.2:$FLEET_PORT/actuator/info', not followed \(use --follow\)$"
	run -0 safedeploy verify --follow --url "$(url 127.0.0.3)"
}

@test "verify: a self-signed certificate is refused; --cacert or --insecure accept it" {
	make_cert
	start_fleet "$(pod 127.0.0.20 1 a | sed 's/^{/{"tls":true,/')"
	local u="https://127.0.0.20:$FLEET_PORT/actuator/info"
	run -4 safedeploy verify --url "$u"
	assert_line --regexp "unreachable +- +- +TLS: .*\(see --cacert\)$"
	run -0 safedeploy verify --cacert "$BATS_TEST_TMPDIR/cert.pem" --url "$u"
	run -0 safedeploy verify --insecure --url "$u"
}

@test "verify: --header is sent with every request" {
	start_fleet "$(pod 127.0.0.2 1 a)"
	run -0 safedeploy verify -H 'Authorization: Bearer s3cret' --url "$(url 127.0.0.2)"
	run -2 --separate-stderr safedeploy verify -H 'no colon' --url "$(url 127.0.0.2)"
	assert_equal "${stderr_lines[0]}" "safedeploy: --header 'no colon': expected 'Name: value'"
}

@test "verify: --json has every target, rule and the summary; the exit status is kept" {
	eight_pods_one_old
	run -1 --separate-stderr safedeploy verify --targets targets.txt --json
	assert_equal "$(json_get 'd["version"], d["ok"], d["exit"], d["counts"]["match"], d["counts"]["mismatch"]' <<< "$output")" "1 False 1 7 1"
	assert_equal "$(json_get '[t["verdict"] for t in d["targets"]][-1], d["targets"][-1]["values"]["version"], d["targets"][-1]["address"]' <<< "$output")" "mismatch 1.1.0 127.0.0.9"
	assert_equal "$(json_get 'd["summary"][0]' <<< "$output")" "7 of 8 targets agree: version=1.2.3 commit=${NEW:0:7}"
	assert_equal "$(json_get '[(r["rule"], r["field"], r["ok"]) for r in d["rules"]]' <<< "$output")" "[('same', 'version', False), ('same', 'commit', False)]"
}

@test "verify: --junit writes one test case per target, failures as failures" {
	eight_pods_one_old
	run -1 safedeploy verify --targets targets.txt --junit report.xml
	python3 - report.xml <<'PY'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
assert suite.get("tests") == "8" and suite.get("failures") == "1", suite.attrib
cases = suite.findall("testcase")
assert len(cases) == 8
bad = [c for c in cases if c.find("failure") is not None]
assert len(bad) == 1 and bad[0].get("name").startswith("127.0.0.9:"), bad
assert "version=1.1.0" in bad[0].find("failure").get("message")
PY
}

@test "verify: defaults come from the verify: section of the configuration" {
	start_fleet "$(pod 127.0.0.2 1.2.3 a '"role":"primary"')" "$(pod 127.0.0.3 1.2.3 a '"role":"replica"')"
	cat > .safedeploy.yml <<-EOF
		verify:
		  fields:
		    version: build.version
		    role: role
		  expect:
		    version: 1.2.3
		  exactly-one:
		    role: primary
		  timeout: 2s
	EOF
	git init -q .
	run -0 safedeploy verify --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	assert_line "2 of 2 targets agree: version=1.2.3 role=primary"
	printf 'verify:\n  timeout: soon\n' > .safedeploy.yml
	run -4 --separate-stderr safedeploy verify --url "$(url 127.0.0.2)"
	assert_regex "$stderr" "\.safedeploy\.yml:2:3: 'verify.timeout': invalid duration 'soon'"
	printf 'verify:\n  fields:\n    version: [1]\n' > .safedeploy.yml
	run -4 --separate-stderr safedeploy verify --url "$(url 127.0.0.2)"
	assert_regex "$stderr" "\.safedeploy\.yml:3:5: 'verify.fields.version': expected a string"
}

@test "verify: usage errors: no targets, bad field, unknown field in a rule" {
	run -2 --separate-stderr safedeploy verify
	assert_equal "${stderr_lines[0]}" "safedeploy: no targets: give --url, --targets, --kubectl-json or --k8s"
	run -2 --separate-stderr safedeploy verify --url http://127.0.0.2/ --field version
	assert_regex "${stderr_lines[0]}" "--field 'version': expected NAME=PATH"
	run -2 --separate-stderr safedeploy verify --url http://127.0.0.2/ --field 'v=a..b'
	assert_regex "${stderr_lines[0]}" "empty segment"
	run -2 --separate-stderr safedeploy verify --url http://127.0.0.2/ --expect role=primary
	assert_equal "${stderr_lines[0]}" "safedeploy: --expect: unknown field 'role' (the fields are version, commit; add one with --field role=PATH)"
	run -2 --separate-stderr safedeploy verify --url http://127.0.0.2/ --timeout 5
	assert_regex "${stderr_lines[0]}" "--timeout: invalid duration '5': missing unit"
	run -2 --separate-stderr safedeploy verify --url http://127.0.0.2/ --concurrency 0
	run -2 --separate-stderr safedeploy verify http://127.0.0.2/
	assert_regex "${stderr_lines[0]}" "unexpected argument 'http://127.0.0.2/' \(targets are given with --url\)"
	: > empty.txt
	run -1 safedeploy verify --targets empty.txt
	assert_output "no targets: nothing was checked"
}

@test "verify: a value with control characters is invalid, never printed" {
	start_fleet '{"addr":"127.0.0.2","routes":{"/actuator/info":{"json":{"build":{"version":"1.2.3\u001b[2J"},"git":{"commit":{"id":"a"}}}}}}'
	run -1 safedeploy verify --url "$(url 127.0.0.2)"
	assert_line --partial "field 'version' contains control characters"
	refute_output --partial $'\e[2J'
}

@test "verify: --wait asks again until the fleet agrees" {
	start_fleet "$(pod 127.0.0.2 1.2.3 a)" "$(pod 127.0.0.3 1.1.0 b)"
	safedeploy verify --wait 15s --interval 200ms --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)" \
		> out.txt 2> err.txt 3>&- &
	local pid=$!
	sleep 1
	stop_fleet
	start_fleet "$(pod 127.0.0.2 1.2.3 a)" "$(pod 127.0.0.3 1.2.3 a)"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_regex "$(cat err.txt)" "^safedeploy: every rule holds after [0-9]+ rounds \("
	assert_regex "$(cat out.txt)" "2 of 2 targets agree: version=1.2.3 commit=a"
}

@test "verify: --wait gives up by its deadline, reusing one connection per pod" {
	start_fleet "$(pod 127.0.0.2 1.2.3 a)" "$(pod 127.0.0.3 1.1.0 b)"
	run -1 --separate-stderr safedeploy verify --wait 2s --interval 100ms --url "$(url 127.0.0.2)" --url "$(url 127.0.0.3)"
	assert_regex "$stderr" "^safedeploy: still failing after [0-9]+ rounds over [0-9.]+m?s \(--wait\)$"
	assert_line "1 differs: 127.0.0.3:$FLEET_PORT (127.0.0.3) version=1.1.0 commit=b"
	local requests conns
	read -r requests conns < <(requests_and_connections)
	[ "$requests" -ge 6 ] || fail "only $requests requests in the rounds"
	assert_equal "$conns" 2
}

@test "verify: --on-fail runs a command with the verdicts, and keeps exit 1" {
	eight_pods_one_old
	run -1 --separate-stderr safedeploy verify --targets targets.txt \
		--on-fail 'echo "$SAFEDEPLOY_VERIFY_JSON" > verdicts.json; cp "$SAFEDEPLOY_VERIFY_JSON_FILE" copy.json; echo paged; exit 7'
	assert_equal "$stderr" "safedeploy: --on-fail command exited with status 7"
	assert_line "paged"
	assert_equal "$(json_get 'd["counts"]["mismatch"], d["targets"][-1]["verdict"]' < verdicts.json)" "1 mismatch"
	cmp <(json_get 'd' < verdicts.json) <(json_get 'd' < copy.json)
	# With --json the command's output goes to stderr: stdout stays one document.
	run -1 --separate-stderr safedeploy verify --targets targets.txt --json --on-fail 'echo paged'
	json_get 'd["ok"]' <<< "$output"
	assert_regex "$stderr" "paged"
	# Nothing runs when every rule holds.
	run -0 safedeploy verify --url "$(url 127.0.0.2)" --on-fail 'touch ran'
	assert_not_exists ran
}

@test "verify: 200 pods (asked from two threads) are all judged, and keep their connections across rounds" {
	local pods=() i
	for i in $(seq 1 200); do
		if [ "$i" = 137 ]; then
			pods+=("$(pod "127.0.1.$i" 1.1.0 b)")
		else
			pods+=("$(pod "127.0.1.$i" 1.2.3 a)")
		fi
	done
	start_fleet "${pods[@]}"
	for i in $(seq 1 200); do url "127.0.1.$i"; echo; done > many.txt
	# Long enough for two rounds even under the sanitizers on a busy machine.
	run -1 --separate-stderr safedeploy verify --targets many.txt --wait 4s --interval 200ms
	assert_line "199 of 200 targets agree: version=1.2.3 commit=a"
	assert_line "1 differs: 127.0.1.137:$FLEET_PORT (127.0.1.137) version=1.1.0 commit=b"
	local requests conns
	read -r requests conns < <(requests_and_connections)
	[ "$requests" -ge 400 ] || fail "only $requests requests over the rounds"
	assert_equal "$conns" 200
}
