#!/usr/bin/env bats
# safedeploy probe run --once against real servers on loopback: the fleet's
# HTTP and HTTPS pods (tests/fleet/fleet.py) and a real DNS server
# (dnsmasq).

load helpers/common
load helpers/fleet
load helpers/jail

setup() {
	common_setup
}

teardown() {
	stop_fleet
	if [ -n "${DNS_PID:-}" ]; then
		kill "$DNS_PID" 2> /dev/null || true
		wait "$DNS_PID" 2> /dev/null || true
	fi
	common_teardown
}

# A dnsmasq on 127.0.0.53:DNS_PORT that knows a few names.
start_dns() {
	command -v dnsmasq > /dev/null || skip "dnsmasq is not installed (make deps)"
	DNS_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.53", 0)); print(s.getsockname()[1]); s.close()')
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
		--listen-address=127.0.0.53 --bind-interfaces --port="$DNS_PORT" \
		--pid-file="$BATS_TEST_TMPDIR/dnsmasq.pid" \
		--address=/api.example.test/127.0.0.2 \
		--host-record=web.example.test,127.0.0.3 2> "$BATS_TEST_TMPDIR/dnsmasq.err" &
	DNS_PID=$!
	for _ in $(seq 50); do
		python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.1); s.sendto(bytes.fromhex("abcd0100000100000000000003617069076578616d706c6504746573740000010001"), ("127.0.0.53", int(sys.argv[1]))); s.recv(512)' "$DNS_PORT" 2> /dev/null && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/dnsmasq.err" >&2
	return 1
}

health() { # ADDR JSON: a pod whose /health answers JSON
	printf '{"addr":"%s","routes":{"/health":{"json":%s}}}' "$1" "$2"
}

@test "probe: a Gatus file runs unchanged: up, down with the actual values, exit 1" {
	start_fleet "$(health 127.0.0.2 '{"status":"UP","items":[1,2]}')" \
		"$(health 127.0.0.3 '{"status":"DOWN","items":[]}')"
	cat > gatus.yml <<-EOF
		endpoints:
		  - name: api
		    group: core
		    url: "$(url 127.0.0.2 /health)"
		    interval: 30s
		    conditions:
		      - "[STATUS] == 200"
		      - "[BODY].status == UP"
		      - "len([BODY].items) >= 1"
		      - "[RESPONSE_TIME] < 5000"
		  - name: web
		    url: "$(url 127.0.0.3 /health)"
		    conditions:
		      - "[STATUS] == any(200, 204)"
		      - "[BODY].status == UP"
		      - "len([BODY].items) >= 1"
		      - "[BODY].missing.field == x"
	EOF
	run -1 --separate-stderr safedeploy probe run --once --config gatus.yml
	assert_equal "$stderr" ""
	assert_line --regexp "^up +core/api +200 +[0-9]+ ms +http://127.0.0.2:$FLEET_PORT/health\$"
	assert_line --regexp "^DOWN +web +200 +[0-9]+ ms +http://127.0.0.3:$FLEET_PORT/health\$"
	assert_line "      [BODY].status (DOWN) == UP"
	assert_line "      len([BODY].items) (0) >= 1"
	assert_line "      [BODY].missing.field (INVALID) == x"
	refute_line --partial "[STATUS]"
	assert_line "1 of 2 up"
}

@test "probe: every check uses a fresh connection" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	cat > p.yml <<-EOF
		endpoints:
		  - {name: a, url: "$(url 127.0.0.2 /health)", conditions: ["[STATUS] == 200"]}
		  - {name: b, url: "$(url 127.0.0.2 /health)", conditions: ["[STATUS] == 200"]}
		  - {name: c, url: "$(url 127.0.0.2 /health)", conditions: ["[STATUS] == 200"]}
	EOF
	run -0 safedeploy probe run --once --config p.yml
	assert_line "3 of 3 up"
	run -0 python3 -c 'import json,sys; c=[json.loads(l)["conn"] for l in open(sys.argv[1])]; print(len(c), len(set(c)))' "$BATS_TEST_TMPDIR/requests.log"
	assert_output "3 3"
}

@test "probe: method, headers and body are sent as configured" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	cat > p.yml <<-EOF
		endpoints:
		  - name: post
		    url: "$(url 127.0.0.2 /health)"
		    method: POST
		    headers: {X-Probe: "yes", Content-Type: application/json}
		    body: '{"ping": 1}'
		    conditions: ["[STATUS] == 200", "[BODY].ok == true"]
	EOF
	run -0 safedeploy probe run --once --config p.yml
	run -0 python3 -c 'import json,sys; l=json.loads(open(sys.argv[1]).readline()); print(l["method"], l["body"], l["headers"]["X-Probe"])' "$BATS_TEST_TMPDIR/requests.log"
	assert_output 'POST {"ping": 1} yes'
}

