#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A Docker Registry v2 token server for the tests (distribution's "token" auth, the
# WWW-Authenticate: Bearer flow). GET /token?service=S&scope=repository:NAME:ACTIONS
# answers {"token": JWT, "access_token": JWT, "expires_in": N} where JWT is RS256,
# signed with KEY (by `openssl dgst -sha256 -sign`: the standard library has no RSA),
# its header carrying the signing certificate CERT as x5c (distribution 2.8 verifies
# that chain against the registry's auth.token.rootcertbundle, which is CERT itself).
#
#   token-server.py --key KEY --cert CERT --issuer ISS --service SVC --port-file FILE
#                   [--user U:P] [--anonymous] [--tls-cert C --tls-key K] [--log FILE]
#
# --user: Basic credentials that get every action asked for; wrong credentials get 401.
# --anonymous: a request without credentials gets a token granting pull only (push too
# when --user is not given, so that the tests can push anonymously); without it, a
# request without credentials gets 401. Listens on 127.0.0.1, a free port written to
# --port-file once it listens. Logs one line per request (method, path, user, status),
# never a password.
import argparse
import base64
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der_b64(path):
    pem = open(path).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return "".join(body.split())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log_line(self, status, user):
        if ARGS.log:
            with open(ARGS.log, "a") as f:
                f.write("%s %s user=%s status=%d\n" % (self.command, self.path, user or "-", status))

    def reply(self, status, body, user, extra=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.log_line(status, user)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            self.reply(404, {"error": "not found"}, None)
            return
        query = urllib.parse.parse_qs(url.query)
        user = None
        authz = self.headers.get("Authorization", "")
        if authz.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(authz[6:]).decode().partition(":")
            except Exception:
                user, password = "?", None
            if ARGS.user is None or (user + ":" + password) != ARGS.user:
                self.reply(401, {"details": "wrong credentials"}, user,
                           {"WWW-Authenticate": 'Basic realm="podrun-test-token"'})
                return
            allowed = None  # everything asked for
        elif ARGS.anonymous:
            allowed = {"pull"} if ARGS.user else None
        else:
            self.reply(401, {"details": "credentials required"}, None,
                       {"WWW-Authenticate": 'Basic realm="podrun-test-token"'})
            return
        if query.get("service", [ARGS.service])[0] != ARGS.service:
            self.reply(400, {"details": "unknown service"}, user)
            return
        access = []
        for scope in query.get("scope", []):
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) < 3:
                    continue
                typ, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
                if allowed is not None:
                    actions = [a for a in actions if a in allowed]
                access.append({"type": typ, "name": name, "actions": actions})
        now = int(time.time())
        claims = {"iss": ARGS.issuer, "sub": user or "", "aud": ARGS.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": b64url(os.urandom(12)), "access": access}
        header = {"typ": "JWT", "alg": "RS256", "x5c": [cert_der_b64(ARGS.cert)]}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", ARGS.key], input=signing_input.encode(),
                             stdout=subprocess.PIPE, check=True).stdout
        token = signing_input + "." + b64url(sig)
        self.reply(200, {"token": token, "access_token": token, "expires_in": 300,
                         "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}, user)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--issuer", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--user")
    p.add_argument("--anonymous", action="store_true")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--log")
    ARGS = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if ARGS.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
