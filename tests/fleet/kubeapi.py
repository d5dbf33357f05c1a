#!/usr/bin/env python3
"""A fake Kubernetes API server on loopback, for safedeploy's tests.

Usage:
    tests/fleet/kubeapi.py --spec SPEC.json [--ready FILE] [--log FILE]
                           [--max-seconds N]

One HTTP/1.1 server (keep-alive, threaded; HTTPS when the spec has "tls")
that answers the few API calls `safedeploy verify --k8s` makes the way the
real kube-apiserver does: listing pods page by page, bearer tokens and
client certificates, Status objects for errors, and the pod proxy, which
forwards to real pods (for instance a tests/fleet/fleet.py fleet).

  --spec FILE       the API's contents, as JSON (below).
  --ready FILE      once the server listens, FILE is written (atomically,
                    temp file + rename) with the line "ready"; it is removed
                    again on exit. Delete it before starting the server, then
                    wait for it to appear.
  --log FILE        append one JSON line per request, flushed before the
                    answer is sent (so it is there once the client has it):
                    {"method": "GET", "path": "/api/v1/namespaces/prod/pods",
                     "query": {"labelSelector": "app=web", "limit": "2"},
                     "auth": "bearer-ok", "bearer": "sekret", "status": 200}
                    "path" is percent-decoded, without the query string;
                    "query" maps each parameter to its decoded value (a
                    list when it was repeated). "auth" is "bearer-ok" (a
                    token in token/tokens), "bearer-bad" (any other
                    Authorization header; refused only when the spec has
                    tokens), "client-cert" (no Authorization header, a
                    verified client certificate) or "none". "bearer" is the
                    token as sent, when one was. Pod proxy requests add
                    "upstream", the URL forwarded to.
  --max-seconds N   exit by itself after N seconds (default 120), so the
                    server never outlives a test run.

When it listens, "kubeapi: N pods on URL" is printed to stderr. SIGTERM or
SIGINT (or --max-seconds) closes every socket and exits 0; hung connections
and pending proxy requests never delay that. A bad spec or command line
exits 2 with one line "kubeapi: ..." (for instance an unknown key, a bad
address, a certificate that does not load, or an address already in use).
The server is silent about clients that go away or fail the TLS handshake.

In a test: delete the ready file, start the server in the background (in
bats, close fd 3: `kubeapi.py ... 3>&- &`), poll for the ready file while
checking that the process is alive, and kill the pid when done.

Spec:
    {"addr": "127.0.0.50", "port": 16443,
     "tls": {"cert": "server.pem", "key": "server-key.pem",
             "client_ca": "ca.pem"},                          (optional)
     "token": "sekret",                                       (optional)
     "tokens": ["old", "new"],                                (optional)
     "user": "system:serviceaccount:ci:verify",               (optional)
     "forbidden_namespaces": ["kube-system"],                 (optional)
     "forbid_all_namespaces": false,                          (optional)
     "expire_continue_once": false,                           (optional)
     "expire_continue_always": false,                         (optional)
     "pods": [
       {"namespace": "prod", "name": "web-1", "labels": {"app": "web"},
        "podIP": "127.0.0.2", "ready": true, "terminating": false,
        "phase": "Running", "port": 18080, "image": "web:1", "uid": "..."},
       ...]}

  addr      a loopback address to listen on (127.x.y.z or ::1); default
            127.0.0.1.
  port      1..65535.
  tls       serve HTTPS with this PEM certificate and key. With "client_ca"
            a client certificate signed by that CA is REQUIRED (the TLS
            handshake fails without one). Without "tls" the API is plain
            HTTP, like `kubectl proxy`. A plain HTTP request to the HTTPS
            port gets a plain 400 "Client sent an HTTP request to an HTTPS
            server.", as from the real server. Relative paths are relative
            to the spec file's directory.
  token, tokens
            when either is given, every request must carry
            "Authorization: Bearer T" with T one of them (several: token
            rotation), else 401, whatever the path or method. A client
            certificate does not replace the token.
  user      the user named in 403 messages.
  forbidden_namespaces
            listing pods in (or getting or proxying to a pod of) these
            namespaces is 403.
  forbid_all_namespaces
            listing the pods of all namespaces (GET /api/v1/pods) is 403
            ("at the cluster scope"); otherwise it lists every pod, those
            of forbidden namespaces too.
  expire_continue_once
            the first request with a valid continue token gets 410 Gone
            (reason "Expired"); later ones succeed. The client must start
            the list again without a continue token.
  expire_continue_always
            every request with a valid continue token gets 410.
  pods      may be empty. Per pod, "namespace" and "name" are required and
            unique together; everything else is optional:
    labels       string -> string (default {}).
    podIP        an IP address; null or absent: the pod has none yet.
    ready        the Ready condition (default true).
    terminating  true: metadata.deletionTimestamp is set (default false).
    phase        status.phase (default "Running").
    port         the containerPort of the one container ("app"), named
                 "http"; null or absent: no ports declared.
    image        the container's image (default "web:1").
    uid          metadata.uid (default: derived from namespace and name).
Keys starting with "_" are comments and are ignored anywhere; any other
unknown key is an error (so a misspelt "forbiden_namespaces" is caught).

Endpoints (GET only; any other method is 405, after authentication):
  /api/v1/namespaces/NS/pods and /api/v1/pods (all namespaces)
      a PodList: {"kind": "PodList", "apiVersion": "v1",
      "metadata": {"resourceVersion": "12345", "continue": TOKEN or "",
      "remainingItemCount": N (only when more remain)}, "items": [POD...]},
      items ordered by namespace then name, without "kind" (as the REST
      API). An unknown namespace lists no pods. Query parameters:
      labelSelector  comma-separated requirements, URL-decoded: k=v, k==v,
                     k!=v (also true when k is absent), k (exists), !k (does
                     not exist), k in (a,b), k notin (a,b), k>N, k<N.
                     Malformed -> 400.
      limit          a page size; absent or 0: everything. Not a
                     non-negative integer -> 400.
      continue       a token from the previous page's metadata.continue
                     (opaque base64, as the real server's, with a random
                     salt). Pages continue after the last pod returned, so
                     changing the selector between pages is harmless. A
                     token this server did not issue, or one from another
                     namespace -> 400.
      Other parameters are ignored.
      POD = {"metadata": {"name", "namespace", "uid", "resourceVersion",
      "creationTimestamp", "labels", and "deletionTimestamp":
      "2026-11-21T10:00:00Z" plus "deletionGracePeriodSeconds": 30 only when
      terminating}, "spec": {"containers": [{"name": "app", "image": IMAGE,
      "ports": [{"name": "http", "containerPort": PORT, "protocol":
      "TCP"}]}]}, "status": {"phase", "podIP" and "podIPs": [{"ip"}] (only
      with an IP), "conditions": [{"type": "Ready", "status": "True" or
      "False"}], "containerStatuses": [{"name": "app", "ready", ...}]}}
  /api/v1/namespaces/NS/pods/NAME
      that Pod, with "kind": "Pod" and "apiVersion": "v1"; 404 if unknown.
  /api/v1/namespaces/NS/pods/NAME[:PORT]/proxy[/REST]
      the pod proxy: GET http://PODIP:PORT/REST (query string kept; no
      PORT: the pod's port, else 80; "https:NAME:PORT" speaks HTTPS to the
      pod, without verifying it) with a 5 s timeout, redirects not
      followed; relays the status, Content-Type (and Location) and the
      body, cut at 2 MiB (the log then says "truncated": true). Unknown pod
      -> 404; pod without an IP -> 503; a port that is not a number -> 400;
      upstream refused, reset or broken -> 502; upstream timeout -> 504. The
      bearer token is not forwarded.
  anything else -> 404.

Errors are Status objects, as the real server sends them:
    {"kind": "Status", "apiVersion": "v1", "metadata": {},
     "status": "Failure", "message": "...", "reason": "...", "code": N}
  401 Unauthorized    message "Unauthorized".
  403 Forbidden       'pods is forbidden: User "system:serviceaccount:ci:
                      verify" cannot list resource "pods" in API group ""
                      in the namespace "kube-system"'.
  410 Expired         "The provided continue parameter is too old to
                      display a consistent list result. You can start a new
                      list without the continue parameter."
  400 BadRequest, 404 NotFound, 405 MethodNotAllowed, 502 and 503
  ServiceUnavailable, 504 Timeout.

Example:
    {"addr": "127.0.0.50", "port": 16443, "token": "sekret",
     "pods": [
       {"namespace": "prod", "name": "web-1", "labels": {"app": "web"},
        "podIP": "127.0.0.2", "port": 18080},
       {"namespace": "prod", "name": "web-2", "labels": {"app": "web"},
        "podIP": null, "ready": false, "phase": "Pending", "port": 18080}]}
    curl -H 'Authorization: Bearer sekret' \\
      'http://127.0.0.50:16443/api/v1/namespaces/prod/pods?limit=1'
    curl -H 'Authorization: Bearer sekret' \\
      'http://127.0.0.50:16443/api/v1/namespaces/prod/pods/web-1/proxy/x'
"""
import argparse
import base64
import http.client
import ipaddress
import json
import os
import re
import secrets
import socket
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

