#!/usr/bin/env python3
"""Hostile API server replies against plan, apply, status and history (issue 13).

A small scripted HTTPS server stands in for the API server: it answers like a
bare cluster (discovery, empty release store, dry-run and real applies echoed
back) except for the requests a case picks, which get a hostile reply:
truncated or deeply nested JSON, the wrong kind, a Status whose
message carries the bearer token, discovery that loops, redirects to another
host, invalid UTF-8, storms of 1xx, 3xx and 429.

Each case x command must end with exit 2 or 4 (or what the table says) and a message
naming the API server, the request or the object, within its time and
memory bounds, print
neither the planted token nor the planted secret value, send no request that
could change the cluster from plan, status or history, send nothing to the
other host a redirect names, and stay within a request bound.
Scenarios beyond the table (SCENARIOS): a watch event over the reply limit
(the wait falls back to polling) and a reply over the real 256 MiB default.

Runs $KSTAGE_ASAN_BIN (else $KSTAGE_BIN, else build/asan/kstage).
    python3 tests/cli/hostile_api.py [CASE-PREFIX...]
Ends with `hostile-api: N passed, N failed`."""
import datetime
import http.server
import ipaddress
import json
import os
import re
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = next((p for p in (os.environ.get("KSTAGE_ASAN_BIN"), os.environ.get("KSTAGE_BIN"),
                        os.path.join(ROOT, "build/asan/kstage")) if p and os.path.exists(p)), None)
TOKEN = "Zmarker-token-7f3a"          # the kubeconfig's bearer token
SECRET = "Zmarker-secret-91c2"        # a --set-secret value rendered into a Secret
COMMANDS = ("plan", "apply", "status", "history")


# ---- certificates -------------------------------------------------------------

