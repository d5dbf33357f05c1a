# Fleet helpers for bats: start tests/fleet/fleet.py with a spec, wait until
# it listens, stop it in teardown. Pods live on 127.0.0.x, one port.

# A port that nothing on 127.0.0.2 listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2", 0)); print(s.getsockname()[1]); s.close()'
}

# pod ADDR VERSION COMMIT [EXTRA_JSON_FIELDS]: an actuator-style pod.
pod() {
	printf '{"addr":"%s","routes":{"/actuator/info":{"json":{"build":{"version":"%s"},"git":{"commit":{"id":"%s"}}%s}}}}' \
		"$1" "$2" "$3" "${4:+,$4}"
}

# start_server NAME SCRIPT SPEC: run a test server (fleet.py, kubeapi.py)
# in the background and wait until it listens; its pid is in SERVER_PID.
start_server() {
	local name=$1 script=$2 spec=$3
	rm -f "$BATS_TEST_TMPDIR/$name.ready"
	"$REPO_ROOT/tests/fleet/$script" --spec "$spec" --ready "$BATS_TEST_TMPDIR/$name.ready" \
		--log "$BATS_TEST_TMPDIR/$name.log" --max-seconds 60 2> "$BATS_TEST_TMPDIR/$name.err" 3>&- &
	SERVER_PID=$!
	for _ in $(seq 100); do
		[ -f "$BATS_TEST_TMPDIR/$name.ready" ] && return 0
		kill -0 "$SERVER_PID" 2> /dev/null || break
		sleep 0.05
	done
	cat "$BATS_TEST_TMPDIR/$name.err" >&2
	return 1
}

# start_fleet POD_JSON...: the fleet on $FLEET_PORT, ready when this returns.
# Requests are logged to $BATS_TEST_TMPDIR/requests.log.
start_fleet() {
	local joined tls=""
	joined=$(IFS=,; printf '%s' "$*")
	FLEET_PORT=${FLEET_PORT:-$(free_port)}
	# TLS pods need make_cert first.
	if [ -f "$BATS_TEST_TMPDIR/cert.pem" ]; then
		tls=$(printf '"tls":{"cert":"%s","key":"%s"},' \
			"$BATS_TEST_TMPDIR/cert.pem" "$BATS_TEST_TMPDIR/key.pem")
	fi
	printf '{"port":%s,%s"pods":[%s]}' "$FLEET_PORT" "$tls" "$joined" \
		> "$BATS_TEST_TMPDIR/fleet.json"
	start_server requests fleet.py "$BATS_TEST_TMPDIR/fleet.json" || return 1
	FLEET_PID=$SERVER_PID
}

stop_fleet() {
	if [ -n "${FLEET_PID:-}" ]; then
		kill "$FLEET_PID" 2> /dev/null || true
		wait "$FLEET_PID" 2> /dev/null || true
		FLEET_PID=
	fi
}

# url ADDR [PATH]
url() {
	printf 'http://%s:%s%s' "$1" "$FLEET_PORT" "${2:-/actuator/info}"
}

# A self-signed certificate for 127.0.0.x pods served over TLS.
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.20 \
		-addext subjectAltName=IP:127.0.0.20 -days 1 \
		-keyout "$BATS_TEST_TMPDIR/key.pem" -out "$BATS_TEST_TMPDIR/cert.pem" 2> /dev/null
}