import serverkit
from serverkit import SpecError, check_keys, is_int

MAX_CONNECTIONS = 1024     # open connections, to bound memory
PROXY_TIMEOUT = 5.0        # seconds, per upstream socket operation
PROXY_CAP = 2 * 1024 * 1024
RESOURCE_VERSION = "12345"
CREATED = "2026-11-20T09:00:00Z"
DELETED = "2026-11-21T10:00:00Z"
DEFAULT_USER = "system:serviceaccount:ci:verify"
EXPIRED_MESSAGE = ("The provided continue parameter is too old to display a "
                   "consistent list result. You can start a new list without "
                   "the continue parameter.")
SPEC_KEYS = {"addr", "port", "tls", "token", "tokens", "user",
             "forbidden_namespaces", "forbid_all_namespaces",
             "expire_continue_once", "expire_continue_always", "pods"}
TLS_KEYS = {"cert", "key", "client_ca"}
POD_KEYS = {"namespace", "name", "labels", "podIP", "ready", "terminating",
            "phase", "port", "image", "uid"}
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden",
           404: "NotFound", 405: "MethodNotAllowed", 410: "Expired",
           502: "ServiceUnavailable", 503: "ServiceUnavailable",
           504: "Timeout"}


# ---------------------------------------------------------------- the spec