def make_certs(d):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile-api test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.2")),
                                                        x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {}
    for name, data in (("ca.crt", ca.public_bytes(serialization.Encoding.PEM)),
                       ("tls.crt", cert.public_bytes(serialization.Encoding.PEM)),
                       ("tls.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))):
        paths[name] = os.path.join(d, name)
        with open(paths[name], "wb") as f:
            f.write(data)
    return paths


# ---- the bare cluster ------------------------------------------------------------

RESOURCES = {
    "/api/v1": ("v1", [("namespaces", "Namespace", False), ("configmaps", "ConfigMap", True),
                       ("secrets", "Secret", True), ("serviceaccounts", "ServiceAccount", True)]),
    "/apis/coordination.k8s.io/v1": ("coordination.k8s.io/v1", [("leases", "Lease", True)]),
    "/apis/authorization.k8s.io/v1": ("authorization.k8s.io/v1",
                                      [("selfsubjectaccessreviews", "SelfSubjectAccessReview", False)]),
}
GROUPS = ["coordination.k8s.io", "authorization.k8s.io"]


def status(code, reason, message):
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": message, "reason": reason, "code": code}


def merge(dst, src):
    """JSON merge patch (RFC 7386)."""
    if not isinstance(src, dict):
        return src
    dst = dict(dst) if isinstance(dst, dict) else {}
    for k, v in src.items():
        if v is None:
            dst.pop(k, None)
        else:
            dst[k] = merge(dst.get(k), v)
    return dst


def selects(labels, term):
    """One term of a label selector: k=v, k==v, k!=v, k, !k."""
    m = re.match(r"^(!?)([^=!]+)(?:(==|=|!=)(.*))?$", term)
    neg, k, op, v = m.groups()
    if not op:
        return (k in labels) != bool(neg)
    return (labels.get(k) == v) == (op != "!=")


class Store:
    """The objects of the bare cluster, by path."""

    def __init__(self):
        self.objs = {}
        self.rv = 1
        self.lock = threading.Lock()

    def answer(self, method, path, query, body):
        with self.lock:
            return self._answer(method, path, query, body)

    def _answer(self, method, path, query, body):
        """(code, JSON value) as a bare cluster would answer."""
        if method == "GET" and path == "/version":
            return 200, {"major": "1", "minor": "36", "gitVersion": "v1.36.3", "platform": "linux/amd64"}
        if method == "GET" and path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if method == "GET" and path == "/apis":
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": g + "/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": g + "/v1", "version": "v1"}} for g in GROUPS]}
        if method == "GET" and path in RESOURCES:
            gv, res = RESOURCES[path]
            return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": [
                {"name": n, "singularName": k.lower(), "namespaced": ns, "kind": k,
                 "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]} for n, k, ns in res]}
        if path.endswith("/selfsubjectaccessreviews"):
            return 201, {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                         "spec": (body or {}).get("spec", {}), "status": {"allowed": True}}
        parts = path.strip("/").split("/")
        q = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv)
        dry = q.get("dryRun") == "All"
        if len(parts) % 2 == (1 if parts[0] == "api" else 0):     # a collection
            if method == "GET":
                sel = [t for t in urllib.parse.unquote(q.get("labelSelector", "")).split(",") if t]
                items = [o for p, o in sorted(self.objs.items()) if p.rsplit("/", 1)[0] == path and
                         all(selects(o["metadata"].get("labels") or {}, t) for t in sel)]
                kind = {"secrets": "SecretList", "configmaps": "ConfigMapList", "leases": "LeaseList"}.get(parts[-1], "List")
                return 200, {"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": str(self.rv)},
                             "items": items}
            if method == "POST":
                obj = body if isinstance(body, dict) else {}
                name = (obj.get("metadata") or {}).get("name", "")
                if path + "/" + name in self.objs:
                    return status(409, "AlreadyExists", f'{parts[-1]} "{name}" already exists')
                return self.put(path + "/" + name, obj, dry, 201)
            return status(405, "MethodNotAllowed", "no")
        cur = self.objs.get(path)
        if method == "GET":
            return (200, cur) if cur else status(404, "NotFound", f'{parts[-2]} "{parts[-1]}" not found')
        if method == "DELETE":
            if not cur:
                return status(404, "NotFound", f'{parts[-2]} "{parts[-1]}" not found')
            if not dry:
                del self.objs[path]
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}}
        obj = body if isinstance(body, dict) else {}
        if method == "PATCH" and cur is not None:
            obj = merge(cur, obj)
        obj.setdefault("metadata", {})["name"] = parts[-1]
        return self.put(path, obj, dry, 201 if cur is None and method == "PATCH" else 200)

    def put(self, path, obj, dry, code):
        md = obj.setdefault("metadata", {})
        self.rv += 1
        md["resourceVersion"] = str(self.rv)
        md.setdefault("uid", "00000000-0000-0000-0000-%012d" % self.rv)
        md.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        if not dry:
            self.objs[path] = json.loads(json.dumps(obj))
        return code, obj


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(host, certs, case, store=None):
    """Start the server on host (port chosen); returns (server, log)."""
    log = []
    store = store or Store()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle_one(self):
            u = self.path.split("?", 1)
            path, query = u[0], (u[1] if len(u) > 1 else "")
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            log.append((self.command, path, query, self.headers.get("Authorization", "")))
            hostile = case.get("reply")
            if hostile and re.search(case["match"], f"{self.command} {path}") and \
                    (not case.get("nth") or sum(1 for m, p, _, _ in log
                                                if re.search(case["match"], f"{m} {p}")) >= case["nth"]):
                hostile(self, path)
                return
            code, value = store.answer(self.command, path, query, body)
            self.send_json(code, value)

        def send_json(self, code, value, extra=()):
            data = json.dumps(value).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def raw(self, data):
            self.wfile.write(data)
            self.wfile.flush()

        def close_now(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_one

    srv = Server((host, 0), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs["tls.crt"], certs["tls.key"])
    ctx.set_alpn_protocols(["http/1.1"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, log


# ---- hostile replies -----------------------------------------------------------------

def body(ctype, data, code=200, extra=()):
    def reply(h, path):
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
    return reply


def informational_storm(h, path):
    """1xx interim answers without end."""
    try:
        for _ in range(2000000):
            h.raw(b"HTTP/1.1 102 Processing\r\nX-A: " + b"a" * 64 + b"\r\n\r\n")
    except OSError:
        pass


def trickle(head, rest, every):
    """Send head at once, then rest a byte every `every` seconds (a slow
    loris), then nothing: until the client goes away or a minute has passed."""
    def reply(h, path):
        t0 = time.monotonic()
        try:
            h.raw(head)
            for i in range(len(rest)):
                if time.monotonic() - t0 > 60:
                    break
                time.sleep(every)
                h.raw(rest[i:i + 1])
            h.connection.settimeout(1)
            while time.monotonic() - t0 < 60:
                try:
                    if not h.connection.recv(1):
                        break
                except (socket.timeout, ssl.SSLWantReadError):
                    pass
        except (OSError, ValueError):
            pass
        h.close_now()
    return reply


def chunked(data, chunk=1 << 16):
    """data in chunks, with no Content-Length (its size shows only as it comes)."""
    def reply(h, path):
        try:
            h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(data), chunk):
                part = data[i:i + chunk]
                h.raw(b"%x\r\n" % len(part) + part + b"\r\n")
            h.raw(b"0\r\n\r\n")
        except OSError:
            pass
    return reply


def gzip_bomb(size):
    """A small gzip body that inflates to size bytes of JSON."""
    import zlib
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = z.compress(b'{"kind":"APIResourceList","groupVersion":"v1","x":"')
    block = b" " * (1 << 20)
    for _ in range(size >> 20):
        data += z.compress(block)
    data += z.compress(b'"}') + z.flush()
    return body(J, data, 200, (("Content-Encoding", "gzip"),))


def redirect_to(url_of):
    def reply(h, path):
        h.send_response(302)
        h.send_header("Location", url_of(path))
        h.send_header("Content-Length", "0")
        h.end_headers()
    return reply


RESOURCE_LIST = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": [
    {"name": n, "singularName": k.lower(), "namespaced": ns, "kind": k, "verbs": ["get", "list", "patch"]}
    for n, k, ns in RESOURCES["/api/v1"][1]]}