@test "probe: targets that hang, answer huge bodies, loop redirects or refuse are down with the reason" {
	local port
	port=$(free_port)
	start_fleet '{"addr":"127.0.0.2","routes":{"/hang":{"behaviour":"hang"},"/huge":{"behaviour":"huge"},"/loop":{"behaviour":"redirect","location":"/loop"},"/reset":{"behaviour":"reset"}}}'
	cat > p.yml <<-EOF
		endpoints:
		  - {name: hang, url: "$(url 127.0.0.2 /hang)", client: {timeout: 500ms}, conditions: ["[STATUS] == 200"]}
		  - {name: huge, url: "$(url 127.0.0.2 /huge)", conditions: ["[STATUS] == 200"]}
		  - {name: loop, url: "$(url 127.0.0.2 /loop)", conditions: ["[STATUS] == 200"]}
		  - {name: reset, url: "$(url 127.0.0.2 /reset)", conditions: ["[STATUS] == 200"]}
		  - {name: refused, url: "http://127.0.0.2:$port/", conditions: ["[STATUS] == 200"]}
		  - {name: nodns, url: "http://no-such-host.invalid/", conditions: ["[STATUS] == 200"]}
	EOF
	run -1 --separate-stderr safedeploy probe run --once --config p.yml --json
	run -0 python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d["results"]:
    print(r["name"], r["up"], r["error"])
print(d["up"], d["down"])' <<< "$output"
	assert_line --regexp '^hang False .*(no answer|[Tt]imeout|timed out)'
	assert_line --regexp '^huge False answer larger than 1048576 bytes$'
	assert_line --regexp '^loop False .*([Rr]edirect|redirect)'
	assert_line --regexp '^reset False .+'
	assert_line --regexp '^refused False .*(onnect|refused)'
	assert_line --regexp '^nodns False .*(resolve|Resolv)'
	assert_line "0 6"
}

@test "probe: tcp:// and tls:// checks: [CONNECTED] and [CERTIFICATE_EXPIRATION] in days" {
	make_cert
	start_fleet '{"addr":"127.0.0.20","tls":true,"routes":{"/":{"text":"hi"}}}'
	local closed
	closed=$(free_port)
	cat > p.yml <<-EOF
		endpoints:
		  - {name: tcp-open, url: "tcp://127.0.0.20:$FLEET_PORT", conditions: ["[CONNECTED] == true"]}
		  - {name: tcp-closed, url: "tcp://127.0.0.2:$closed", conditions: ["[CONNECTED] == true"]}
		  - {name: tls-1d, url: "tls://127.0.0.20:$FLEET_PORT", client: {insecure: true},
		     conditions: ["[CONNECTED] == true", "[CERTIFICATE_EXPIRATION] > 12h"]}
		  - {name: tls-30d, url: "tls://127.0.0.20:$FLEET_PORT", client: {insecure: true},
		     conditions: ["[CERTIFICATE_EXPIRATION] > 30d"]}
		  - {name: https, url: "https://127.0.0.20:$FLEET_PORT/", client: {insecure: true},
		     conditions: ["[STATUS] == 200", "[BODY] == hi", "[CERTIFICATE_EXPIRATION] > 1h"]}
		  - {name: verified, url: "https://127.0.0.20:$FLEET_PORT/", conditions: ["[STATUS] == 200"]}
	EOF
	run -1 safedeploy probe run --once --config p.yml
	assert_line --regexp '^up +tcp-open '
	assert_line --regexp '^DOWN +tcp-closed '
	assert_line "      [CONNECTED] (false) == true"
	assert_line --regexp '^up +tls-1d '
	assert_line --regexp '^DOWN +tls-30d '
	assert_line --regexp '^      \[CERTIFICATE_EXPIRATION\] \(23h59m[0-9]+s\) > 30d$'
	assert_line --regexp '^up +https '
	# The self-signed certificate is refused without client.insecure.
	assert_line --regexp '^DOWN +verified '
	assert_line --regexp '(certificate|SSL)'
	assert_line "3 of 6 up"
}

@test "probe: DNS checks ask a real server: the answer and [DNS_RCODE]" {
	start_dns
	cat > p.yml <<-EOF
		endpoints:
		  - name: a-record
		    url: "127.0.0.53:$DNS_PORT"
		    dns: {query-name: api.example.test, query-type: A}
		    conditions: ["[DNS_RCODE] == NOERROR", "[BODY] == 127.0.0.2"]
		  - name: missing
		    url: "127.0.0.53:$DNS_PORT"
		    dns: {query-name: nothing.example.test, query-type: A}
		    conditions: ["[DNS_RCODE] == NOERROR"]
	EOF
	run -1 safedeploy probe run --once --config p.yml
	assert_line --regexp '^up +a-record +NOERROR '
	assert_line --regexp '^DOWN +missing +(NXDOMAIN|REFUSED) '
	assert_line --regexp '^      \[DNS_RCODE\] \((NXDOMAIN|REFUSED)\) == NOERROR$'
}