@dataclass
class Pod:
    namespace: str
    name: str
    labels: dict
    ip: str            # "" when the pod has none
    port: int          # 0 when it declares none
    obj: dict          # the item as listed (no "kind")

    @property
    def key(self):
        return (self.namespace, self.name)


@dataclass
class Spec:
    addr: str
    port: int
    pods: list                                   # sorted by key
    ssl_ctx: object = None
    tokens: set = field(default_factory=set)
    user: str = DEFAULT_USER
    forbidden: set = field(default_factory=set)
    forbid_all: bool = False
    expire_once: bool = False
    expire_always: bool = False


def get_bool(raw, key, default, where):
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise SpecError(f"{where}: \"{key}\" must be true or false")
    return value


def get_str(raw, key, default, where):
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise SpecError(f"{where}: \"{key}\" must be a non-empty string")
    return value


def pod_object(raw, where):
    """Validate one spec pod; the Pod with its API representation."""
    check_keys(raw, POD_KEYS, where)
    ns = raw.get("namespace")
    name = raw.get("name")
    for key, value in (("namespace", ns), ("name", name)):
        if not isinstance(value, str) or not value or "/" in value \
                or ":" in value:
            raise SpecError(f"{where}: \"{key}\" must be a non-empty string "
                            f"without / or :")
    where = f"pod {ns}/{name}"
    labels = raw.get("labels", {})
    if not isinstance(labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in labels.items()):
        raise SpecError(f"{where}: \"labels\" must map strings to strings")
    ip = raw.get("podIP")
    if ip is None:
        ip = ""
    elif not isinstance(ip, str):
        raise SpecError(f"{where}: \"podIP\" must be an IP address or null")
    elif ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise SpecError(f"{where}: bad podIP {ip!r}") from None
    port = raw.get("port")
    if port is None:
        port = 0
    elif not is_int(port) or not 1 <= port <= 65535:
        raise SpecError(f"{where}: bad port {port!r} (want 1..65535 or null)")
    ready = get_bool(raw, "ready", True, where)
    terminating = get_bool(raw, "terminating", False, where)
    phase = get_str(raw, "phase", "Running", where)
    image = get_str(raw, "image", "web:1", where)
    uid = get_str(raw, "uid", str(uuid.uuid5(uuid.NAMESPACE_URL,
                                             f"kubeapi:{ns}/{name}")), where)

    meta = {"name": name, "namespace": ns, "uid": uid,
            "resourceVersion": RESOURCE_VERSION,
            "creationTimestamp": CREATED, "labels": dict(labels)}
    if terminating:
        meta["deletionTimestamp"] = DELETED
        meta["deletionGracePeriodSeconds"] = 30
    container = {"name": "app", "image": image}
    if port:
        container["ports"] = [{"name": "http", "containerPort": port,
                               "protocol": "TCP"}]
    status = {"phase": phase}
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    status["conditions"] = [{"type": "Ready",
                             "status": "True" if ready else "False",
                             "lastTransitionTime": CREATED}]
    status["containerStatuses"] = [{"name": "app", "image": image,
                                    "ready": ready, "started": ready,
                                    "restartCount": 0}]
    obj = {"metadata": meta, "spec": {"containers": [container]},
           "status": status}
    return Pod(namespace=ns, name=name, labels=dict(labels), ip=ip,
               port=port, obj=obj)