def nested(depth):
    return b'{"kind":"Status","details":' + b"[" * depth + b"]" * depth + b"}"


def padded(value, size):
    """value (a JSON object) with a filler field, size bytes in all."""
    data = json.dumps(value).encode()
    return data[:-1] + b', "filler": "' + b"x" * (size - len(data) - 14) + b'"}'


def status_json(code, reason, message):
    return json.dumps(status(code, reason, message)[1]).encode()


J = "application/json"
# a located message names the API server, the request's path or the object
LOCATED = (r"/apis?\b|/version\b|127\.0\.0\.1:\d+|API server|\b[A-Z][A-Za-z]+/[a-z0-9.-]+/[a-z0-9.-]+"
           r'|in namespace "')
OTHER = {}   # "url": the other host's base URL, filled in per case
# a request cut by the stall limit: attempts, time, and the limit named
STALLED = (r"cluster unreachable after \d+ attempts? in [\d.]+ s[^:]*, \d+ of them stalled \(KSTAGE_HTTP_STALL_SECONDS\): "
           r"GET https://127\.0\.0\.1:\d+/api/v1: "
           r"|cluster unreachable after \d+ attempts? in [\d.]+ s[^:]*: GET https://127\.0\.0\.1:\d+/api/v1: "
           r"the reply stalled: .*\(KSTAGE_HTTP_STALL_SECONDS\)")

