#!/usr/bin/env python3
"""A fake fleet of pods on loopback, for safedeploy's tests and `make demo`.

Usage:
    tests/fleet/fleet.py --spec SPEC.json [--ready FILE] [--log FILE]
                         [--max-seconds N]

Every pod is an HTTP/1.1 server (keep-alive, threaded) bound to its own
loopback address (127.0.0.2, 127.0.0.3, ...; all of 127.0.0.0/8 reaches `lo`
on Linux without configuration) and the spec's one shared port.

  --spec FILE       the fleet, as JSON (below).
  --ready FILE      once every pod is listening, FILE is written (atomically,
                    temp file + rename) with the line "ready"; it is removed
                    again on exit. Delete it before starting the fleet, then
                    wait for it to appear.
  --log FILE        append one JSON line per request, flushed at once:
                    {"addr": "127.0.0.2", "path": "/x", "method": "GET",
                     "conn": 7}
                    "conn" numbers TCP connections (from 1, across the
                    fleet), so a test can tell whether a client reused one.
  --max-seconds N   exit by itself after N seconds (default 120), so the
                    fleet never outlives a test run.

When all pods listen, "fleet: N pods on port P" is printed to stderr. SIGTERM
or SIGINT (or --max-seconds) closes every socket and exits 0; hung
connections never delay that. A bad spec or command line exits 2 with one
line "fleet: ..." (for instance an unknown behaviour, a bad address, or an
address already in use).

In a test: delete the ready file, start the fleet in the background (in bats,
close fd 3: `fleet.py ... 3>&- &`), poll for the ready file while checking
that the process is alive, and kill the pid when done.

Spec:
    {"port": 18080,
     "tls": {"cert": "cert.pem", "key": "key.pem"},      (optional)
     "pods": [
       {"addr": "127.0.0.2",
        "tls": false,                                    (optional)
        "routes": {"/actuator/info": ROUTE, "/metrics": ROUTE}},
       ...]}

  port    1..65535, shared by every pod.
  tls     PEM certificate and key for the pods with "tls": true (served as
          HTTPS). Relative paths are relative to the spec file's directory.
  addr    an IPv4 loopback address (127.x.y.z), one pod per address.
  routes  path -> ROUTE. The query string is ignored when routing. A path
          without a route gets 404 {"error": "not found", "path": ...}; a
          method other than GET or HEAD gets 405 (and the connection closes).

ROUTE (every key optional):
  status        HTTP status (default 200; 302 for "redirect").
  json          any JSON value, serialized as the body (application/json).
  text          a string body (text/plain); give one of json or text.
  content_type  overrides the content type.
  headers       {"Name": "value", ...}, added to (or replacing) the defaults.
  delay_ms      sleep this long before answering.
  chunked       true: send the body with Transfer-Encoding: chunked instead
                of a Content-Length ("normal", "truncated" and "huge").
  behaviour     one of:
    normal          answer as described (default).
    hang            read the request, never answer; the connection stays
                    open until the fleet stops.
    close-mid-body  send the headers with the full Content-Length, half of
                    the body, then close the connection.
    truncated       send the first half of the body, properly framed (a
                    Content-Length that matches): syntactically cut JSON.
    huge            200 application/json, "huge_bytes" bytes long (default
                    50 MiB), streamed: {"pad":"xxxx... (never closed). Stops
                    quietly if the client goes away.
    redirect        302 with Location: "location" (required).
    reset           read the request, then reset the connection (TCP RST)
                    without answering.
  location      the redirect target (for "redirect").
  huge_bytes    the body size for "huge".
Keys starting with "_" are comments and are ignored anywhere; any other
unknown key is an error (so a misspelt "behavior" is caught).

Example:
    {"port": 18080, "pods": [
      {"addr": "127.0.0.2",
       "routes": {"/actuator/info": {"json": {"build": {"version": "1.4"}}}}},
      {"addr": "127.0.0.3",
       "routes": {"/actuator/info": {"behaviour": "hang"}}}]}
"""
import argparse
import ipaddress
import itertools
import json
import os
import socket
import struct
import sys
import urllib.parse
from dataclasses import dataclass, field

import serverkit
from serverkit import SpecError, check_keys, is_int

BEHAVIOURS = ("normal", "hang", "close-mid-body", "truncated", "huge",
              "redirect", "reset")