@test "probe: the probe section of the safedeploy config is read too" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	mkdir -p "$XDG_CONFIG_HOME/safedeploy"
	cat > "$XDG_CONFIG_HOME/safedeploy/config.yml" <<-EOF
		probe:
		  endpoints:
		    - {name: api, url: "$(url 127.0.0.2 /health)", conditions: ["[STATUS] == 200"]}
	EOF
	run -0 safedeploy probe run --once
	assert_line --regexp '^up +api +200 '
	run -0 --separate-stderr safedeploy probe run --once --json
	run -0 python3 -c 'import json,sys; r=json.load(sys.stdin)["results"][0]; print(r["up"], r["status"], r["ip"], sorted(r["timings_ms"]))' <<< "$output"
	assert_output "True 200 127.0.0.2 ['connect', 'dns', 'first_byte', 'tls', 'total']"
}

@test "probe: bad configuration is an error naming the file, line and field; nothing runs" {
	printf 'endpoints:\n  - name: a\n    url: "http://x/"\n    conditions: ["[STATSU] == 200"]\n' > bad1.yml
	run -4 safedeploy probe run --once --config bad1.yml
	assert_output --partial "bad1.yml:4:"
	assert_output --partial "endpoints[0].conditions[0]"
	assert_output --partial "[STATSU]"
	printf 'endpoints:\n  - name: a\n    url: "http://x/"\n    conditions: ["[STATUS] => 200"]\n' > bad2.yml
	run -4 safedeploy probe run --once --config bad2.yml
	assert_output --partial "endpoints[0].conditions[0]"
	printf 'endpoints:\n  - name: a\n    url: "http://x/"\n    interval: 30x\n    conditions: ["[STATUS] == 200"]\n' > bad3.yml
	run -4 safedeploy probe run --once --config bad3.yml
	assert_output --partial "bad3.yml:4:"
	assert_output --partial "endpoints[0].interval"
	printf 'endpoints:\n  - name: a\n    url: "ftp://x/"\n    conditions: ["[STATUS] == 200"]\n' > bad4.yml
	run -4 safedeploy probe run --once --config bad4.yml
	assert_output --partial "endpoints[0].url"
	assert_output --partial "'ftp://x/'"
	printf 'endpoints:\n  - name: a\n    url: "tcp://host"\n    conditions: ["[CONNECTED] == true"]\n' > bad5.yml
	run -4 safedeploy probe run --once --config bad5.yml
	assert_output --partial "needs a host and a port"
	printf 'endpoints:\n  - name: a\n   url: x\n' > bad6.yml
	run -4 safedeploy probe run --once --config bad6.yml
	assert_output --regexp "bad6.yml:[0-9]+:[0-9]+: "
	printf 'endpoints:\n  - name: a\n    url: "http://x/"\n' > bad7.yml
	run -4 safedeploy probe run --once --config bad7.yml
	assert_output --partial "at least one condition is needed"
	printf 'endpoints:\n  - {name: a, url: "http://x/", conditions: ["[STATUS] == 200"]}\n  - {name: a, url: "http://y/", conditions: ["[STATUS] == 200"]}\n' > bad8.yml
	run -4 safedeploy probe run --once --config bad8.yml
	assert_output --partial "two endpoints named 'a'"
	run -2 safedeploy probe run --config bad8.yml
	assert_output --partial "missing --once"
	run -2 safedeploy probe frobnicate
	assert_output --partial "unknown probe command 'frobnicate' (use run, independence or merge)"
	run -2 safedeploy probe
	assert_output --partial "missing command (run, independence or merge)"
	run -4 safedeploy probe run --once
	assert_output --partial "no 'probe.endpoints' to probe"
}

@test "probe: fields Gatus has and we do not are warnings that name them" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	cat > p.yml <<-EOF
		storage: {type: sqlite, path: /tmp/x.db}
		endpoints:
		  - name: api
		    url: "$(url 127.0.0.2 /health)"
		    ui: {hide-url: true}
		    client: {timeout: 2s, proxy-url: "http://proxy"}
		    conditions: ["[STATUS] == 200"]
	EOF
	run -0 --separate-stderr safedeploy probe run --once --config p.yml
	assert_line --regexp '^up +api '
	[[ $stderr == *"p.yml:1:1: 'storage' is not supported; ignored"* ]]
	[[ $stderr == *"p.yml:5:5: 'endpoints[0].ui' is not supported; ignored"* ]]
	[[ $stderr == *"'endpoints[0].client.proxy-url' is not supported; ignored"* ]]
	printf 'endpoints:\n  - {name: redis, url: "tcp://127.0.0.2:%s", body: "PING", conditions: ["[CONNECTED] == true"]}\n' "$FLEET_PORT" > t.yml
	run -0 --separate-stderr safedeploy probe run --once --config t.yml --db h.db
	[[ $stderr == *"'endpoints[0].body' is not sent by tcp:// and tls:// checks here (they connect only; [BODY] stays empty)"* ]]
}