CASES = [
    # name, match (METHOD path regex), reply, exit codes per command (None: not run), bounds
    {"name": "truncated-discovery", "match": r"^GET /api/v1$",
     "reply": body(J, b'{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"configm')},
    {"name": "truncated-release-list", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, b'{"kind":"SecretList","items":[{"metadata":{"name":"kstage.v1.b')},
    {"name": "wrong-kind-discovery", "match": r"^GET /api/v1$",
     "reply": body(J, b'{"kind":"Secret","apiVersion":"v1","data":{"x":"eA=="},"resources":"not a list"}')},
    {"name": "wrong-kind-release-list", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, b'{"kind":"ConfigMapList","items":["a",1,null,{"metadata":"x"}]}')},
    {"name": "wrong-kind-apply-answer", "match": r"^PATCH /api/v1/namespaces/[^/]+/configmaps/",
     "reply": body(J, b'[1,2,3]')},
    {"name": "status-token-in-message", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, status_json(403, "Forbidden", f"user with token {TOKEN} cannot list secrets"), 403),
     "exits": {"plan": (0,)}},   # plan goes on, warning that deletions are not planned
    {"name": "status-secret-in-message", "match": r"^PATCH /api/v1/namespaces/[^/]+/secrets/",
     "reply": body(J, status_json(422, "Invalid", f"Secret is invalid: data.k: {SECRET} is not allowed"), 422),
     "exits": {"apply": (1,)}},   # ConfigMap c1 was applied first: failed and rolled back cleanly
    {"name": "discovery-loop", "match": r"^GET /apis$",
     "reply": body(J, json.dumps({"kind": "APIGroupList", "groups": [
         {"name": f"g{i}.example", "versions": [{"groupVersion": "v1", "version": "v1"}],
          "preferredVersion": {"groupVersion": "v1", "version": "v1"}} for i in range(5000)]}).encode())},
    {"name": "redirect-loop", "match": r"^GET /api$", "reply": redirect_to(lambda p: p)},
    {"name": "redirect-other-host", "match": r"^GET ", "reply": redirect_to(lambda p: OTHER["url"] + p)},
    {"name": "redirect-other-host-write", "match": r"^PATCH ", "reply": redirect_to(lambda p: OTHER["url"] + p)},
    {"name": "invalid-utf8-status", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, b'{"kind":"Status","code":500,"reason":"InternalError","message":"bad \xff\xfe\xc0\xaf '
                      b'\xed\xa0\x80 \x1b[31mred\x1b[0m \r\nX-Injected: 1"}', 500),
     "env": {"KSTAGE_HTTP_DEADLINE_SECONDS": "6"}},   # a 500 that stays: retried until the deadline
    {"name": "invalid-utf8-discovery", "match": r"^GET /api/v1$",
     "reply": body(J, b'{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"config\xffmaps",'
                      b'"kind":"Config\xc0Map","namespaced":true,"verbs":["get"]}]}')},
    {"name": "deep-json", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$", "reply": body(J, nested(1000000), 500),
     "env": {"KSTAGE_HTTP_DEADLINE_SECONDS": "6"}},
    {"name": "deep-json-discovery", "match": r"^GET /api/v1$",
     "reply": body(J, b'{"kind":"APIResourceList","resources":' + b"[" * 200000 + b"]" * 200000 + b"}")},
    {"name": "informational-storm", "match": r"^GET /api/v1$", "reply": informational_storm},
    {"name": "too-many-requests-storm", "match": r"^GET ",
     "reply": body(J, status_json(429, "TooManyRequests", "slow down"), 429, (("Retry-After", "1"),)),
     "env": {"KSTAGE_HTTP_DEADLINE_SECONDS": "6"}, "max_seconds": 30},   # the retries end at the deadline
    # further hostile replies (issue 13: classes the probe did not try)
    {"name": "warning-header-token", "match": r"^GET /api/v1$",
     "reply": body(J, json.dumps(RESOURCE_LIST).encode(), 200,
                   (("Warning", f'299 - "token {TOKEN} \x1b[31mred\x1b[0m"'),)),
     "exits": {c: (0,) for c in COMMANDS}},
    {"name": "status-secret-in-causes", "match": r"^PATCH /api/v1/namespaces/[^/]+/secrets/",
     "reply": body(J, json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 422,
                                  "reason": "Invalid", "message": "invalid",
                                  "details": {"name": SECRET, "causes": [
                                      {"reason": "FieldValueInvalid", "field": "data.k",
                                       "message": f"Invalid value: {SECRET}"}]}}).encode(), 422),
     "exits": {"apply": (1,)}},   # as above: c1 applied, then rolled back
    {"name": "status-huge-message", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, status_json(403, "Forbidden", "x" * (1 << 20) + TOKEN), 403),
     "exits": {"plan": (0,)}},
    {"name": "unauthorized-token-in-message", "match": r"^GET ",
     "reply": body(J, status_json(401, "Unauthorized", f"bad token {TOKEN}"), 401)},
    {"name": "server-error-storm", "match": r"^GET /api$",
     "reply": body(J, status_json(500, "InternalError", "boom"), 500),
     "env": {"KSTAGE_HTTP_DEADLINE_SECONDS": "6"}},
    {"name": "close-without-answer", "match": r"^GET /api/v1$", "reply": lambda h, p: h.close_now()},
    {"name": "garbage-status-line", "match": r"^GET /api/v1$",
     "reply": lambda h, p: h.raw(b"garbage\r\n\r\n{}") or h.close_now()},
    {"name": "content-length-short", "match": r"^GET /api/v1$",
     "reply": lambda h, p: h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
                                 + json.dumps(RESOURCE_LIST).encode()) or h.close_now()},
    {"name": "content-length-long", "match": r"^GET /api/v1$",
     "reply": lambda h, p: h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                                 b'{"kind":"APIResourceList"') or h.close_now()},
    {"name": "huge-header", "match": r"^GET /api/v1$",
     "reply": body(J, json.dumps(RESOURCE_LIST).encode(), 200, (("X-Big", "a" * 300000),))},
    {"name": "yaml-content-type", "match": r"^GET /api/v1$",
     "reply": body("application/yaml", b"kind: APIResourceList\nresources: []\n")},
    {"name": "duplicate-keys", "match": r"^GET /api/v1$",
     "reply": body(J, b'{"kind":"APIResourceList","resources":[],"resources":"x","kind":"Secret"}')},
    {"name": "number-overflow", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, b'{"kind":"SecretList","metadata":{"resourceVersion":1e999999},"items":[{"metadata":'
                      b'{"name":"kstage.v1.hostile.v1","labels":{"revision":"99999999999999999999999"}}}]}')},
    {"name": "discovery-resource-path-escape", "match": r"^GET /api/v1$",
     "reply": body(J, json.dumps({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
         {"name": "../../../api/v1/namespaces/default/secrets", "kind": "ConfigMap", "namespaced": True,
          "verbs": ["get", "patch"]},
         {"name": "secrets?dryRun=None#", "kind": "Secret", "namespaced": True, "verbs": ["get", "patch"]}]}).encode()),
     # resource names that are not names make the answer a bad one: refused naming the path
     },
    {"name": "apply-answer-other-name", "match": r"^PATCH /api/v1/namespaces/[^/]+/configmaps/",
     "reply": body(J, b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"someone-else","namespace":"kube-system"}}')},
    {"name": "apply-answer-empty", "match": r"^PATCH /api/v1/namespaces/[^/]+/configmaps/", "reply": body(J, b"", 201)},
    {"name": "redirect-downgrade-http", "match": r"^GET /api$",
     "reply": redirect_to(lambda p: OTHER["url"].replace("https:", "http:") + p)},
    {"name": "redirect-relative-loop", "match": r"^GET /api/v1$", "reply": redirect_to(lambda p: p + "?again=1")},
    {"name": "release-list-huge-name", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, json.dumps({"kind": "SecretList", "items": [
         {"metadata": {"name": "kstage.v1.hostile.v1" + "x" * 100000,
                       "labels": {"owner": "kstage", "name": "hostile", "revision": "1", "status": "deployed"}},
          "data": {"release": "AAAA"}}]}).encode()),
     # a record named otherwise than its labels say is corrupt: every command refuses the history
     },
    {"name": "release-list-misnamed", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, json.dumps({"kind": "SecretList", "items": [
         {"metadata": {"name": "kstage.v1.hostile.v7",
                       "labels": {"owner": "kstage", "name": "hostile", "revision": "1", "status": "deployed"}},
          "data": {"release": "AAAA"}},
         {"metadata": {"name": "kstage.v1.other.v1",
                       "labels": {"owner": "kstage", "name": "hostile", "revision": "2", "status": "deployed"}},
          "data": {"release": "AAAA"}}]}).encode())},
    {"name": "access-review-string", "match": r"selfsubjectaccessreviews$",
     "reply": body(J, b'{"kind":"SelfSubjectAccessReview","status":{"allowed":"true","reason":"' + TOKEN.encode() + b'"}}', 201)},
    {"name": "escape-sequences-in-status", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, status_json(403, "Forbidden", "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\rforged line"), 403),
     "exits": {"plan": (0,)}},
    {"name": "not-json", "match": r"^GET /api/v1$", "reply": body("text/html", b"<html><body>login</body></html>")},
    # replies too big to hold (a small limit by the environment)
    {"name": "huge-reply-discovery", "match": r"^GET /api/v1$",
     "reply": body(J, padded(RESOURCE_LIST, 3 << 20)), "env": {"KSTAGE_HTTP_MAX_REPLY_BYTES": str(1 << 20)}},
    {"name": "huge-reply-release-list-chunked", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": chunked(padded({"kind": "SecretList", "apiVersion": "v1", "metadata": {}, "items": []}, 3 << 20)),
     "env": {"KSTAGE_HTTP_MAX_REPLY_BYTES": str(1 << 20)}},
    {"name": "huge-reply-gzip-bomb", "match": r"^GET /api/v1$", "reply": gzip_bomb(64 << 20),
     "env": {"KSTAGE_HTTP_MAX_REPLY_BYTES": str(8 << 20)}},
    # slow replies (small limits by the environment: a stall of 2 s, 6 s for a whole request); "err": what
    # the message must say, in kstage's words: the request, the limit that cut it, attempts and time
    {"name": "stall-after-headers", "match": r"^GET /api/v1$",
     "reply": trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", b"", 0),
     "env": {"KSTAGE_HTTP_STALL_SECONDS": "2", "KSTAGE_HTTP_DEADLINE_SECONDS": "6"}, "max_seconds": 30,
     "err": STALLED},
    {"name": "trickle-body", "match": r"^GET /api/v1$",
     "reply": trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
                      json.dumps(RESOURCE_LIST).encode(), 2.5),
     "env": {"KSTAGE_HTTP_STALL_SECONDS": "2", "KSTAGE_HTTP_DEADLINE_SECONDS": "6"}, "max_seconds": 30,
     "err": STALLED},
    # a status line or a header line a byte at a time: libcurl passes only complete lines, so the
    # stall shows at the socket; the deadline (12 s) leaves room for the stall cut to come first
    {"name": "trickle-status-line", "match": r"^GET /api/v1$",
     "reply": trickle(b"", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", 2.5),
     "env": {"KSTAGE_HTTP_STALL_SECONDS": "2", "KSTAGE_HTTP_DEADLINE_SECONDS": "12"}, "max_seconds": 30,
     "err": STALLED},   # before the socket check: one attempt, cut by the deadline, no stall
    {"name": "trickle-header-line", "match": r"^GET /api/v1$",
     "reply": trickle(b"HTTP/1.1 200 OK\r\n", b"Content-Type: application/json\r\n", 2.5),
     "env": {"KSTAGE_HTTP_STALL_SECONDS": "2", "KSTAGE_HTTP_DEADLINE_SECONDS": "12"}, "max_seconds": 30,
     "err": STALLED},
    {"name": "no-answer", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": trickle(b"", b"", 0),
     "env": {"KSTAGE_HTTP_STALL_SECONDS": "2", "KSTAGE_HTTP_DEADLINE_SECONDS": "6"}, "max_seconds": 30,
     "err": r"cluster unreachable after 1 attempt in [\d.]+ s, ended by the 6 s deadline of one request "
            r"\(KSTAGE_HTTP_DEADLINE_SECONDS\): GET https://127\.0\.0\.1:\d+/api/v1/namespaces/[a-z-]+/secrets: "
            r"no complete answer within [\d.]+ s \(what was left of the request's deadline\)"},
    {"name": "nul-bytes", "match": r"^GET /api/v1/namespaces/[^/]+/secrets$",
     "reply": body(J, b'{"kind":"SecretList","items":[{"metadata":{"name":"a\x00b"}}]}')},
]


