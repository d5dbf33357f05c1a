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

# start_fleet POD_JSON...: the fleet on $FLEET_PORT, ready when this returns.
start_fleet() {
	local joined
	joined=$(IFS=,; printf '%s' "$*")
	FLEET_PORT=${FLEET_PORT:-$(free_port)}
	local tls=""
	# TLS pods need make_cert first.
	if [ -f "$BATS_TEST_TMPDIR/cert.pem" ]; then
		tls=$(printf '"tls":{"cert":"%s","key":"%s"},' \
			"$BATS_TEST_TMPDIR/cert.pem" "$BATS_TEST_TMPDIR/key.pem")
	fi
	printf '{"port":%s,%s"pods":[%s]}' "$FLEET_PORT" "$tls" "$joined" \
		> "$BATS_TEST_TMPDIR/fleet.json"
	rm -f "$BATS_TEST_TMPDIR/ready"
	"$REPO_ROOT/tests/fleet/fleet.py" --spec "$BATS_TEST_TMPDIR/fleet.json" \
		--ready "$BATS_TEST_TMPDIR/ready" --log "$BATS_TEST_TMPDIR/requests.log" \
		--max-seconds 60 2> "$BATS_TEST_TMPDIR/fleet.err" 3>&- &
	FLEET_PID=$!
	local i
	for i in $(seq 100); do
		[ -f "$BATS_TEST_TMPDIR/ready" ] && return 0
		kill -0 "$FLEET_PID" 2> /dev/null || break
		sleep 0.05
	done
	cat "$BATS_TEST_TMPDIR/fleet.err" >&2
	return 1
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