def parse_addr(raw):
    if not isinstance(raw, str):
        raise SpecError("spec: \"addr\" must be a string")
    try:
        addr = ipaddress.ip_address(raw)
    except ValueError:
        raise SpecError(f"spec: bad address {raw!r}") from None
    if not addr.is_loopback:
        raise SpecError(f"spec: address {raw} is not loopback "
                        f"(127.x.y.z or ::1)")
    return str(addr)


def load_ssl_context(raw, spec_dir):
    """A server-side SSLContext from the spec's "tls" object."""
    ctx = serverkit.load_ssl_context(raw, spec_dir, TLS_KEYS)
    if "client_ca" in raw:
        value = raw["client_ca"]
        if not isinstance(value, str) or not value:
            raise SpecError("tls: \"client_ca\" must be a non-empty string")
        path = os.path.join(spec_dir, value)
        try:
            ctx.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise SpecError(f"tls: cannot load client_ca {path}: "
                            f"{exc.strerror or exc}") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def string_list(raw, key):
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(
            isinstance(v, str) and v for v in value):
        raise SpecError(f"spec: \"{key}\" must be a list of non-empty "
                        f"strings")
    return value


def load_spec(path):
    """Read and validate the spec file."""
    raw = serverkit.read_json(path)
    check_keys(raw, SPEC_KEYS, "spec")
    addr = parse_addr(raw.get("addr", "127.0.0.1"))
    port = serverkit.spec_port(raw)
    tokens = set(string_list(raw, "tokens"))
    if "token" in raw:
        token = raw["token"]
        if not isinstance(token, str) or not token:
            raise SpecError("spec: \"token\" must be a non-empty string")
        tokens.add(token)
    for token in tokens:
        if any(c.isspace() for c in token):
            raise SpecError(f"spec: token {token!r} contains white space")
    pods_raw = raw.get("pods")
    if not isinstance(pods_raw, list):
        raise SpecError("spec: \"pods\" must be a list")
    pods = [pod_object(pod, f"pods[{i}]") for i, pod in enumerate(pods_raw)]
    seen = set()
    for pod in pods:
        if pod.key in seen:
            raise SpecError(f"spec: pod {pod.namespace}/{pod.name} given "
                            f"twice")
        seen.add(pod.key)
    pods.sort(key=lambda p: p.key)
    ssl_ctx = None
    if "tls" in raw:
        ssl_ctx = load_ssl_context(raw["tls"],
                                   os.path.dirname(os.path.abspath(path)))
    return Spec(addr=addr, port=port, pods=pods, ssl_ctx=ssl_ctx,
                tokens=tokens,
                user=get_str(raw, "user", DEFAULT_USER, "spec"),
                forbidden=set(string_list(raw, "forbidden_namespaces")),
                forbid_all=get_bool(raw, "forbid_all_namespaces", False,
                                    "spec"),
                expire_once=get_bool(raw, "expire_continue_once", False,
                                     "spec"),
                expire_always=get_bool(raw, "expire_continue_always", False,
                                       "spec"))


# ------------------------------------------------------- label selectors

class BadRequest(Exception):
    """A request the real API server would answer with 400."""


NAME_RE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z")
DNS_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                    r"(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
TOKEN_RE = re.compile(r"\s*(?:(!=|==|=|!|,|\(|\)|<|>)|([^\s!=,()<>]+))")
NAME_RULE = ("must be 63 characters or less, begin and end with an "
             "alphanumeric character, and contain only alphanumerics, "
             "'-', '_' or '.'")


def check_label_key(key):
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253
                  or not DNS_RE.match(prefix)):
        raise BadRequest(f"unable to parse requirement: key: Invalid value: "
                         f"\"{key}\": prefix part must be a DNS subdomain")
    if not NAME_RE.match(name):
        raise BadRequest(f"unable to parse requirement: key: Invalid value: "
                         f"\"{key}\": name part {NAME_RULE}")


def check_label_value(value):
    if value and not NAME_RE.match(value):
        raise BadRequest(f"unable to parse requirement: values[0]: Invalid "
                         f"value: \"{value}\": a valid label value "
                         f"{NAME_RULE}")