# ---- scenarios beyond the table -----------------------------------------------------------

def run_problems(rc, want, out, err, elapsed, max_seconds, rss, max_mb):
    """What any scenario run must hold: its exit code, clean sanitizers, no planted value
    printed, its time and memory bounds."""
    problems = [] if rc == want else [f"exit {rc}, want {want}"]
    for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer", SECRET, TOKEN):
        if bad in out or bad in err:
            problems.append(f"output has {bad!r}")
    if elapsed > max_seconds:
        problems.append(f"took {elapsed:.1f} s, bound {max_seconds} s")
    if rss > max_mb:
        problems.append(f"peak memory {rss} MB, bound {max_mb} MB")
    return problems


def c1_event(ready):
    return {"type": "MODIFIED", "object": {"apiVersion": "v1", "kind": "ConfigMap",
                                           "metadata": {"name": "c1", "namespace": "default", "resourceVersion": "99"},
                                           "data": {"ready": ready}}}


def apply_until_c1_ready(d, certs, on_watch, on_get, env):
    """apply of a stage that waits for ConfigMap c1's data.ready to be 'yes', against a server
    that answers the n-th watch with on_watch(h, path, n) and GETs of c1 and its list from its
    store through on_get(value, watches so far). Returns run()'s figures, the log and the watches."""
    store = Store()
    watches = []

    def reply(h, path):
        query = h.path.split("?", 1)[1] if "?" in h.path else ""
        if "watch=1" in query:
            watches.append(query)
            on_watch(h, path, len(watches))
            return
        code, value = store.answer("GET", path, query, None)
        h.send_json(code, on_get(value, len(watches)) if code == 200 and path.endswith("/configmaps/c1") else value)

    srv, log = serve("127.0.0.1", certs, {"match": r"^GET /api/v1/namespaces/default/configmaps(/c1)?$",
                                          "reply": reply}, store)
    kc, b = write_inputs(d, "https://127.0.0.1:%d" % srv.server_address[1])
    with open(os.path.join(b, "kstage.yaml"), "w") as f:
        f.write("name: hostile\nstages:\n  - name: one\n    templates: [cm.yaml]\n    timeout: 30s\n"
                "    wait: {rules: [{kind: ConfigMap, jsonPath: .data.ready, equals: 'yes'}]}\n")
    rc, out, err, elapsed, rss = run("apply", kc, b, 60, env)
    srv.shutdown()
    srv.server_close()
    return rc, out, err, elapsed, rss, log, watches


