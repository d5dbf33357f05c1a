#!/usr/bin/env bats
# safedeploy verify --k8s against a fake Kubernetes API server
# (tests/fleet/kubeapi.py: real HTTP(S), paging, tokens, client
# certificates, Status errors, the pod proxy) and a fleet of real pods.

load helpers/common
load helpers/fleet

API=127.0.0.50

teardown() {
	stop_api
	stop_fleet
	common_teardown
}

# api_pod NS NAME IP READY [TERMINATING] [LABEL_APP]
api_pod() {
	printf '{"namespace":"%s","name":"%s","labels":{"app":"%s"},"podIP":%s,"ready":%s,"terminating":%s,"phase":"Running","port":%s}' \
		"$1" "$2" "${6:-web}" "$( [ -n "$3" ] && printf '"%s"' "$3" || echo null)" "$4" "${5:-false}" "$FLEET_PORT"
}

# start_api EXTRA_JSON_FIELDS POD_JSON...: the fake API on $API:$API_PORT.
start_api() {
	local extra=$1 joined
	shift
	joined=$(IFS=,; printf '%s' "$*")
	API_PORT=${API_PORT:-$(free_port)}
	printf '{"addr":"%s","port":%s%s,"pods":[%s]}' "$API" "$API_PORT" "${extra:+,$extra}" "$joined" > "$BATS_TEST_TMPDIR/api.json"
	start_server api kubeapi.py "$BATS_TEST_TMPDIR/api.json" || return 1
	API_PID=$SERVER_PID
}

stop_api() {
	if [ -n "${API_PID:-}" ]; then
		kill "$API_PID" 2> /dev/null || true
		wait "$API_PID" 2> /dev/null || true
		API_PID=
	fi
}

# A CA, a server certificate for $API and a client certificate.
make_pki() {
	local d=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=test-ca -days 1 \
		-keyout "$d/ca-key.pem" -out "$d/ca.pem" 2> /dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$API" -keyout "$d/server-key.pem" \
		-out "$d/server.csr" 2> /dev/null
	printf 'subjectAltName=IP:%s\n' "$API" > "$d/san.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
		-CAcreateserial -days 1 -extfile "$d/san.ext" -out "$d/server.pem" 2> /dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=ci-verify -keyout "$d/client-key.pem" \
		-out "$d/client.csr" 2> /dev/null
	openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
		-CAcreateserial -days 1 -out "$d/client.pem" 2> /dev/null
}

b64() { base64 -w0 < "$1"; }

# kubeconfig FILE USER_YAML: a kubeconfig for the TLS API with the CA inline.
kubeconfig() {
	cat > "$1" <<-EOF
		apiVersion: v1
		kind: Config
		current-context: ci
		contexts:
		- name: ci
		  context: {cluster: test, user: verify, namespace: prod}
		clusters:
		- name: test
		  cluster:
		    server: https://$API:$API_PORT
		    certificate-authority-data: $(b64 "$BATS_TEST_TMPDIR/ca.pem")
		users:
		- name: verify
		  user:
		$2
	EOF
}

three_pods_one_old() {
	start_fleet "$(pod 127.0.0.2 1.2.3 a)" "$(pod 127.0.0.3 1.2.3 a)" "$(pod 127.0.0.4 1.1.0 b)"
}

@test "verify --k8s: pods listed through kubectl proxy's plain API, one old pod caught" {
	three_pods_one_old
	start_api "" "$(api_pod prod web-1 127.0.0.2 true)" "$(api_pod prod web-2 127.0.0.3 true)" \
		"$(api_pod prod web-3 127.0.0.4 true)" "$(api_pod prod db-1 127.0.0.5 true false db)" \
		"$(api_pod staging web-9 127.0.0.6 true)"
	run -1 safedeploy verify --k8s --k8s-api "http://$API:$API_PORT" --namespace prod --selector app=web
	assert_line "2 of 3 targets agree: version=1.2.3 commit=a"
	assert_line "1 differs: prod/web-3 (127.0.0.4) version=1.1.0 commit=b"
	refute_output --partial "db-1"
	refute_output --partial "web-9"
	assert_regex "$(cat "$BATS_TEST_TMPDIR/api.log")" '"labelSelector": *"app=web"'
}

