"""Plumbing shared by the test servers tests/fleet/fleet.py and kubeapi.py.

Not a program: both scripts `import serverkit` (Python puts a script's own
directory first on sys.path). It holds what the two have in common: spec
reading and checking (SpecError, check_keys, read_json, the port, the TLS
certificate), the command line (--spec, --ready, --log, --max-seconds), the
JSON-lines request log and connection cap (ServerState), the threaded server
and handler base classes, and the run loop (ready file, signals, deadline).
Messages a program prints itself start with its name, passed in as prog.
"""
import errno
import json
import os
import selectors
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler

IDLE_TIMEOUT = 60          # seconds a connection may sit idle or stalled


class SpecError(Exception):
    """A problem with the spec or the command line: reported, exit 2."""


# ---------------------------------------------------------------- the spec

def check_keys(obj, allowed, where):
    """Fail on keys not in allowed (comments, "_..." keys, are fine)."""
    if not isinstance(obj, dict):
        raise SpecError(f"{where}: must be a JSON object")
    for key in obj:
        if key not in allowed and not key.startswith("_"):
            raise SpecError(f"{where}: unknown key {key!r}")


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def read_json(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise SpecError(f"{path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SpecError(f"{path}: not valid JSON: {exc}") from None


def spec_port(raw):
    """The spec's required "port", 1..65535."""
    port = raw.get("port")
    if port is None:
        raise SpecError("spec: missing \"port\"")
    if not is_int(port) or not 1 <= port <= 65535:
        raise SpecError(f"spec: bad port {port!r} (want 1..65535)")
    return port


def load_ssl_context(raw, spec_dir, allowed):
    """A server-side SSLContext from the spec's "tls" object (whose keys
    must be in allowed): its "cert" and "key", relative to spec_dir."""
    check_keys(raw, allowed, "tls")
    paths = []
    for key in ("cert", "key"):
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            raise SpecError(f"tls: \"{key}\" missing or not a string")
        paths.append(os.path.join(spec_dir, value))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_alpn_protocols(["http/1.1"])
    try:
        ctx.load_cert_chain(paths[0], paths[1])
    except (OSError, ssl.SSLError) as exc:
        raise SpecError(f"tls: cannot load {paths[0]} / {paths[1]}: "
                        f"{exc.strerror or exc}") from None
    return ctx


# ------------------------------------------------------------ the command

def parse_args(parser, argv, spec_help):
    """--spec, --ready, --log and --max-seconds, parsed by parser."""
    parser.add_argument("--spec", required=True, help=spec_help)
    parser.add_argument("--ready", help="file to write 'ready' to")
    parser.add_argument("--log", help="append one JSON line per request")
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="exit after this many seconds (default 120)")
    args = parser.parse_args(argv)
    if not args.max_seconds > 0:
        parser.error("--max-seconds must be > 0")
    return args


# ------------------------------------------------------ state and logging

class ServerState:
    """The stop flag, the connection slots, and the JSON-lines log (one
    line per request, flushed at once); _lock guards the log and is free
    for a subclass's own state."""

    def __init__(self, log_path, max_connections):
        self.stop = threading.Event()
        self.slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._log = None
        if log_path:
            try:
                self._log = open(log_path, "a", encoding="utf-8")
            except OSError as exc:
                raise SpecError(f"{log_path}: {exc.strerror}") from None

    def log(self, entry):
        line = json.dumps(entry) + "\n"
        with self._lock:
            if self._log is not None:
                self._log.write(line)
                self._log.flush()

    def close(self):
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None


# ------------------------------------------------------------ the servers

class Handler(BaseHTTPRequestHandler):
    """One keep-alive connection, request after request; silent about
    clients that go away. setup() sets self.tls (the socket it wraps is
    closed at the end) and server_version names the Server header."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    wbufsize = 65536       # headers and a small body leave in one segment
    tls = False

    def handle(self):
        try:
            super().handle()
        except OSError:            # client went away, reset, timeout, TLS
            self.close_connection = True

    def finish(self):
        try:
            super().finish()
        finally:
            if self.tls:           # the server only knows the plain socket
                self.connection.close()

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):    # quiet: --log records requests
        pass


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One listening socket, one thread per connection (daemon threads), at
    most state.slots connections open; serve() calls accept_one. Internal
    errors are printed after "LABEL: internal error:"."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler, state, label):
        self.state = state
        self.label = label
        super().__init__(address, handler)
        self.socket.setblocking(False)

    def accept_one(self):
        """Accept one waiting connection and hand it to a new thread."""
        try:
            sock, client = self.socket.accept()
        except OSError:            # nothing waiting after all, or EMFILE
            return
        if not self.state.slots.acquire(blocking=False):
            sock.close()
            return
        sock.settimeout(IDLE_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.process_request(sock, client)
        except Exception:
            self.shutdown_request(sock)

    def shutdown_request(self, request):
        try:
            super().shutdown_request(request)
        finally:
            self.state.slots.release()

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):   # disconnects, TLS
            return
        print(f"{self.label}: internal error:", file=sys.stderr)
        traceback.print_exc()


def bind_error(addr, port, exc):
    reasons = {errno.EADDRINUSE: "address already in use",
               errno.EADDRNOTAVAIL: "cannot assign requested address",
               errno.EACCES: "permission denied"}
    return SpecError(f"{addr}:{port}: "
                     f"{reasons.get(exc.errno, exc.strerror or exc)}")


# ------------------------------------------------------------ running

def write_ready(path, prog):
    """Write "ready" to path atomically; False (and a message) on failure."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("ready\n")
        os.replace(tmp, path)
    except OSError as exc:
        print(f"{prog}: {path}: {exc.strerror}", file=sys.stderr)
        remove_quietly(tmp)
        return False
    return True


def remove_quietly(path):
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


class Stopper:
    """Turns SIGTERM/SIGINT into a flag plus a wake-up of the accept loop."""

    def __init__(self):
        self.signalled = None
        self.wake_r, self.wake_w = socket.socketpair()
        for sock in (self.wake_r, self.wake_w):
            sock.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.on_signal)

    def on_signal(self, signum, frame):
        self.signalled = signum

    def drain(self):
        try:
            while self.wake_r.recv(64):
                pass
        except OSError:
            pass


def serve(servers, stopper, max_seconds, prog):
    """Accept connections on every server until a signal or the deadline."""
    deadline = time.monotonic() + max_seconds
    with selectors.DefaultSelector() as sel:
        sel.register(stopper.wake_r, selectors.EVENT_READ, None)
        for server in servers:
            sel.register(server.socket, selectors.EVENT_READ, server)
        while stopper.signalled is None:
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"{prog}: --max-seconds {max_seconds:g} reached, "
                      f"stopping", file=sys.stderr)
                return
            for key, _ in sel.select(left):
                if key.data is None:
                    stopper.drain()
                else:
                    key.data.accept_one()


def run(prog, args, stopper, state, servers):
    """Write the ready file, serve until stopped, then close everything.
    The exit status: 0, or 2 when the ready file cannot be written."""
    try:
        if args.ready and not write_ready(args.ready, prog):
            return 2
        serve(servers, stopper, args.max_seconds, prog)
    finally:
        state.stop.set()           # wakes hung and delayed answers
        for server in servers:
            server.server_close()
        remove_quietly(args.ready)
        state.close()
    return 0