# Run the checks of p.yml once with the history in h.db and the page in site/.
probe_round() {
	safedeploy probe run --once --config p.yml --db h.db --out site --json "$@"
}

@test "probe: incidents open after N failures in a row and close after M successes, across restarts, once each" {
	FLEET_PORT=$(free_port)
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	cat > p.yml <<-EOF
		endpoints:
		  - name: api
		    url: "$(url 127.0.0.2 /health)"
		    conditions: ["[STATUS] == 200"]
		    alerts: [{type: custom, failure-threshold: 2, success-threshold: 2}]
	EOF
	run -0 --separate-stderr probe_round
	stop_fleet
	# Down once: not yet an incident; twice: one, and only one.
	local i events=()
	for i in 1 2 3; do
		run -1 --separate-stderr probe_round
		events+=("$(jq -r '[.incidents[] | .event + " " + (.incident | tostring)] | join(",")' <<< "$output")")
	done
	assert_equal "${events[*]}" " opened 1 "
	run -0 sqlite3 h.db "SELECT idempotency FROM transitions"
	assert_output --regexp '^[0-9a-f]{16}-incident-1-opened$'
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	events=()
	for i in 1 2 3; do
		run -0 --separate-stderr probe_round
		events+=("$(jq -r '[.incidents[] | .event + " " + (.incident | tostring)] | join(",")' <<< "$output")")
	done
	assert_equal "${events[*]}" " resolved 1 "
	run -0 sqlite3 h.db "SELECT kind, count(*) FROM transitions GROUP BY kind ORDER BY kind"
	assert_output "$(printf 'opened|1\nresolved|1')"
}

@test "probe: summary.json is Statuspage v2 with the generation time; index.html is self-contained and escapes names" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	cat > p.yml <<-EOF
		page: {name: "Example <b>status</b>", url: "https://status.example-status.net", id: example}
		endpoints:
		  - {name: api, group: core, url: "$(url 127.0.0.2 /health)", conditions: ["[STATUS] == 200"]}
		  - {name: "<script>alert(1)</script>", url: "$(url 127.0.0.2 /missing)", conditions: ["[STATUS] == 200"],
		     alerts: [{type: custom, failure-threshold: 1}]}
	EOF
	local before after
	before=$(date -u +%s)
	run -1 --separate-stderr probe_round
	after=$(date -u +%s)
	run -0 python3 - "$before" "$after" <<-'PY'
		import json, sys, calendar, time
		s = json.load(open("site/summary.json"))
		t = calendar.timegm(time.strptime(s["page"]["updated_at"], "%Y-%m-%dT%H:%M:%SZ"))
		assert int(sys.argv[1]) <= t <= int(sys.argv[2]), t
		print(s["page"]["id"], s["page"]["name"], s["page"]["time_zone"])
		print(s["status"]["indicator"], s["status"]["description"])
		for c in s["components"]:
		    print(c["id"], c["status"], c["page_id"], c["position"])
		i = s["incidents"][0]
		print(i["status"], i["impact"], i["components"][0]["id"], i["shortlink"])
		print(i["incident_updates"][0]["body"])
		x = s["x_safedeploy"]
		print(x["stale_after_seconds"], x["interval_seconds"], sorted(x["components"]["core-api"]["uptime"]))
		h = json.load(open("site/history.json"))
		d = h["components"][0]["days"]
		print(len(d["checks"]), len(d["up"]), d["up"][-1], h["components"][0]["recent"]["up"][-1])
	PY
	assert_line "example Example <b>status</b> Etc/UTC"
	assert_line "critical Major Service Outage"
	assert_line "core-api operational example 1"
	assert_line "-script-alert-1---script- major_outage example 2"
	assert_line "investigating critical -script-alert-1---script- https://status.example-status.net#inc-1"
	assert_line "1 consecutive failures: [STATUS] (404) == 200"
	assert_line "180 60 ['24h', '30d', '7d']"
	assert_line "90 90 1 True"
	# Self-contained: nothing loaded from anywhere; names escaped; the
	# generation time readable without JavaScript.
	run -1 grep -Eio '(src|href)=|@import|url\(' site/index.html
	run -1 grep -F '<script>alert(1)' site/index.html
	run -0 grep -c -F '&lt;script&gt;alert(1)&lt;/script&gt;' site/index.html
	run -0 grep -F 'Example &lt;b&gt;status&lt;/b&gt;' site/index.html
	run -0 python3 -c 'import json,re,sys; s=json.load(open("site/summary.json")); h=open("site/index.html").read(); t=s["page"]["updated_at"]; assert ("data-generated-at=\"%s\"" % t) in h and (">%s</time>" % t) in h; print("ok")'
}