def watch_event_over_limit(d, certs):
    """One watch event over the reply limit (1 MiB here) stops the watch and the wait falls back
    to polling: the stage waits for ConfigMap c1's data.ready, the watch streams a 3 MiB event,
    the polling GET after it answers c1 ready. The apply must succeed, with one watch request
    (not resumed) and a GET of c1 after it. Returns (problems, figures, stderr)."""
    def on_watch(h, path, n):
        chunked(padded(c1_event("no"), 3 << 20) + b"\n")(h, path)

    def on_get(value, nwatches):
        return merge(value, {"data": {"ready": "yes"}}) if nwatches else value   # ready once the watch was tried

    rc, out, err, elapsed, rss, log, watches = apply_until_c1_ready(
        d, certs, on_watch, on_get, {"KSTAGE_HTTP_MAX_REPLY_BYTES": str(1 << 20)})
    problems = run_problems(rc, 0, out, err, elapsed, 60, rss, 512)
    if len(watches) != 1:
        problems.append(f"{len(watches)} watch requests, want 1 (stopped by the event over the limit, not resumed)")
    at = next((i for i, (m, p, q, _) in enumerate(log) if "watch=1" in q), None)
    if at is None or not any(m == "GET" and p.endswith("/configmaps/c1") for m, p, _, _ in log[at + 1:]):
        problems.append("no GET of configmaps/c1 after the watch: the wait did not fall back to polling")
    return problems, f"exit {rc}, {len(log)} requests, {len(watches)} watch, {elapsed:.1f} s, {rss} MB", err


def watch_after_error(d, certs):
    """A watch answered first with a 500 (a Status without a newline, as the fault proxy sends),
    then, retried, with the event that makes ConfigMap c1 ready; GETs of c1 never show it ready.
    The 500's body must not reach the stream: glued to the retry's first event it made that
    event unreadable and the wait watched again. The apply must succeed with two watch requests."""
    def on_watch(h, path, n):
        if n > 1:
            chunked(json.dumps(c1_event("yes")).encode() + b"\n")(h, path)
            return
        payload = (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                   b'"message":"injected","reason":"InternalError","code":500}')
        h.send_response(500)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    rc, out, err, elapsed, rss, log, watches = apply_until_c1_ready(d, certs, on_watch, lambda v, n: v, {})
    problems = run_problems(rc, 0, out, err, elapsed, 60, rss, 512)
    if len(watches) != 2:
        problems.append(f"{len(watches)} watch requests, want 2 (the 500, then the stream that makes c1 ready)")
    return problems, f"exit {rc}, {len(log)} requests, {len(watches)} watch, {elapsed:.1f} s, {rss} MB", err


