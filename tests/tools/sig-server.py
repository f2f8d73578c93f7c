#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The signature servers of tests/e2e/sigstore.bats, on 127.0.0.1, plain http:
#   sig-server.py PORT-FILE LOG lookaside DIR
#       DIR's files by their paths (a lookaside store as skopeo's sigstore-staging
#       writes it: REPO@sha256=HEX/signature-N); anything else is 404.
#   sig-server.py PORT-FILE LOG registry LAYOUT SIGDIR
#       a read-only registry serving the OCI layout LAYOUT under every repository
#       (manifests by tag, its org.opencontainers.image.ref.name, or by digest; blobs),
#       with the signature extension: GET /extensions/v2/REPO/signatures/DIGEST lists
#       SIGDIR/REPO@sha256=HEX/signature-N, base64, as OpenShift's registry does.
# It writes its port to PORT-FILE once listening and logs "METHOD PATH STATUS" lines.
import base64, json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log, mode = sys.argv[1:4]
args = sys.argv[4:]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body=b"", ctype="application/octet-stream"):
        with open(log, "a") as f:
            f.write("%s %s %d\n" % (self.command, self.path, status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def file(self, path, ctype="application/octet-stream"):
        try:
            with open(path, "rb") as f:
                return self.send(200, f.read(), ctype)
        except OSError:
            return self.send(404, b"not found")

    def lookaside(self):
        root = os.path.realpath(args[0])
        p = os.path.realpath(os.path.join(root, self.path.lstrip("/")))
        if not p.startswith(root + "/") or not os.path.isfile(p):
            return self.send(404, b"not found")
        return self.file(p)

    def registry(self):
        layout, sigdir = args
        p = self.path
        if p == "/v2/":
            return self.send(200, b"{}", "application/json")
        if p.startswith("/extensions/v2/") and "/signatures/" in p:
            repo, digest = p[len("/extensions/v2/"):].split("/signatures/", 1)
            d = os.path.join(sigdir, "%s@%s" % (repo, digest.replace(":", "=", 1)))
            sigs, n = [], 1
            while os.path.isfile(os.path.join(d, "signature-%d" % n)):
                with open(os.path.join(d, "signature-%d" % n), "rb") as f:
                    sigs.append({"version": 2, "type": "atomic", "name": "%s@sig-%d" % (digest, n),
                                 "content": base64.b64encode(f.read()).decode()})
                n += 1
            return self.send(200, json.dumps({"signatures": sigs}).encode(), "application/json")
        if not p.startswith("/v2/"):
            return self.send(404, b"not found")
        rest = p[len("/v2/"):]
        for kind in ("/manifests/", "/blobs/"):
            if kind in rest:
                repo, ref = rest.rsplit(kind, 1)
                break
        else:
            return self.send(404, b"not found")
        if kind == "/manifests/" and not ref.startswith("sha256:"):
            with open(os.path.join(layout, "index.json")) as f:
                idx = json.load(f)
            for m in idx["manifests"]:
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
                    ref = m["digest"]
                    break
            else:
                return self.send(404, b'{"errors": [{"code": "MANIFEST_UNKNOWN"}]}', "application/json")
        ctype = "application/vnd.oci.image.manifest.v1+json" if kind == "/manifests/" else "application/octet-stream"
        return self.file(os.path.join(layout, "blobs", "sha256", ref.split(":", 1)[-1]), ctype)

    def do_GET(self):
        return self.lookaside() if mode == "lookaside" else self.registry()

    do_HEAD = do_GET


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
