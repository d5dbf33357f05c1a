#!/usr/bin/env bash
# make demo: a local fleet of 8 pods on loopback, one still running old code
# (Knight Capital, 2012: new code reached 7 of 8 servers). safedeploy verify
# catches it; after the 8th pod is "fixed", it passes. Stops the fleet and
# leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$PWD/bin/safedeploy
fleet=$PWD/tests/fleet/fleet.py
work=$(mktemp -d)
pid=

stop_fleet() {
	if [ -n "$pid" ]; then
		kill "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null || true
		pid=
	fi
}
trap 'stop_fleet; rm -rf "$work"' EXIT

# write_fleet OLD_VERSION: 8 pods; the last one answers OLD_VERSION.
write_fleet() {
	python3 - "$work" "$1" "$port" << 'PY'
import json, sys
work, old, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
new = ("1.2.3", "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39")
pods, items = [], []
for i in range(8):
    addr = "127.0.0.%d" % (i + 2)
    version, commit = (old, "9e0d3b27c1a4f5e6d7c8b9a0f1e2d3c4b5a69788") \
        if i == 7 and old != new[0] else new
    pods.append({"addr": addr, "routes": {"/actuator/info": {"json": {
        "build": {"artifact": "web", "version": version},
        "git": {"branch": "main", "commit": {"id": commit[:7]}}}}}})
    items.append({"kind": "Pod", "metadata": {"name": "web-5d8f7c-%d" % (i + 1),
        "namespace": "prod"}, "spec": {"containers": [{"name": "web",
        "ports": [{"name": "http", "containerPort": port}]}]},
        "status": {"phase": "Running", "podIP": addr, "conditions": [
            {"type": "Ready", "status": "True"}]}})
json.dump({"port": port, "pods": pods}, open(work + "/fleet.json", "w"))
json.dump({"apiVersion": "v1", "kind": "List", "items": items},
          open(work + "/pods.json", "w"), indent=1)
PY
}

start_fleet() {
	rm -f "$work/ready"
	"$fleet" --spec "$work/fleet.json" --ready "$work/ready" --max-seconds 60 \
		2> "$work/fleet.log" &
	pid=$!
	for _ in $(seq 100); do
		[ -f "$work/ready" ] && return 0
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.05
	done
	cat "$work/fleet.log" >&2
	return 1
}

# A free port: the fleet refuses one in use, so try a few.
port=
for candidate in 18080 18180 18280 18380 18480; do
	port=$candidate
	write_fleet 1.1.0
	start_fleet && break
	pid=
	port=
done
[ -n "$port" ] || { echo "demo: no free port for the fleet" >&2; exit 1; }

bold='' plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
say() { printf '\n%s%s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; }

say "A fleet of 8 pods on loopback. The deploy reached 7 of them: the 8th still runs 1.1.0."
show safedeploy verify --kubectl-json pods.json
set +e
(cd "$work" && "$bin" verify --kubectl-json pods.json)
status=$?
set -e
printf '(exit status %d: the pipeline stops here)\n' "$status"
[ "$status" -eq 1 ] || { echo "demo: expected exit status 1" >&2; exit 1; }

say "The 8th pod is redeployed with 1.2.3. Verify again:"
stop_fleet
write_fleet 1.2.3
start_fleet
show safedeploy verify --kubectl-json pods.json --expect version=1.2.3
(cd "$work" && "$bin" verify --kubectl-json pods.json --expect version=1.2.3)
printf '(exit status 0: every pod runs what was deployed)\n'