def reply_over_real_limit(d, certs):
    """The real default limit (no KSTAGE_HTTP_* settings): discovery streams a reply of 256 MiB and
    64 MiB more, chunked (its size shows only as it comes), fast over localhost. plan must end with
    exit 2 naming the request and the limit, within its time, having stopped reading at the limit
    (the server could not send it all) and holding at most the limit in memory: peak RSS under the
    sane plan's peak (measured first) plus the limit and 64 MB. ASan's quarantine is off for these
    two runs: it keeps the buffers a growing reply frees, which the product does not hold."""
    limit = 256 << 20
    sent = [0]   # bytes of filler the server got out before kstage stopped reading

    def stream(h, path):
        try:
            h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            head = b'{"kind":"APIResourceList","groupVersion":"v1","resources":[],"filler":"'
            h.raw(b"%x\r\n" % len(head) + head + b"\r\n")
            block = b"x" * (1 << 20)
            for _ in range((limit >> 20) + 64):
                h.raw(b"%x\r\n" % len(block) + block + b"\r\n")
                sent[0] += len(block)
            h.raw(b'2\r\n"}\r\n0\r\n\r\n')
        except OSError:
            pass

    env = {k: "" for k in ("KSTAGE_HTTP_MAX_REPLY_BYTES", "KSTAGE_HTTP_STALL_SECONDS", "KSTAGE_HTTP_DEADLINE_SECONDS")}
    env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "detect_leaks=1") + ":quarantine_size_mb=0"
    srv, _ = serve("127.0.0.1", certs, {})
    kc, b = write_inputs(d, "https://127.0.0.1:%d" % srv.server_address[1])
    _, _, _, _, base_rss = run("plan", kc, b, 60, env)
    srv.shutdown()
    srv.server_close()
    srv, log = serve("127.0.0.1", certs, {"match": r"^GET /api/v1$", "reply": stream})
    kc, b = write_inputs(d, "https://127.0.0.1:%d" % srv.server_address[1])
    rc, out, err, elapsed, rss = run("plan", kc, b, 60, env)
    srv.shutdown()
    srv.server_close()
    bound = base_rss + (limit >> 20) + 64
    problems = run_problems(rc, 2, out, err, elapsed, 60, rss, bound)
    if not re.search(r"GET https://127\.0\.0\.1:\d+/api/v1: the API server's reply is larger than 268435456 bytes",
                     err):
        problems.append("the error does not name the request and the 256 MiB limit")
    if sent[0] >= limit + (32 << 20):
        problems.append(f"the server sent {sent[0] >> 20} MiB: kstage read on past the limit")
    if sum(1 for m, p, _, _ in log if p == "/api/v1") != 1:
        problems.append("the reply over the limit was asked for again")
    return problems, (f"exit {rc}, {elapsed:.1f} s, {sent[0] >> 20} MiB sent, peak {rss} MB "
                      f"(sane plan {base_rss} MB, bound {bound} MB)"), err


SCENARIOS = [("watch-event-over-limit", watch_event_over_limit), ("watch-after-error", watch_after_error),
             ("reply-over-real-limit", reply_over_real_limit)]


# ---- running -------------------------------------------------------------------------------