@test "verify --k8s: every page is read, and an expired continue token restarts the list once" {
	three_pods_one_old
	start_api '"expire_continue_once":true' "$(api_pod prod web-1 127.0.0.2 true)" \
		"$(api_pod prod web-2 127.0.0.3 true)" "$(api_pod prod web-3 127.0.0.4 true)"
	run -1 safedeploy verify --k8s --k8s-api "http://$API:$API_PORT" -n prod --chunk-size 1
	assert_line "2 of 3 targets agree: version=1.2.3 commit=a"
	# One 410, then a full second listing of three pages.
	assert_equal "$(grep -c '"status": *410' "$BATS_TEST_TMPDIR/api.log")" 1
	stop_api
	start_api '"expire_continue_always":true' "$(api_pod prod web-1 127.0.0.2 true)" \
		"$(api_pod prod web-2 127.0.0.3 true)"
	run -4 --separate-stderr safedeploy verify --k8s --k8s-api "http://$API:$API_PORT" -n prod --chunk-size 1
	assert_regex "$stderr" "answered HTTP 410 \(the list expired twice\) to listing pods"
}

@test "verify --k8s: a kubeconfig with a CA, a bearer token and a namespace" {
	make_pki
	three_pods_one_old
	start_api "\"tls\":{\"cert\":\"$BATS_TEST_TMPDIR/server.pem\",\"key\":\"$BATS_TEST_TMPDIR/server-key.pem\"},\"token\":\"sekret\"" \
		"$(api_pod prod web-1 127.0.0.2 true)" "$(api_pod prod web-2 127.0.0.3 true)"
	kubeconfig kc.yml '    token: sekret'
	run -0 safedeploy verify --k8s --kubeconfig kc.yml
	assert_line "2 of 2 targets agree: version=1.2.3 commit=a"
	KUBECONFIG=$PWD/kc.yml run -0 safedeploy verify --k8s
	mkdir -p "$HOME/.kube" && cp kc.yml "$HOME/.kube/config"
	run -0 safedeploy verify --k8s
	# A refused token says so and names where the credentials came from.
	kubeconfig bad.yml '    token: wrong'
	run -4 --separate-stderr safedeploy verify --k8s --kubeconfig bad.yml
	assert_regex "$stderr" "answered HTTP 401 \(credentials refused\) to listing pods with kubeconfig 'bad.yml': Unauthorized"
}

@test "verify --k8s: client certificates from a kubeconfig (inline and as files)" {
	make_pki
	three_pods_one_old
	local d=$BATS_TEST_TMPDIR
	start_api "\"tls\":{\"cert\":\"$d/server.pem\",\"key\":\"$d/server-key.pem\",\"client_ca\":\"$d/ca.pem\"}" \
		"$(api_pod prod web-1 127.0.0.2 true)"
	kubeconfig inline.yml "$(printf '    client-certificate-data: %s\n    client-key-data: %s' \
		"$(b64 "$d/client.pem")" "$(b64 "$d/client-key.pem")")"
	run -0 safedeploy verify --k8s --kubeconfig inline.yml
	cp "$d/client.pem" "$d/client-key.pem" .
	kubeconfig files.yml "$(printf '    client-certificate: client.pem\n    client-key: client-key.pem')"
	run -0 safedeploy verify --k8s --kubeconfig files.yml
	kubeconfig none.yml '    {}'
	run -4 --separate-stderr safedeploy verify --k8s --kubeconfig none.yml
	assert_regex "$stderr" "cannot reach the Kubernetes API at 'https://$API:$API_PORT'"
}

@test "verify --k8s: a forbidden namespace shows the API's own message" {
	start_api '"forbidden_namespaces":["kube-system"]' "$(FLEET_PORT=1 api_pod kube-system dns 127.0.0.2 true)"
	run -4 --separate-stderr safedeploy verify --k8s --k8s-api "http://$API:$API_PORT" -n kube-system
	assert_regex "$stderr" "HTTP 403 \(forbidden\) to listing pods with --k8s-api '.*': pods is forbidden: User "
}

@test "verify --k8s: no pod matches: a failure, not a pass" {
	start_api "" "$(FLEET_PORT=1 api_pod prod web-1 127.0.0.2 true)"
	run -1 --separate-stderr safedeploy verify --k8s --k8s-api "http://$API:$API_PORT" -n prod -l app=nothing
	assert_equal "$stderr" "safedeploy: namespace 'prod' (selector 'app=nothing') has no pods"
	assert_output "no targets: nothing was checked"
}