HUGE_DEFAULT = 50 * 1024 * 1024
HUGE_PREFIX = b'{"pad":"'
CHUNK = b"x" * 65536
MAX_CONNECTIONS = 2048     # open connections across the fleet, to bound memory
MAX_POST = 1024 * 1024     # the largest request body read
SPEC_KEYS = {"port", "tls", "pods"}
TLS_KEYS = {"cert", "key"}
POD_KEYS = {"addr", "tls", "routes"}
ROUTE_KEYS = {"status", "json", "text", "content_type", "headers", "delay_ms",
              "behaviour", "location", "huge_bytes", "chunked"}


# ---------------------------------------------------------------- the spec

@dataclass
class Route:
    """One compiled ROUTE: everything needed to answer, ready to send."""
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    behaviour: str = "normal"
    location: str = ""
    huge_bytes: int = HUGE_DEFAULT
    chunked: bool = False


@dataclass
class Pod:
    addr: str
    tls: bool
    routes: dict


@dataclass
class Spec:
    port: int
    pods: list
    ssl_ctx: object = None


def parse_body(raw, where):
    """(body bytes, content type) from a route's json/text keys."""
    if "json" in raw and "text" in raw:
        raise SpecError(f"{where}: give one of \"json\" and \"text\"")
    if "json" in raw:
        return json.dumps(raw["json"]).encode(), "application/json"
    text = raw.get("text", "")
    if not isinstance(text, str):
        raise SpecError(f"{where}: \"text\" must be a string")
    return text.encode(), "text/plain"


def parse_headers(raw, where):
    headers = raw.get("headers", {})
    if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in headers.items()):
        raise SpecError(f"{where}: \"headers\" must map strings to strings")
    for name, value in headers.items():
        if not name or any(c in name + value for c in "\r\n") or ":" in name:
            raise SpecError(f"{where}: bad header {name!r}")
    return headers


def parse_route(raw, where):
    """Validate one ROUTE object and compile it into a Route."""
    check_keys(raw, ROUTE_KEYS, where)
    behaviour = raw.get("behaviour", "normal")
    if behaviour not in BEHAVIOURS:
        raise SpecError(f"{where}: unknown behaviour {behaviour!r} "
                        f"(known: {', '.join(BEHAVIOURS)})")
    status = raw.get("status", 302 if behaviour == "redirect" else 200)
    if not is_int(status) or not 100 <= status <= 599:
        raise SpecError(f"{where}: \"status\" must be an integer 100..599")
    body, content_type = parse_body(raw, where)
    content_type = raw.get("content_type", content_type)
    if not isinstance(content_type, str):
        raise SpecError(f"{where}: \"content_type\" must be a string")
    delay_ms = raw.get("delay_ms", 0)
    if not isinstance(delay_ms, (int, float)) or isinstance(delay_ms, bool) \
            or delay_ms < 0:
        raise SpecError(f"{where}: \"delay_ms\" must be a number >= 0")
    location = raw.get("location", "")
    if behaviour == "redirect" and (not isinstance(location, str)
                                    or not location):
        raise SpecError(f"{where}: \"redirect\" needs a \"location\" string")
    huge_bytes = raw.get("huge_bytes", HUGE_DEFAULT)
    if not is_int(huge_bytes) or huge_bytes < 0:
        raise SpecError(f"{where}: \"huge_bytes\" must be an integer >= 0")
    chunked = raw.get("chunked", False)
    if not isinstance(chunked, bool):
        raise SpecError(f"{where}: \"chunked\" must be true or false")
    return Route(status=status, body=body, content_type=content_type,
                 headers=parse_headers(raw, where), delay=delay_ms / 1000.0,
                 behaviour=behaviour, location=location,
                 huge_bytes=huge_bytes, chunked=chunked)


def parse_addr(raw, where):
    if not isinstance(raw, str):
        raise SpecError(f"{where}: \"addr\" missing or not a string")
    try:
        addr = ipaddress.IPv4Address(raw)
    except ValueError:
        raise SpecError(f"{where}: bad address {raw!r}") from None
    if not addr.is_loopback:
        raise SpecError(f"{where}: address {raw} is not loopback (127.x.y.z)")
    return str(addr)


def parse_pod(raw, index):
    where = f"pods[{index}]"
    check_keys(raw, POD_KEYS, where)
    addr = parse_addr(raw.get("addr"), where)
    where = f"pod {addr}"
    tls = raw.get("tls", False)
    if not isinstance(tls, bool):
        raise SpecError(f"{where}: \"tls\" must be true or false")
    routes = raw.get("routes", {})
    if not isinstance(routes, dict):
        raise SpecError(f"{where}: \"routes\" must be a JSON object")
    compiled = {}
    for path, route in routes.items():
        if not path.startswith("/"):
            raise SpecError(f"{where}: route {path!r} must start with /")
        compiled[path] = parse_route(route, f"{where} route {path}")
    return Pod(addr=addr, tls=tls, routes=compiled)