def write_inputs(d, server):
    kc = os.path.join(d, "kc.yaml")
    with open(kc, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster: {{server: "{server}", certificate-authority: "{d}/ca.crt"}}
users:
  - name: u
    user: {{token: {TOKEN}}}
contexts:
  - name: x
    context: {{cluster: c, user: u, namespace: default}}
current-context: x
""")
    b = os.path.join(d, "b")
    os.makedirs(os.path.join(b, "templates"), exist_ok=True)
    os.makedirs(os.path.join(b, "values"), exist_ok=True)
    with open(os.path.join(b, "kstage.yaml"), "w") as f:
        f.write("name: hostile\nstages:\n  - name: one\n    templates: [cm.yaml]\n    timeout: 30s\n")
    with open(os.path.join(b, "values", "values.yaml"), "w") as f:
        f.write("password: ''\n")
    with open(os.path.join(b, "values", "values.schema.json"), "w") as f:
        f.write('{"type":"object","properties":{"password":{"type":"string","x-kstage-secret":true}}}\n')
    with open(os.path.join(b, "templates", "cm.yaml"), "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1}\ndata: {k: v}\n---\n"
                "apiVersion: v1\nkind: Secret\nmetadata: {name: s1}\nstringData: {k: '{{ .Values.password }}'}\n")
    return kc, b


def run(cmd, kc, b, max_seconds, extra_env=None):
    args = {"plan": ["plan", b], "apply": ["apply", b], "status": ["status", "hostile"],
            "history": ["history", "hostile"]}[cmd]
    if cmd in ("plan", "apply"):
        args += ["--set-secret", "password=" + SECRET]
    env = dict(os.environ, NO_COLOR="1", **(extra_env or {}))
    env.pop("KUBECONFIG", None)
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.monotonic()
        child = subprocess.Popen([BIN, *args, "--kubeconfig", kc], stdout=fo, stderr=fe, env=env,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        timer = threading.Timer(max_seconds * 2, os.killpg, (child.pid, 9))
        timer.start()
        _, st, usage = os.wait4(child.pid, 0)
        timer.cancel()
        elapsed = time.monotonic() - t0
        fo.seek(0)
        fe.seek(0)
        return (os.waitstatus_to_exitcode(st), fo.read().decode("utf-8", "replace"),
                fe.read().decode("utf-8", "replace"), elapsed, usage.ru_maxrss // 1024)


def report(tag, problems, figures, err):
    """Print a FAIL line (or, verbose, an ok line) for one run; True when it passed."""
    last = err.strip().splitlines()[-1][:200] if err.strip() else ""
    if problems:
        print(f"FAIL {tag}: " + "; ".join(problems) + f" ({figures})")
        print("  stderr: " + err[-600:].replace("\n", "\n          "))
    elif os.environ.get("HOSTILE_API_VERBOSE"):
        print(f"ok   {tag}: {figures}: {last}")
    return not problems


def main():
    if not BIN:
        print("hostile-api: no kstage binary (set KSTAGE_ASAN_BIN)")
        return 1
    only = sys.argv[1:]
    passed = failed = 0
    d = tempfile.mkdtemp(prefix="kstage-hostile-api-")
    certs = make_certs(d)
    other, other_log = serve("127.0.0.2", certs, {})
    OTHER["url"] = "https://127.0.0.2:%d" % other.server_address[1]
    for case in [{"name": "sane"}] + CASES:
        if only and not any(case["name"].startswith(o) for o in only):
            continue
        for cmd in COMMANDS:
            store = Store()
            if cmd in ("status", "history"):
                # a release to read: applied by a quiet server first
                srv, _ = serve("127.0.0.1", certs, {}, store)
                kc, b = write_inputs(d, "https://127.0.0.1:%d" % srv.server_address[1])
                rc, _, err, _, _ = run("apply", kc, b, 120)
                srv.shutdown()
                srv.server_close()
                if rc != 0:
                    failed += 1
                    print(f"FAIL {case['name']} {cmd}: the quiet apply before it failed: {err[-400:]}")
                    continue
            srv, log = serve("127.0.0.1", certs, case, store)
            del other_log[:]
            server = "https://127.0.0.1:%d" % srv.server_address[1]
            kc, b = write_inputs(d, server)
            max_seconds = case.get("max_seconds", 120)
            rc, out, err, elapsed, rss = run(cmd, kc, b, max_seconds, case.get("env"))
            srv.shutdown()
            srv.server_close()
            problems = []
            hit = any(re.search(case.get("match", "^$"), f"{m} {p}") for m, p, _, _ in log)
            if case["name"] == "sane":
                want = (0,)
            else:
                want = case.get("exits", {}).get(cmd, (2, 4))
            if not hit and case["name"] != "sane":
                # the command never sent the request the case answers: it proves nothing,
                # but what it did must still be right
                want = (0, 1, 2, 4)
            if rc not in want:
                problems.append(f"exit {rc}, want {' or '.join(map(str, want))}")
            if rc in (2, 4) and hit and not re.search(LOCATED, err):
                problems.append("the error names neither the API server, the request nor the object")
            if case.get("err") and rc in (2, 4) and hit and not re.search(case["err"], err):
                problems.append(f"the error does not match {case['err']!r}")
            for s in (TOKEN, SECRET):
                if s in out or s in err:
                    problems.append(f"printed the planted {s}")
            for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer", "\x1b", "\r",
                        "Operation timed out"):   # libcurl's words: kstage names the request and the limit
                if bad in err or bad in out:
                    problems.append(f"output has {bad!r}")
            if elapsed > max_seconds:
                problems.append(f"took {elapsed:.1f} s, bound {max_seconds} s")
            if rss > 1024:
                problems.append(f"peak memory {rss} MB, bound 1024 MB")
            if len(log) > 200:
                problems.append(f"{len(log)} requests, bound 200")
            escaped = [p for _, p, _, _ in log if "/.." in p or "%2e" in p.lower() or "%2f" in p.lower()]
            if escaped:
                problems.append(f"sent a path that climbs: {escaped[:2]}")
            if other_log:
                problems.append(f"sent {len(other_log)} request(s) to the other host: {other_log[:2]}")
            if cmd != "apply":
                writes = [(m, p) for m, p, q, _ in log
                          if m not in ("GET", "HEAD") and "dryRun=All" not in q]
                if writes:
                    problems.append(f"{cmd} sent writes: {writes[:3]}")
            ok = report(f"{case['name']} {cmd}", problems,
                        f"exit {rc}, {len(log)} requests, {elapsed:.1f} s, {rss} MB", err)
            passed, failed = passed + ok, failed + (not ok)
    for name, scenario in SCENARIOS:
        if only and not any(name.startswith(o) for o in only):
            continue
        ok = report(name, *scenario(d, certs))
        passed, failed = passed + ok, failed + (not ok)
    other.shutdown()
    subprocess.run(["rm", "-rf", d])
    print(f"hostile-api: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