@test "verify --k8s --via-api-proxy: pods reached through the API server's pod proxy" {
	three_pods_one_old
	start_api '"token":"sekret"' "$(api_pod prod web-1 127.0.0.2 true)" "$(api_pod prod web-3 127.0.0.4 true)"
	cat > kc.yml <<-EOF
		current-context: ci
		contexts: [{name: ci, context: {cluster: local, user: u, namespace: prod}}]
		clusters: [{name: local, cluster: {server: "http://$API:$API_PORT"}}]
		users: [{name: u, user: {token: sekret}}]
	EOF
	run -1 safedeploy verify --k8s --kubeconfig kc.yml --via-api-proxy
	assert_line "1 differs: prod/web-3 (127.0.0.4) version=1.1.0 commit=b"
	assert_regex "$(cat "$BATS_TEST_TMPDIR/api.log")" "/api/v1/namespaces/prod/pods/web-3:$FLEET_PORT/proxy/actuator/info"
}

@test "verify --k8s: the in-cluster service account (token, CA and namespace files)" {
	unshare -m -r true 2> /dev/null || skip "no user and mount namespaces here"
	make_pki
	three_pods_one_old
	start_api "\"tls\":{\"cert\":\"$BATS_TEST_TMPDIR/server.pem\",\"key\":\"$BATS_TEST_TMPDIR/server-key.pem\"},\"token\":\"sa-token\"" \
		"$(api_pod ci web-1 127.0.0.2 true)" "$(api_pod ci web-2 127.0.0.4 true)"
	# The standard paths, on a tmpfs in a private mount namespace.
	run -1 unshare -m -r sh -c '
		mount -t tmpfs tmpfs /run && sa=/run/secrets/kubernetes.io/serviceaccount &&
		mkdir -p $sa && echo sa-token > $sa/token && echo ci > $sa/namespace &&
		cp "$1" $sa/ca.crt && [ -e /var/run/secrets/kubernetes.io/serviceaccount/token ] &&
		KUBERNETES_SERVICE_HOST='"$API"' KUBERNETES_SERVICE_PORT='"$API_PORT"' exec safedeploy verify --k8s
	' sh "$BATS_TEST_TMPDIR/ca.pem"
	assert_line "1 differs: ci/web-2 (127.0.0.4) version=1.1.0 commit=b"
}

@test "verify --k8s: a malformed or unusable kubeconfig is named with what is wrong" {
	printf 'current-context: ci\ncontexts: [\n' > broken.yml
	run -4 --separate-stderr safedeploy verify --k8s --kubeconfig broken.yml
	assert_regex "$stderr" "^safedeploy: broken.yml:[0-9]+:[0-9]+: "
	printf 'contexts: []\n' > nocurrent.yml
	run -4 --separate-stderr safedeploy verify --k8s --kubeconfig nocurrent.yml
	assert_equal "$stderr" "safedeploy: kubeconfig 'nocurrent.yml' has no current-context (give one with --context)"
	printf 'current-context: ci\ncontexts: []\n' > nocontext.yml
	run -4 --separate-stderr safedeploy verify --k8s --kubeconfig nocontext.yml
	assert_equal "$stderr" "safedeploy: kubeconfig 'nocontext.yml': no context named 'ci'"
	run -4 --separate-stderr safedeploy verify --k8s --kubeconfig nocontext.yml --context other
	assert_equal "$stderr" "safedeploy: kubeconfig 'nocontext.yml': no context named 'other'"
	cat > exec.yml <<-EOF
		current-context: ci
		contexts: [{name: ci, context: {cluster: c, user: u}}]
		clusters: [{name: c, cluster: {server: "https://127.0.0.50:1"}}]
		users: [{name: u, user: {exec: {command: aws}}}]
	EOF
	run -4 --separate-stderr safedeploy verify --k8s --kubeconfig exec.yml
	assert_regex "$stderr" "user 'u' gets credentials from a plugin, which safedeploy does not run; run 'kubectl proxy'"
	sed 's/{exec: {command: aws}}/{client-certificate-data: "not base64!"}/' exec.yml > b64.yml
	run -4 --separate-stderr safedeploy verify --k8s --kubeconfig b64.yml
	assert_regex "$stderr" "'client-certificate-data' is not base64"
	run -4 --separate-stderr safedeploy verify --k8s --kubeconfig missing.yml
	assert_regex "$stderr" "no Kubernetes API \(not in a cluster, and no kubeconfig\): cannot open 'missing.yml'"
	run -2 --separate-stderr safedeploy verify --url http://127.0.0.2/ --selector app=web
	assert_regex "${stderr_lines[0]}" "go with --k8s"
}