@test "probe: --every runs rounds at its interval and finishes the round on SIGTERM" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	printf 'endpoints:\n  - {name: api, url: "%s", conditions: ["[STATUS] == 200"]}\n' "$(url 127.0.0.2 /health)" > p.yml
	safedeploy probe run --every 1s --config p.yml --db h.db --out site > every.out 2> every.err &
	local pid=$! i
	for i in $(seq 100); do
		[ "$(grep -c '^1 of 1 up' every.out)" -ge 3 ] && break
		sleep 0.1
	done
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	run -0 grep -c '^1 of 1 up' every.out
	[ "$output" -ge 3 ]
	run -0 cat every.err
	assert_output "safedeploy: warning: stopping on signal 15 after the round"
	run -0 sqlite3 h.db "SELECT count(*) FROM results"
	[ "$output" -ge 3 ]
	run -2 safedeploy probe run --once --every 1s --config p.yml
	assert_output --partial "give --once or --every, not both"
	run -2 safedeploy probe run --every 1x --config p.yml
	assert_output --partial "--every:"
}

@test "probe: --publish runs after each page with SAFEDEPLOY_PAGE_DIR" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	printf 'endpoints:\n  - {name: api, url: "%s", conditions: ["[STATUS] == 200"]}\n' "$(url 127.0.0.2 /health)" > p.yml
	run -0 --separate-stderr probe_round --publish 'cp "$SAFEDEPLOY_PAGE_DIR/summary.json" published.json'
	run -0 cmp site/summary.json published.json
	run -0 --separate-stderr probe_round --publish 'exit 3'
	assert_equal "$stderr" "safedeploy: --publish command exited with status 3"
}

@test "probe: a corrupt, foreign or locked history is a clear error" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	printf 'endpoints:\n  - {name: api, url: "%s", conditions: ["[STATUS] == 200"]}\n' "$(url 127.0.0.2 /health)" > p.yml
	head -c 8192 /dev/urandom > h.db
	run -4 --separate-stderr probe_round
	assert_equal "$stderr" "safedeploy: cannot read the history 'h.db': file is not a database"
	rm h.db
	sqlite3 h.db "CREATE TABLE t(x)"
	run -4 --separate-stderr probe_round
	assert_equal "$stderr" "safedeploy: 'h.db' is a database, but not a safedeploy probe history"
	rm h.db
	run -0 --separate-stderr probe_round
	# Another process holds the write lock for longer than we wait (5s).
	python3 -c 'import sqlite3,time,sys; c=sqlite3.connect("h.db", isolation_level=None); c.execute("BEGIN EXCLUSIVE"); open("locked","w").close(); time.sleep(8)' &
	local locker=$!
	for _ in $(seq 50); do [ -e locked ] && break; sleep 0.1; done
	run -4 --separate-stderr probe_round
	assert_output ""
	assert_equal "$stderr" "safedeploy: history 'h.db': database is locked"
	kill "$locker"
	wait "$locker" || true
}

@test "probe (jail): a full disk while writing the page leaves the old page intact" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	printf 'endpoints:\n  - {name: api, url: "%s", conditions: ["[STATUS] == 200"]}\n' "$(url 127.0.0.2 /health)" > p.yml
	P=$PWD/p.yml run -4 jail bash -c '
		safedeploy probe run --once --config "$P" --db "$JAIL/h.db" --out "$JAIL/vol/site" > /dev/null || exit 9
		cp "$JAIL/vol/site/summary.json" "$JAIL/old.json"
		cp "$JAIL/vol/site/index.html" "$JAIL/old.html"
		dd if=/dev/zero of="$JAIL/vol/filler" bs=64k 2> /dev/null
		safedeploy probe run --once --config "$P" --db "$JAIL/h.db" --out "$JAIL/vol/site" > /dev/null; s=$?
		cmp "$JAIL/old.json" "$JAIL/vol/site/summary.json" && cmp "$JAIL/old.html" "$JAIL/vol/site/index.html" || exit 8
		ls "$JAIL/vol/site"
		exit $s'
	assert_output --partial "cannot write"
	assert_output --partial "No space left on device"
	refute_output --partial ".tmp"
}

hook_pod() { # the webhook receiver: /hook and /slack answer 200, /fail 500
	printf '{"addr":"127.0.0.4","routes":{"/hook":{"json":{"ok":true}},"/slack":{"text":"ok"},"/fail":{"status":500,"json":{"error":"down"}}}}'
}

# The POSTs the receiver got: PATH IDEMPOTENCY-KEY BODY, one per line.
posts() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["method"] == "POST":
        print(r["path"], r.get("headers", {}).get("Idempotency-Key", "-"), r["body"])' "$BATS_TEST_TMPDIR/requests.log"
}