def tokenize(text):
    """Selector tokens as (kind, text): kind "op" or "id"."""
    tokens, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return tokens
        m = TOKEN_RE.match(text, pos)
        tokens.append(("op", m.group(1)) if m.group(1)
                      else ("id", m.group(2)))
        pos = m.end()


def parse_selector(text):
    """Requirements (key, op, values) from a labelSelector."""
    tokens = tokenize(text)
    reqs, i = [], 0

    def peek():
        return tokens[i] if i < len(tokens) else ("end", "")

    def found(what):
        kind, tok = peek()
        return BadRequest(f"unable to parse requirement: found "
                          f"'{tok if kind != 'end' else ''}', expected: "
                          f"{what}")

    while tokens:
        kind, tok = peek()
        if (kind, tok) == ("op", "!"):
            i += 1
            kind, key = peek()
            if kind != "id":
                raise found("identifier after '!'")
            i += 1
            check_label_key(key)
            reqs.append((key, "!", ()))
        elif kind == "id":
            key = tok
            i += 1
            check_label_key(key)
            kind, tok = peek()
            if kind == "end" or (kind, tok) == ("op", ","):
                reqs.append((key, "exists", ()))
            elif kind == "op" and tok in ("=", "==", "!="):
                i += 1
                kind, value = peek()
                if kind == "id":
                    i += 1
                else:
                    value = ""
                check_label_value(value)
                reqs.append((key, "!=" if tok == "!=" else "=", (value,)))
            elif kind == "id" and tok in ("in", "notin"):
                i += 1
                if peek() != ("op", "("):
                    raise found("'('")
                i += 1
                values, want_value = [], True
                while True:
                    kind, value = peek()
                    if kind == "id" and want_value:
                        check_label_value(value)
                        values.append(value)
                        want_value = False
                        i += 1
                    elif (kind, value) == ("op", ","):
                        if want_value:
                            values.append("")
                        want_value = True
                        i += 1
                    elif (kind, value) == ("op", ")"):
                        if want_value and values:
                            values.append("")
                        i += 1
                        break
                    else:
                        raise found("',', ')' or identifier")
                if not values:
                    raise BadRequest("unable to parse requirement: values: "
                                     "Invalid value: \"\": for 'in', "
                                     "'notin' operators, values set can't "
                                     "be empty")
                reqs.append((key, tok, tuple(values)))
            elif kind == "op" and tok in ("<", ">"):
                i += 1
                kind, value = peek()
                if kind != "id" or not re.fullmatch(r"-?[0-9]+", value):
                    raise found("an integer")
                i += 1
                reqs.append((key, tok, (int(value),)))
            else:
                raise found("'=', '!=', '==', 'in', 'notin', '<', '>', ',' "
                            "or end of string")
        else:
            raise found("!, identifier, or 'end of string'")
        kind, tok = peek()
        if kind == "end":
            break
        if (kind, tok) != ("op", ","):
            raise found("',' or 'end of string'")
        i += 1
        if peek()[0] == "end":
            raise found("identifier after ','")
    return reqs


def selector_matches(reqs, labels):
    for key, op, values in reqs:
        have = key in labels
        value = labels.get(key)
        if op == "exists":
            ok = have
        elif op == "!":
            ok = not have
        elif op == "=":
            ok = have and value == values[0]
        elif op == "!=":
            ok = not have or value != values[0]
        elif op == "in":
            ok = have and value in values
        elif op == "notin":
            ok = not have or value not in values
        else:                                     # < and >
            try:
                n = int(value) if have else None
            except ValueError:
                n = None
            ok = n is not None and (n < values[0] if op == "<"
                                    else n > values[0])
        if not ok:
            return False
    return True


# ------------------------------------------------------ state and logging

class Api(serverkit.ServerState):
    """State shared by every connection: continue tokens, flags, the log."""

    def __init__(self, spec, log_path):
        super().__init__(log_path, MAX_CONNECTIONS)
        self.spec = spec
        self._continues = {}       # token -> (scope, last key returned)
        self._expired_once = False

    def issue_continue(self, scope, last):
        """A new opaque continue token that resumes after key last."""
        start = f"/registry/pods/{last[0]}/{last[1]}\x00"
        doc = {"v": "meta.k8s.io/v1", "rv": int(RESOURCE_VERSION),
               "start": start, "salt": secrets.token_hex(8)}
        token = base64.urlsafe_b64encode(
            json.dumps(doc, separators=(",", ":")).encode()).decode()
        token = token.rstrip("=")
        with self._lock:
            self._continues[token] = (scope, last)
        return token

    def lookup_continue(self, token):
        with self._lock:
            return self._continues.get(token)

    def expire_now(self):
        """Whether this continue request is to be answered 410."""
        with self._lock:
            if self.spec.expire_always:
                return True
            if self.spec.expire_once and not self._expired_once:
                self._expired_once = True
                return True
            return False