def load_spec(path):
    """Read, validate and compile the spec file."""
    raw = serverkit.read_json(path)
    check_keys(raw, SPEC_KEYS, "spec")
    port = serverkit.spec_port(raw)
    pods_raw = raw.get("pods")
    if not isinstance(pods_raw, list) or not pods_raw:
        raise SpecError("spec: \"pods\" must be a non-empty list")
    pods = [parse_pod(pod, i) for i, pod in enumerate(pods_raw)]
    seen = set()
    for pod in pods:
        if pod.addr in seen:
            raise SpecError(f"spec: address {pod.addr} used by two pods")
        seen.add(pod.addr)
    ssl_ctx = None
    if "tls" in raw:
        ssl_ctx = serverkit.load_ssl_context(raw["tls"],
                                             os.path.dirname(path), TLS_KEYS)
    for pod in pods:
        if pod.tls and ssl_ctx is None:
            raise SpecError(f"pod {pod.addr}: \"tls\": true but the spec has "
                            f"no \"tls\" cert and key")
    return Spec(port=port, pods=pods, ssl_ctx=ssl_ctx)


# ------------------------------------------------------ state and logging

class Fleet(serverkit.ServerState):
    """State shared by every pod: the stop flag, connection ids, the log."""

    def __init__(self, log_path):
        super().__init__(log_path, MAX_CONNECTIONS)
        self._ids = itertools.count(1)

    def next_conn_id(self):
        with self._lock:
            return next(self._ids)


# ------------------------------------------------------------ answering