@test "probe: webhook alerts, custom and Slack: one per transition, resolved only when asked, across restarts" {
	FLEET_PORT=$(free_port)
	start_fleet "$(hook_pod)"
	cat > p.yml <<-EOF
		alerting:
		  custom: {url: "$(url 127.0.0.4 /hook)", headers: {X-Token: secret}}
		  slack: {webhook-url: "$(url 127.0.0.4 /slack)"}
		  pagerduty: {integration-key: x}
		endpoints:
		  - name: api
		    url: "$(url 127.0.0.3 /health)"
		    conditions: ["[STATUS] == 200"]
		    alerts:
		      - {type: custom, failure-threshold: 1, success-threshold: 1, send-on-resolved: true, description: "the API"}
		      - {type: slack}
	EOF
	run -1 --separate-stderr probe_round
	assert_output --partial '"sent": 2'
	[[ $stderr == *"'alerting.pagerduty' is not supported; ignored"* ]]
	run -1 --separate-stderr probe_round
	assert_output --partial '"sent": 0'
	stop_fleet
	start_fleet "$(hook_pod)" "$(health 127.0.0.3 '{"ok":true}')"
	run -0 --separate-stderr probe_round
	assert_output --partial '"sent": 1'
	run -0 posts
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp '^/hook [0-9a-f]{16}-incident-1-opened-custom-0 \{"idempotency_key":"[0-9a-f]{16}-incident-1-opened","event":"opened","incident":1,"endpoint":\{"key":"api","name":"api","group":null,"url":"http://127\.0\.0\.3:[0-9]+/health"\},"description":"the API","reason":"1 consecutive failures: .*\[STATUS\] \(0\) == 200","at":"[0-9T:Z-]+"\}$'
	assert_line --index 1 --regexp '^/slack [0-9a-f]{16}-incident-1-opened-slack-1 \{"text":":rotating_light: \*api\* is down: 1 consecutive failures: .*"\}$'
	assert_line --index 2 --regexp '^/hook [0-9a-f]{16}-incident-1-resolved-custom-0 \{.*"event":"resolved".*\}$'
	run -0 python3 -c 'import json,sys; print([json.loads(l).get("headers",{}).get("X-Token") for l in open(sys.argv[1]) if json.loads(l)["method"]=="POST"])' "$BATS_TEST_TMPDIR/requests.log"
	assert_output "['secret', None, 'secret']"
}

@test "probe: a failing webhook is retried with backoff, then delivered once when it answers" {
	FLEET_PORT=$(free_port)
	start_fleet "$(hook_pod)"
	cat > p.yml <<-EOF
		alerting:
		  custom: {url: "$(url 127.0.0.4 /fail)", body: '{"text": "[ENDPOINT_NAME] [ALERT_TRIGGERED_OR_RESOLVED]: [RESULT_ERRORS]"}'}
		endpoints:
		  - {name: 'say "hi"', url: "$(url 127.0.0.3 /health)", conditions: ["[STATUS] == 200"],
		     alerts: [{type: custom, failure-threshold: 1}]}
	EOF
	run -1 --separate-stderr probe_round
	assert_output --partial '"failed": 3'
	[[ $stderr == *"custom alert for say \"hi\" (incident 1 opened), attempt 3: HTTP 500"* ]]
	run -0 posts
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp '^/fail [0-9a-f]{16}-incident-1-opened-custom-0 \{"text": "say \\"hi\\" TRIGGERED: 1 consecutive failures: .*"\}$'
	# The receiver is fixed; the next round delivers it, once.
	stop_fleet
	sed -i 's|/fail|/hook|' p.yml
	start_fleet "$(hook_pod)"
	run -1 --separate-stderr probe_round
	assert_output --partial '"sent": 1'
	run -1 --separate-stderr probe_round
	assert_output --partial '"sent": 0'
	run -0 sqlite3 h.db "SELECT attempts, sent_ms IS NOT NULL FROM deliveries"
	assert_output "4|1"
}

@test "probe: an alert without its provider is a warning, as in Gatus; a bad provider URL an error" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	printf 'endpoints:\n  - {name: api, url: "%s", conditions: ["[STATUS] == 200"], alerts: [{type: slack}]}\n' "$(url 127.0.0.2 /health)" > p.yml
	run -0 --separate-stderr safedeploy probe run --once --config p.yml --db h.db
	[[ $stderr == *"api: an alert of type 'slack' without alerting.slack; the alert is ignored"* ]]
	printf 'alerting:\n  custom: {url: "ftp://x/"}\nendpoints:\n  - {name: api, url: "http://x/", conditions: ["[STATUS] == 200"]}\n' > p.yml
	run -4 safedeploy probe run --once --config p.yml
	assert_output --partial "alerting.custom.url"
}

# A DNS name in wire format, as hex (for dnsmasq's --dns-rr).
wire() {
	local label out=""
	IFS=. read -ra parts <<< "$1"
	for label in "${parts[@]}"; do out+=$(printf '%02x' "${#label}")$(printf '%s' "$label" | od -An -tx1 | tr -d ' \n'); done
	printf '%s00' "$out"
}

