# Shared by the benchmarks that need many HTTP servers (sourced): the
# scratch directory and its clean-up, one nginx with a listener on each of
# N loopback addresses, each answering one JSON body, and best-of-N timing.

# bench_start TOOL...: fail unless every TOOL is installed; make $work,
# removed on exit with nginx stopped (kept with BENCH_KEEP=1).
bench_start() {
	local tool
	for tool in "$@"; do
		command -v "$tool" > /dev/null || { echo "bench: needs $tool (make deps)" >&2; exit 1; }
	done
	work=$(mktemp -d)
	nginx_pid=
	[ -n "${BENCH_KEEP:-}" ] || trap bench_cleanup EXIT
}

bench_cleanup() {
	[ -z "$nginx_pid" ] || kill "$nginx_pid" 2> /dev/null || true
	wait 2> /dev/null || true
	rm -rf "$work"
}

# bench_addr PREFIX I: the I-th address under PREFIX (127.1 -> 127.1.0.1,
# 127.1.0.2, ... 250 per /24).
bench_addr() { echo "$1.$(($2 / 250)).$(($2 % 250 + 1))"; }

# nginx_start PREFIX N PORT BODY [HTTP_LINE]: BODY is nginx's return text
# (may use $server_addr and variables HTTP_LINE defines, e.g. a map).
# Returns once the last address answers; nginx_pid is set.
nginx_start() {
	local prefix=$1 n=$2 port=$3 body=$4 extra=${5:-} i last
	{
		echo "daemon off; master_process off; worker_processes 1;"
		echo "pid $work/nginx.pid; error_log $work/error.log warn;"
		echo "worker_rlimit_nofile 16384;"
		echo "events { worker_connections 8192; }"
		echo "http {"
		echo "  access_log off;"
		echo "  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp;"
		echo "  fastcgi_temp_path $work/tmp; uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;"
		[ -z "$extra" ] || echo "  $extra"
		echo "  server {"
		for ((i = 0; i < n; i++)); do echo "    listen $(bench_addr "$prefix" "$i"):$port;"; done
		echo "    location / { default_type application/json;"
		echo "      return 200 '$body'; }"
		echo "  }"
		echo "}"
	} > "$work/nginx.conf"
	mkdir -p "$work/tmp"
	nginx -p "$work" -c "$work/nginx.conf" 2> "$work/nginx.err" &
	nginx_pid=$!
	last=$(bench_addr "$prefix" $((n - 1)))
	for _ in $(seq 100); do
		curl -sf -m 1 "http://$last:$port/" > /dev/null 2>&1 && return 0
		sleep 0.05
	done
	cat "$work/nginx.err" "$work/error.log" >&2
	return 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# best_of N CMD...: the fastest of N runs, in milliseconds.
best_of() {
	local n=$1 best='' start t r
	shift
	for ((r = 0; r < n; r++)); do
		start=$(now_ms)
		"$@" > /dev/null
		t=$(($(now_ms) - start))
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
	done
	echo "$best"
}
