"""A small HTTP CONNECT proxy for the proxy e2e tests: it tunnels TLS to
whatever host:port a client asks for and counts the tunnels per target, so
a test can tell which fetches went through it (HTTPS_PROXY) and which did
not (NO_PROXY). Plain-HTTP requests are refused: kstage's fetches are https.

    with ConnectProxy() as p:
        env = {"HTTPS_PROXY": p.url}
        ...
        p.tunnels -> {"127.0.0.1:1234": 2, ...}
"""
import collections
import select
import socket
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    rbufsize = 0   # unbuffered: nothing of the tunnel is left in a reader

    def handle(self):
        line = self.rfile.readline(8192).decode("latin-1")
        while True:   # the request's headers, up to the blank line
            h = self.rfile.readline(8192)
            if not h or h in (b"\r\n", b"\n"):
                break
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        target = parts[1]
        host, _, port = target.rpartition(":")
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
        except OSError:
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.count(target)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        down = self.connection
        try:
            while True:
                r, _, _ = select.select([down, up], [], [], 120)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is down else down).sendall(data)
        except OSError:
            pass
        finally:
            up.close()


class ConnectProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tunnels = collections.Counter()
        self._lock = threading.Lock()
        self.url = "http://127.0.0.1:%d" % self.server_address[1]

    def count(self, target):
        with self._lock:
            self.tunnels[target] += 1

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