def status_doc(code, message, details=None):
    doc = {"kind": "Status", "apiVersion": "v1", "metadata": {},
           "status": "Failure", "message": message,
           "reason": REASONS.get(code, "InternalError"), "code": code}
    if details is not None:
        doc["details"] = details
    return doc


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None                # the 3xx surfaces as an HTTPError


def proxy_opener(https):
    handlers = [urllib.request.ProxyHandler({}), NoRedirect()]
    if https:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=ctx))
    return urllib.request.build_opener(*handlers)


def error_text(exc):
    """A Go-like description of a transport error."""
    while isinstance(exc, urllib.error.URLError) and \
            isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    if isinstance(exc, ConnectionResetError):
        return "read: connection reset by peer"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "i/o timeout"
    if isinstance(exc, http.client.IncompleteRead):
        return "unexpected EOF"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "EOF"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def is_timeout(exc):
    while isinstance(exc, urllib.error.URLError) and \
            isinstance(exc.reason, BaseException):
        exc = exc.reason
    return isinstance(exc, (TimeoutError, socket.timeout))


# ------------------------------------------------------------ answering

class ApiHandler(serverkit.Handler):
    """Answers one TCP (or TLS) connection, request after request."""

    server_version = "kubeapi"

    # -- connection set-up and tear-down

    def setup(self):
        self.api = self.server.api
        self.tls = self.api.spec.ssl_ctx is not None
        self.peer_cert = False
        if self.tls:
            self.request.settimeout(self.timeout)
            first = self.request.recv(1, socket.MSG_PEEK)
            if first and first != b"\x16":   # not a TLS handshake record
                self.refuse_plain_http()
                raise ConnectionAbortedError("plain HTTP on the TLS port")
            self.request = self.api.spec.ssl_ctx.wrap_socket(
                self.request, server_side=True)
            self.peer_cert = bool(self.request.getpeercert())
        super().setup()

    def refuse_plain_http(self):
        """Answer as Go's TLS server does, then close without a reset."""
        sock = self.request
        sock.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n"
                     b"Client sent an HTTP request to an HTTPS server.\n")
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.5)       # read what was sent, so close sends no RST
        for _ in range(64):
            if not sock.recv(65536):
                break

    # -- dispatch

    def __getattr__(self, name):
        if name.startswith("do_"):           # any method but GET
            return self.other_method
        raise AttributeError(name)

    def split_target(self):
        """(raw path, raw query) of the request target."""
        target = self.path
        if not target.startswith("/"):           # absolute form, or junk
            parts = urllib.parse.urlsplit(target)
            return parts.path or "/", parts.query
        target = target.split("#", 1)[0]
        path, _, query = target.partition("?")
        return path, query

    def begin(self):
        """Parse the target and authenticate; a 401 answer if refused."""
        raw_path, raw_query = self.split_target()
        self.raw_path = raw_path
        self.raw_query = raw_query
        parsed = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        self.query = {k: v[0] if len(v) == 1 else v
                      for k, v in parsed.items()}
        self.params = {k: v[0] for k, v in parsed.items()}
        self.entry = {"method": self.command,
                      "path": urllib.parse.unquote(raw_path),
                      "query": self.query}
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        tokens = self.api.spec.tokens
        if header and scheme.lower() == "bearer" and token:
            self.entry["auth"] = ("bearer-ok" if token in tokens
                                  else "bearer-bad")
            self.entry["bearer"] = token
        elif header:
            self.entry["auth"] = "bearer-bad"
        else:
            self.entry["auth"] = "client-cert" if self.peer_cert else "none"
        if tokens and self.entry["auth"] != "bearer-ok":
            self.send_status(401, "Unauthorized")
            return False
        return True

    def other_method(self):
        self.close_connection = True       # a request body may follow
        if not self.begin():
            return
        self.send_status(405, "the server does not allow this method on "
                              "the requested resource",
                         extra={"Allow": "GET", "Connection": "close"})

    def do_GET(self):
        if not self.begin():
            return
        parts = self.raw_path.split("/")
        seg = [urllib.parse.unquote(p) for p in parts]
        try:
            if seg == ["", "api", "v1", "pods"]:
                self.list_pods(None)
            elif len(seg) == 6 and seg[:4] == ["", "api", "v1",
                                                "namespaces"] \
                    and seg[5] == "pods" and seg[4]:
                self.list_pods(seg[4])
            elif len(seg) == 7 and seg[:4] == ["", "api", "v1",
                                                "namespaces"] \
                    and seg[5] == "pods" and seg[4] and seg[6]:
                self.get_pod(seg[4], seg[6])
            elif len(seg) >= 8 and seg[:4] == ["", "api", "v1",
                                                "namespaces"] \
                    and seg[5] == "pods" and seg[7] == "proxy" \
                    and seg[4] and seg[6]:
                self.proxy(seg[4], seg[6], "/" + "/".join(parts[8:]))
            else:
                self.send_status(404, "the server could not find the "
                                      "requested resource", {})
        except BadRequest as exc:
            self.send_status(400, str(exc))

    # -- writing

    def send_json(self, code, doc, extra=None):
        body = (json.dumps(doc, separators=(",", ":")) + "\n").encode()
        self.send_body(code, body, "application/json",
                       {"Cache-Control": "no-cache, private",
                        **(extra or {})})

    def send_status(self, code, message, details=None, extra=None):
        self.send_json(code, status_doc(code, message, details), extra)

    def send_body(self, code, body, content_type, extra):
        """Log the request, then answer it with a Content-Length."""
        self.entry["status"] = code
        self.api.log(self.entry)
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    # -- the endpoints

    def forbidden(self, verb, resource, ns, name=None):
        where = (f"in the namespace \"{ns}\"" if ns is not None
                 else "at the cluster scope")
        subject = f"pods \"{name}\"" if name else "pods"
        details = {"kind": "pods"}
        if name:
            details["name"] = name
        self.send_status(403, f"{subject} is forbidden: User "
                              f"\"{self.api.spec.user}\" cannot {verb} "
                              f"resource \"{resource}\" in API group \"\" "
                              f"{where}", details)

    def is_forbidden(self, ns):
        spec = self.api.spec
        return spec.forbid_all if ns is None else ns in spec.forbidden

    def find_pod(self, ns, name):
        for pod in self.api.spec.pods:
            if pod.key == (ns, name):
                return pod
        return None

    def not_found(self, name):
        self.send_status(404, f"pods \"{name}\" not found",
                         {"name": name, "kind": "pods"})

    def list_pods(self, ns):
        if self.is_forbidden(ns):
            self.forbidden("list", "pods", ns)
            return
        reqs = parse_selector(self.params.get("labelSelector", ""))
        limit_text = self.params.get("limit", "").strip()
        if not limit_text:
            limit = 0
        elif re.fullmatch(r"[0-9]+", limit_text):
            limit = int(limit_text)
        else:
            raise BadRequest(f"limit: Invalid value: \"{limit_text}\": must "
                             f"be a non-negative integer")
        scope = ns if ns is not None else ""
        after = None
        cont = self.params.get("continue", "")
        if cont:
            found = self.api.lookup_continue(cont)
            if found is None:
                raise BadRequest("continue key is not valid: not a continue "
                                 "token issued by this server")
            if found[0] != scope:
                raise BadRequest("continue key is not valid: the token was "
                                 "issued for another list")
            if self.api.expire_now():
                self.send_status(410, EXPIRED_MESSAGE)
                return
            after = found[1]
        pods = [p for p in self.api.spec.pods
                if (ns is None or p.namespace == ns)
                and (after is None or p.key > after)
                and selector_matches(reqs, p.labels)]
        page = pods[:limit] if limit else pods
        meta = {"resourceVersion": RESOURCE_VERSION, "continue": ""}
        if len(page) < len(pods):
            meta["continue"] = self.api.issue_continue(scope, page[-1].key)
            meta["remainingItemCount"] = len(pods) - len(page)
        self.send_json(200, {"kind": "PodList", "apiVersion": "v1",
                             "metadata": meta,
                             "items": [p.obj for p in page]})

    def get_pod(self, ns, name):
        if self.is_forbidden(ns):
            self.forbidden("get", "pods", ns, name)
            return
        pod = self.find_pod(ns, name)
        if pod is None:
            self.not_found(name)
            return
        self.send_json(200, {"kind": "Pod", "apiVersion": "v1", **pod.obj})

    def proxy(self, ns, name_port, rest):
        parts = name_port.split(":")
        scheme, port_text = "http", ""
        if len(parts) == 1:
            name = parts[0]
        elif len(parts) == 2:
            name, port_text = parts
        elif len(parts) == 3 and parts[0] in ("http", "https"):
            scheme, name, port_text = parts
        else:
            raise BadRequest(f"invalid pod request {name_port!r}")
        if not name:
            raise BadRequest(f"invalid pod request {name_port!r}")
        if self.is_forbidden(ns):
            self.forbidden("get", "pods/proxy", ns, name)
            return
        if port_text and not re.fullmatch(r"[0-9]{1,5}", port_text) \
                or port_text and not 1 <= int(port_text) <= 65535:
            raise BadRequest(f"invalid port {port_text!r}: the pod proxy "
                             f"takes a port number")
        pod = self.find_pod(ns, name)
        if pod is None:
            self.not_found(name)
            return
        if not pod.ip:
            self.send_status(503, f"pod \"{name}\" has no IP address "
                                  f"(phase {pod.obj['status']['phase']})",
                             {"name": name, "kind": "pods"})
            return
        port = int(port_text) if port_text else pod.port
        host = f"[{pod.ip}]" if ":" in pod.ip else pod.ip
        url = f"{scheme}://{host}{f':{port}' if port else ''}{rest}"
        if self.raw_query:
            url += "?" + self.raw_query
        self.entry["upstream"] = url
        self.forward(url, scheme == "https", host, port)

    def forward(self, url, https, host, port):
        headers = {"Accept": self.headers.get("Accept", "*/*"),
                   "User-Agent": self.headers.get("User-Agent", "kubeapi")}
        request = urllib.request.Request(url, headers=headers)
        addr = f"{host}:{port or (443 if https else 80)}"
        try:
            try:
                response = proxy_opener(https).open(request,
                                                    timeout=PROXY_TIMEOUT)
            except urllib.error.HTTPError as exc:   # 3xx, 4xx, 5xx: relay
                response = exc
            with response:
                code = response.status if hasattr(response, "status") \
                    else response.code
                content_type = response.headers.get("Content-Type",
                                                    "text/plain")
                location = response.headers.get("Location")
                body = response.read(PROXY_CAP + 1)
                raw = response.fp if isinstance(
                    response, urllib.error.HTTPError) else response
                left = getattr(raw, "length", None)
                if len(body) <= PROXY_CAP and left:   # short of its length
                    raise http.client.IncompleteRead(body, left)
        except Exception as exc:                    # transport failures
            if is_timeout(exc):
                self.send_status(504, f"error trying to reach service: "
                                      f"dial tcp {addr}: i/o timeout")
            else:
                where = "dial" if isinstance(exc, urllib.error.URLError) \
                    else "read"
                self.send_status(502, f"error trying to reach service: "
                                      f"{where} tcp {addr}: "
                                      f"{error_text(exc)}")
            return
        if len(body) > PROXY_CAP:
            body = body[:PROXY_CAP]
            self.entry["truncated"] = True
        extra = {"Location": location} if location else {}
        self.send_body(code, body, content_type, extra)