class PodHandler(serverkit.Handler):
    """Answers one TCP (or TLS) connection to a pod, request after request."""

    server_version = "fleet"

    # -- connection set-up and tear-down

    def setup(self):
        self.conn_id = self.server.fleet.next_conn_id()
        self.tls = self.server.ssl_ctx is not None
        if self.tls:
            self.request.settimeout(self.timeout)
            self.request = self.server.ssl_ctx.wrap_socket(
                self.request, server_side=True)
        super().setup()

    # -- dispatch

    def do_GET(self):
        self.answer(head=False)

    def do_HEAD(self):
        self.answer(head=True)

    def do_POST(self):
        """Like GET, once the body (at most MAX_POST bytes, by
        Content-Length) is read; the log line carries it and the headers
        whose names start with X-."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_POST:
            self.close_connection = True
            self.send_body(413, b"{}", "application/json",
                           {"Connection": "close"})
            return
        self.posted = self.rfile.read(length).decode("utf-8", "replace")
        self.answer(head=False)

    def __getattr__(self, name):
        if name.startswith("do_"):           # any other method
            return self.refuse_method
        raise AttributeError(name)

    def route_path(self):
        """The request's path: no query string, no scheme and host."""
        target = self.path
        if not target.startswith("/"):           # absolute form, or junk
            target = urllib.parse.urlsplit(target).path or "/"
        return target.split("?", 1)[0].split("#", 1)[0]

    def record(self, path):
        line = {"addr": self.server.pod.addr, "path": path,
                "method": self.command, "conn": self.conn_id}
        if getattr(self, "posted", None) is not None:
            line["body"] = self.posted
            self.posted = None
        extra = {k: v for k, v in self.headers.items()
                 if k.lower().startswith("x-")
                 or k.lower() == "idempotency-key"}
        if extra:
            line["headers"] = extra
        self.server.fleet.log(line)

    def refuse_method(self):
        self.record(self.route_path())
        body = json.dumps({"error": "method not allowed"}).encode()
        self.send_body(405, body, "application/json",
                       {"Allow": "GET, HEAD, POST", "Connection": "close"})

    def answer(self, head):
        path = self.route_path()
        self.record(path)
        route = self.server.pod.routes.get(path)
        if route is None:
            body = json.dumps({"error": "not found", "path": path}).encode()
            self.send_body(404, body, "application/json", {}, head=head)
            return
        if route.behaviour == "hang":
            self.hang()
            return
        if route.delay and self.server.fleet.stop.wait(route.delay):
            self.close_connection = True
            return
        BEHAVIOUR_METHODS[route.behaviour](self, route, head)

    # -- writing

    def send_head(self, status, headers):
        """Status line and headers; headers is an ordered name -> value map."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def merged_headers(self, defaults, extra):
        """defaults updated by extra, header names compared case-blind."""
        headers = dict(defaults)
        for name, value in extra.items():
            for old in [k for k in headers if k.lower() == name.lower()]:
                del headers[old]
            headers[name] = value
        return headers

    def send_body(self, status, body, content_type, extra, head=False,
                  chunked=False):
        framing = ({"Transfer-Encoding": "chunked"} if chunked
                   else {"Content-Length": str(len(body))})
        headers = self.merged_headers(
            {"Content-Type": content_type, **framing}, extra)
        self.send_head(status, headers)
        if head:
            return
        if chunked:
            self.write_chunked([body])
        else:
            self.wfile.write(body)

    def write_chunked(self, pieces):
        for piece in pieces:
            if piece:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    # -- the behaviours

    def normal(self, route, head):
        self.send_body(route.status, route.body, route.content_type,
                       route.headers, head, route.chunked)

    def truncated(self, route, head):
        self.send_body(route.status, route.body[:len(route.body) // 2],
                       route.content_type, route.headers, head, route.chunked)

    def close_mid_body(self, route, head):
        body = route.body if len(route.body) >= 2 else \
            HUGE_PREFIX + b"x" * 56 + b'"}'
        headers = self.merged_headers(
            {"Content-Type": route.content_type,
             "Content-Length": str(len(body))}, route.headers)
        self.send_head(route.status, headers)
        if not head:
            self.wfile.write(body[:len(body) // 2])
        self.close_connection = True

    def redirect(self, route, head):
        extra = self.merged_headers({"Location": route.location},
                                    route.headers)
        self.send_body(route.status, route.body, route.content_type, extra,
                       head)

    def huge(self, route, head):
        total = route.huge_bytes
        framing = ({"Transfer-Encoding": "chunked"} if route.chunked
                   else {"Content-Length": str(total)})
        headers = self.merged_headers(
            {"Content-Type": "application/json", **framing}, route.headers)
        self.send_head(route.status, headers)
        if head:
            return
        pieces = huge_pieces(total)
        if route.chunked:
            self.write_chunked(pieces)
        else:
            for piece in pieces:
                self.wfile.write(piece)

    def hang(self):
        """Say nothing until the fleet stops or the client goes away."""
        self.close_connection = True
        self.connection.settimeout(0.25)
        while not self.server.fleet.stop.is_set():
            try:
                if not self.connection.recv(4096):   # client closed
                    return
            except TimeoutError:
                continue

    def reset(self, route, head):
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()


BEHAVIOUR_METHODS = {
    "normal": PodHandler.normal,
    "truncated": PodHandler.truncated,
    "close-mid-body": PodHandler.close_mid_body,
    "redirect": PodHandler.redirect,
    "huge": PodHandler.huge,
    "reset": PodHandler.reset,
}


def huge_pieces(total):
    """The body of a "huge" answer, total bytes, as a stream of pieces."""
    yield HUGE_PREFIX[:total]
    left = total - min(total, len(HUGE_PREFIX))
    view = memoryview(CHUNK)
    while left > 0:
        n = min(left, len(CHUNK))
        yield view[:n]
        left -= n


# ------------------------------------------------------------ the servers

class PodServer(serverkit.Server):
    """One pod's listening socket, one thread per connection."""

    def __init__(self, pod, port, ssl_ctx, fleet):
        self.pod = pod
        self.fleet = fleet
        self.ssl_ctx = ssl_ctx if pod.tls else None
        super().__init__((pod.addr, port), PodHandler, fleet,
                         f"fleet: {pod.addr}")


def start_servers(spec, fleet):
    """Bind and listen on every pod's address, or close them all and fail."""
    servers = []
    try:
        for pod in spec.pods:
            try:
                servers.append(PodServer(pod, spec.port, spec.ssl_ctx, fleet))
            except OSError as exc:
                raise serverkit.bind_error(pod.addr, spec.port, exc) from None
    except SpecError:
        for server in servers:
            server.server_close()
        raise
    return servers


# ------------------------------------------------------------------ main

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="fleet", description="A fake fleet of HTTP pods on loopback "
        "(see the module docstring of tests/fleet/fleet.py).")
    return serverkit.parse_args(parser, argv, "fleet spec (JSON)")


def main(argv=None):
    args = parse_args(argv)
    stopper = serverkit.Stopper()
    try:
        spec = load_spec(args.spec)
        fleet = Fleet(args.log)
        servers = start_servers(spec, fleet)
    except SpecError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return 2
    print(f"fleet: {len(servers)} pods on port {spec.port}", file=sys.stderr,
          flush=True)
    return serverkit.run("fleet", args, stopper, fleet, servers)


if __name__ == "__main__":
    sys.exit(main())