@test "probe independence: shared address, network, domain, provider, name servers, probe and page assets" {
	command -v dnsmasq > /dev/null || skip "dnsmasq is not installed (make deps)"
	FLEET_PORT=$(free_port)
	DNS_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.53", 0)); print(s.getsockname()[1]); s.close()')
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
		--listen-address=127.0.0.53 --bind-interfaces --port="$DNS_PORT" \
		--host-record=status.example-status.test,127.0.0.5 \
		--host-record=api.example.test,127.0.0.5 \
		--host-record=web.example.test,127.0.0.6 \
		--host-record=cdn-edge.cdnprov.test,127.0.0.7 \
		--cname=www.example-status.test,cdn-edge.cdnprov.test \
		--cname=shop.example.test,cdn-edge.cdnprov.test \
		--host-record=other.elsewhere.test,10.9.8.7 \
		--dns-rr=example.test,2,"$(wire ns1.dnsprov.test)" \
		--dns-rr=example-status.test,2,"$(wire ns1.dnsprov.test)" \
		--dns-rr=elsewhere.test,2,"$(wire a.ns.other.test)" 2> "$BATS_TEST_TMPDIR/dnsmasq.err" &
	DNS_PID=$!
	sleep 0.3
	start_fleet "{\"addr\":\"127.0.0.5\",\"routes\":{\"/\":{\"content_type\":\"text/html\",\"text\":\"<html><script src=\\\"http://api.example.test/app.js\\\"></script><img src='//img.cdnprov.test/x.png'></html>\"}}}"
	cat > p.yml <<-EOF
		page: {url: "http://status.example-status.test:$FLEET_PORT/"}
		endpoints:
		  - {name: api, url: "http://api.example.test/health", conditions: ["[STATUS] == 200"]}
		  - {name: web, url: "https://web.example.test/", conditions: ["[STATUS] == 200"]}
		  - {name: shop, url: "https://shop.example.test/", conditions: ["[STATUS] == 200"]}
	EOF
	run -1 safedeploy probe independence --config p.yml --dns-server "127.0.0.53:$DNS_PORT"
	assert_line "FAIL  address      the page's status.example-status.test and api.example.test (api) share the address 127.0.0.5"
	assert_line "WARN  address      the page's status.example-status.test and web.example.test (web) are in the same network (127.0.0.6)"
	assert_line "FAIL  nameservers  the page's status.example-status.test and api.example.test (api) have the name server ns1.dnsprov.test in common"
	assert_line "FAIL  assets       the page loads from api.example.test, a monitored host (api)"
	assert_line "WARN  assets       the page loads from img.cdnprov.test: it depends on that host too"
	assert_line "PASS  domain       domain: nothing shared with the 3 monitored hosts"
	assert_line --regexp '^[0-9]+ FAIL, [0-9]+ WARN$'
	# The page on its own domain, but behind the shop's CDN: the CNAME
	# gives the provider away, and the CDN's edge address is shared.
	cat > p.yml <<-EOF
		page: {url: "http://www.example-status.test/"}
		endpoints:
		  - {name: shop, url: "https://shop.example.test/", conditions: ["[STATUS] == 200"]}
	EOF
	run -1 safedeploy probe independence --config p.yml --dns-server "127.0.0.53:$DNS_PORT" --json
	run -0 jq -r '.findings[] | .verdict + " " + .check' <<< "$output"
	assert_line "WARN provider"
	assert_line "FAIL address"
	assert_line "FAIL nameservers"
	assert_line "PASS domain"
	# A page under a monitored domain; a target on the probe's own host.
	local me
	me=$(hostname -I | awk '{print $1}')
	cat > p.yml <<-EOF
		page: {url: "http://status.example.test/"}
		endpoints:
		  - {name: web, url: "https://web.example.test/", conditions: ["[STATUS] == 200"]}
		  - {name: self, url: "tcp://${me:-127.0.0.1}:22", conditions: ["[CONNECTED] == true"]}
	EOF
	local want=1
	[ -n "$me" ] || want=0
	run "-$want" safedeploy probe independence --config p.yml --dns-server "127.0.0.53:$DNS_PORT"
	assert_line --partial "WARN  domain       the page's status.example.test is under example.test, a monitored domain (web)"
	if [ -n "$me" ]; then
		assert_line "FAIL  probe        the probe runs on $me, the address of $me (self)"
	fi
	run -4 safedeploy probe independence --config p.yml --dns-server "127.0.0.53:$DNS_PORT" --config /dev/null
	printf 'endpoints:\n  - {name: a, url: "http://x/", conditions: ["[STATUS] == 200"]}\n' > nopage.yml
	run -4 safedeploy probe independence --config nopage.yml
	assert_output --partial "page.url is not set"
	run -2 safedeploy probe independence --config nopage.yml --dns-server nonsense
	assert_output --partial "--dns-server:"
}