# ------------------------------------------------------------ the server

class ApiServer(serverkit.Server):
    """The listening socket, one thread per connection."""

    def __init__(self, api):
        self.api = api
        spec = api.spec
        if ":" in spec.addr:
            self.address_family = socket.AF_INET6
        super().__init__((spec.addr, spec.port), ApiHandler, api, "kubeapi")


# ------------------------------------------------------------------ main

class ArgParser(argparse.ArgumentParser):
    def error(self, message):              # one line, exit 2
        self.exit(2, f"kubeapi: {message}\n")


def parse_args(argv):
    parser = ArgParser(
        prog="kubeapi", description="A fake Kubernetes API server on "
        "loopback (see the module docstring of tests/fleet/kubeapi.py).")
    return serverkit.parse_args(parser, argv, "API spec (JSON)")


def main(argv=None):
    args = parse_args(argv)
    stopper = serverkit.Stopper()
    api = None
    try:
        spec = load_spec(args.spec)
        api = Api(spec, args.log)
        try:
            server = ApiServer(api)
        except OSError as exc:
            raise serverkit.bind_error(spec.addr, spec.port, exc) from None
    except SpecError as exc:
        print(f"kubeapi: {exc}", file=sys.stderr)
        if api is not None:
            api.close()
        return 2
    host = f"[{spec.addr}]" if ":" in spec.addr else spec.addr
    print(f"kubeapi: {len(spec.pods)} pods on "
          f"{'https' if spec.ssl_ctx else 'http'}://{host}:{spec.port}",
          file=sys.stderr, flush=True)
    return serverkit.run("kubeapi", args, stopper, api, [server])


if __name__ == "__main__":
    sys.exit(main())
