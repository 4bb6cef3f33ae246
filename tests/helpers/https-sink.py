#!/usr/bin/python3
"""https-sink: an HTTPS upload sink for the distribution tests.

PUT /NAME and POST (named by Content-Disposition) store the body under
STORE/NAME; a request whose Idempotency-Key was seen before is answered
200 and stores nothing.  Every request is logged, one line each, to
STORE.log: method, name, Idempotency-Key, SHA-256 of the body, whether it
was stored ("new" or "repeat"), the client certificate's CN, and whether
Content-Digest matched the body.  --require-client asks for a client
certificate chaining to --client-ca; --delay waits before answering, after
logging; --fail N answers 500 to the first N requests.

usage: https-sink.py PORT CERT KEY STORE [--client-ca F] [--delay S]
       [--fail N] [--ready FILE]
"""
import argparse
import base64
import hashlib
import http.server
import os
import ssl
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("cert")
p.add_argument("key")
p.add_argument("store")
p.add_argument("--client-ca")
p.add_argument("--delay", type=float, default=0.0)
p.add_argument("--fail", type=int, default=0)
p.add_argument("--ready")
a = p.parse_args()

os.makedirs(a.store, exist_ok=True)
seen = set()
failures = [a.fail]


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def upload(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.command == "PUT":
            name = self.path.rsplit("/", 1)[-1]
        else:
            cd = self.headers.get("Content-Disposition", "")
            name = cd.split("filename=", 1)[-1].strip('"') if \
                "filename=" in cd else "post-%d" % time.time_ns()
        key = self.headers.get("Idempotency-Key", "-")
        digest = hashlib.sha256(body).hexdigest()
        cd = self.headers.get("Content-Digest", "")
        want = "sha-256=:%s:" % base64.b64encode(
            hashlib.sha256(body).digest()).decode()
        cn = "-"
        cert = self.connection.getpeercert()
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
        fail = failures[0] > 0
        if fail:
            failures[0] -= 1
        repeat = key != "-" and key in seen
        state = "fail" if fail else "repeat" if repeat else "new"
        with open(a.store + ".log", "a") as log:
            log.write("%s %s %s %s %s %s %s\n" % (
                self.command, name, key, digest, state, cn.replace(" ", "_"),
                "digest-ok" if cd == want else "digest-bad"))
        if a.delay:
            time.sleep(a.delay)
        if fail:
            code = 500
        elif repeat:
            code = 200
        else:
            path = os.path.join(a.store, os.path.basename(name))
            code = 204 if os.path.exists(path) else 201
            with open(path + ".tmp", "wb") as f:
                f.write(body)
            os.rename(path + ".tmp", path)
            if key != "-":
                seen.add(key)
        msg = b"stored\n" if code < 300 else b"sink: forced failure\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

    do_PUT = upload
    do_POST = upload


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(a.cert, a.key)
if a.client_ca:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(a.client_ca)
srv = http.server.HTTPServer(("127.0.0.1", a.port), Sink)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
if a.ready:
    with open(a.ready, "w") as f:
        f.write("up\n")
try:
    srv.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