@test "probe merge: a component is down only when a quorum of fresh locations says so" {
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	local closed
	closed=$(free_port)
	# Three locations probe "api"; at b and c it cannot be reached.
	for loc in a b c; do
		if [ "$loc" = a ]; then u=$(url 127.0.0.2 /health); else u="http://127.0.0.2:$closed/health"; fi
		printf 'page: {name: Example, url: "https://status.example-status.test"}\nendpoints:\n  - {name: api, url: "%s", conditions: ["[STATUS] == 200"], alerts: [{type: custom, failure-threshold: 1}]}\n' "$u" > "$loc.yml"
		safedeploy probe run --once --config "$loc.yml" --db "$loc.db" --out "$loc" > /dev/null 2>&1 || true
	done
	run -1 --separate-stderr safedeploy probe merge a/summary.json b/summary.json c/summary.json --out site
	assert_line --regexp '^api +major_outage +2 of 3 locations say it is down$'
	assert_line "3 of 3 locations voting, quorum 2"
	run -0 jq -r '.status.indicator, .incidents[0].components[0].id, .x_safedeploy.components.api.votes["a/summary.json"]' site/summary.json
	assert_output "$(printf 'critical\napi\noperational')"
	run -0 grep -c 'Major outage' site/index.html
	# One location alone does not take the page red.
	run -0 --separate-stderr safedeploy probe merge a/summary.json b/summary.json --quorum 2 --out site
	assert_line --regexp '^api +operational +1 of 2 locations say it is down$'
	run -0 jq -r '.status.indicator' site/summary.json
	assert_output "none"
	# A stale location does not vote; a broken one neither; too few to
	# reach the quorum is exit 4.
	jq '.page.updated_at = "2020-01-01T00:00:00Z"' c/summary.json > stale.json
	echo '{' > broken.json
	run -4 --separate-stderr safedeploy probe merge b/summary.json stale.json broken.json --quorum 2
	[[ $stderr == *"stale.json: stale (updated "* ]]
	[[ $stderr == *"broken.json: not a status summary; it does not vote"* ]]
	[[ $stderr == *"only 1 of 3 locations are fresh: the quorum of 2 cannot be reached"* ]]
	assert_line --regexp '^api +partial_outage '
	run -2 safedeploy probe merge a/summary.json --quorum 3
	assert_output --partial "--quorum must be a number from 1 to 1"
	run -2 safedeploy probe merge
	assert_output --partial "missing SUMMARY.json"
}

@test "probe: the page in headless Chromium: fresh, then STALE once the probe stops" {
	command -v chromium > /dev/null || skip "chromium is not installed (make deps)"
	start_fleet "$(health 127.0.0.2 '{"ok":true}')"
	printf 'page: {name: Example}\nendpoints:\n  - {name: api, url: "%s", interval: 60s, conditions: ["[STATUS] == 200"]}\n' "$(url 127.0.0.2 /health)" > p.yml
	run -0 --separate-stderr probe_round
	local port
	port=$(free_port)
	python3 -m http.server "$port" --bind 127.0.0.2 --directory site > /dev/null 2>&1 3>&- &
	local server=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.2:$port/summary.json" > /dev/null && break; sleep 0.1; done
	shot() { # NAME: the page as Chromium shows it, after its script ran
		timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
			--user-data-dir="$BATS_TEST_TMPDIR/chrome" --virtual-time-budget=5000 \
			--window-size=1000,700 "$@" "http://127.0.0.2:$port/" 2> /dev/null
	}
	shot --dump-dom > fresh.html
	shot --screenshot="$PWD/fresh.png" > /dev/null
	# The probe stopped two hours ago: the same page, older data.
	python3 - <<-'PY'
		import json, re, time
		old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
		s = json.load(open("site/summary.json"))
		s["page"]["updated_at"] = old
		json.dump(s, open("site/summary.json", "w"))
		h = open("site/index.html").read()
		h = re.sub(r'data-generated-at="[^"]*"', 'data-generated-at="%s"' % old, h)
		open("site/index.html", "w").write(h)
	PY
	shot --dump-dom > stale.html
	shot --screenshot="$PWD/stale.png" > /dev/null
	kill "$server"
	wait "$server" 2> /dev/null || true
	run -0 grep -c '<div id="stale" class="stale" hidden="">' fresh.html
	run -1 grep -c '<div id="stale" class="stale" hidden' stale.html
	run -0 grep -Eo 'Status data is STALE: the probe last reported <span id="age">2 h</span> ago' stale.html
	run -0 grep -c 'All Systems Operational' fresh.html
	# Two real screenshots, and they differ (the red banner).
	run -0 python3 -c 'import sys; [sys.exit(1) for f in sys.argv[1:] if open(f, "rb").read(8) != b"\x89PNG\r\n\x1a\n"]' fresh.png stale.png
	run -1 cmp -s fresh.png stale.png
}
