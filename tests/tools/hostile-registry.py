#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A hostile Docker Registry v2 for the tests: plain http on 127.0.0.1, one image per
# scenario, each under its own repository: /v2/SCENARIO/image/manifests/1 (also by
# its digest) and the blobs that manifest names. GET /v2/ answers 200.
#
#   hostile-registry.py --port-file FILE [--log FILE] [--auth USER:PASS]
#
# --port-file: the port (a free one) is written there once the server listens.
# --auth: every request (/v2/ included) needs those Basic credentials, but those to
# the host name "localhost" (where auth-redirect sends its layer).
# --log: one line per request, when its response ends:
#   METHOD PATH range=RANGE|- status=N bytes=N auth=basic|bearer|- host=HOST [aborted]
#
# Scenarios (the image is an OCI manifest, linux/<host arch>, gzip layers):
#   good                 a valid image of one small layer (etc/hostile-good)
#   digest-mismatch      the layer's bytes differ from the manifest's digest (same size)
#   config-mismatch      the config's bytes differ from its digest
#   manifest-digest-mismatch  by digest (any sha256), the server answers the good
#                        manifest, whose digest is another
#   diffid-mismatch      the config's rootfs.diff_ids do not match the layer
#   diffid-mismatch-deep four layers of 2 MiB files, the third's diff_id not its own
#                        (the layers are extracted several at once)
#   huge-manifest        a 100 MiB manifest (Content-Length given), streamed
#   huge-manifest-nolength  the same without Content-Length (ends at close)
#   wrong-media-type     the manifest's Content-Type and mediaType are not a manifest's
#   wrong-layer-media-type  a layer whose mediaType is no layer's
#   redirect-loop        the manifest redirects to itself through a second URL, forever
#   redirect-blob-loop   the layer redirects the same way
#   redirect-ok          the layer redirects once, to where the right bytes are
#   slow                 the layer (64 KiB) comes one byte a second
#   throttled            a valid image whose 1 MiB layer comes at 256 KiB/s, with Range
#   throttled-norange    the same, ignoring Range (200 and the whole blob: RFC 9110
#                        lets a server do that; a resuming client must start over)
#   truncated-layer      Content-Length says N, half is sent, the connection closes
#   missing-blob         the layer is 404
#   escaping-layer       a layer entry ../../…/tmp/podrun-docker-evil
#   escaping-hardlink    a hard link to ../../…/etc/passwd
#   escaping-symlink     a symlink up -> ../../…/tmp, then a file up/podrun-docker-evil
#   absolute-symlink     a symlink abs -> /tmp, then a file abs/podrun-docker-evil
#   symlink-cross-layer  layer 1: lnk -> /tmp; layer 2: lnk/podrun-docker-evil
#   gzip-bomb            a ~260 KB layer of 256 files of 1 MiB of zeros (256 MiB)
#   whiteout-dot         layer 2 has etc/.wh.. (a whiteout of ".")
#   whiteout-dotdot      layer 2 has etc/.wh... (a whiteout of "..")
#   whiteout-escape      layer 2 has ../../…/tmp/podrun-docker-victim/.wh.victim
#   whiteout-symlink     one layer: lnk -> /tmp/podrun-docker-victim, then lnk/.wh.victim
#   opaque-odd           one layer: lnk -> /tmp/podrun-docker-victim, then lnk/.wh..wh..opq
#   trusted-xattr        PAX headers setting trusted.overlay.opaque and
#                        trusted.overlay.redirect on directories of the layer
#   bad-digest           a layer "digest" sha256:../../…/tmp/podrun-docker-evil
#   index-loop           an index whose entry (the host's platform) is a nested index;
#                        asked for by any digest, the server answers that same index
#   auth-redirect        (for a server started with --auth) the layer redirects to
#                        http://localhost:PORT/…, another host: credentials sent
#                        there show in the log as auth=basic
import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import platform
import re
import socket
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
UP = "../" * 24  # climbs out of any store path

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def entry(name, data=b"", kind="file", target="", mode=None, pax=None):
    return (name, data, kind, target, mode, pax)


def make_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, kind, target, mode, pax in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            ti.uid = ti.gid = 0
            if kind == "file":
                ti.type, ti.size, ti.mode = tarfile.REGTYPE, len(data), mode or 0o644
            elif kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, mode or 0o755
            elif kind == "symlink":
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, target, 0o777
            elif kind == "hardlink":
                ti.type, ti.linkname, ti.mode = tarfile.LNKTYPE, target, 0o644
            if pax:
                ti.pax_headers = pax
            t.addfile(ti, io.BytesIO(data) if kind == "file" else None)
    return buf.getvalue()


def gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


class Image:
    """A manifest (bytes, media type) and its blobs by digest, plus per-scenario quirks."""

    def __init__(self, layer_tars, layer_media=OCI_LAYER, diff_ids=None, manifest_media=OCI_MANIFEST):
        self.blobs = {}
        layers = []
        for raw in layer_tars:
            z = gz(raw)
            self.blobs[sha(z)] = z
            layers.append({"mediaType": layer_media, "digest": sha(z), "size": len(z)})
        config = {"architecture": ARCH, "os": "linux",
                  "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids or [sha(r) for r in layer_tars]},
                  "history": [{"created_by": "hostile-registry.py"}]}
        c = json.dumps(config).encode()
        self.config_digest = sha(c)
        self.blobs[self.config_digest] = c
        self.layers = layers
        self.manifest_media = manifest_media
        self.manifest = json.dumps({"schemaVersion": 2, "mediaType": manifest_media,
                                    "config": {"mediaType": OCI_CONFIG, "digest": sha(c), "size": len(c)},
                                    "layers": layers}).encode()
        self.digest = sha(self.manifest)
        self.override = {}  # digest -> bytes served instead
        self.mode = {}  # digest -> "slow" | "throttled" | "truncate" | "redirect-loop" | …


def good_tar():
    return make_tar([entry("etc/", kind="dir"), entry("etc/hostile-good", b"good\n")])


def base_tar():
    return make_tar([entry("etc/", kind="dir"), entry("etc/passwd", b"root:x:0:0::/:/bin/sh\n"),
                     entry("etc/group", b"root:x:0:\n")])


def flip(data):
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


def build(name):
    if name == "good":
        return Image([good_tar()])
    if name == "digest-mismatch":
        img = Image([good_tar()])
        d = img.layers[0]["digest"]
        img.override[d] = flip(img.blobs[d])
        return img
    if name == "config-mismatch":
        img = Image([good_tar()])
        img.override[img.config_digest] = flip(img.blobs[img.config_digest])
        return img
    if name == "manifest-digest-mismatch":
        img = Image([good_tar()])
        img.mode["manifest"] = "any-digest"
        return img
    if name == "diffid-mismatch":
        return Image([good_tar()], diff_ids=[sha(b"not this layer")])
    if name == "diffid-mismatch-deep":
        tars = [make_tar([entry("etc/", kind="dir"), entry("etc/layer%d" % i, os.urandom(2 << 20))]) for i in range(4)]
        return Image(tars, diff_ids=[sha(t) if i != 2 else sha(b"not this layer") for i, t in enumerate(tars)])
    if name in ("huge-manifest", "huge-manifest-nolength"):
        img = Image([good_tar()])
        img.mode["manifest"] = name
        return img
    if name == "wrong-media-type":
        img = Image([good_tar()], manifest_media="application/vnd.podrun.bogus+json")
        return img
    if name == "wrong-layer-media-type":
        return Image([good_tar()], layer_media="application/vnd.podrun.bogus.layer")
    if name == "redirect-loop":
        img = Image([good_tar()])
        img.mode["manifest"] = "redirect-loop"
        return img
    if name in ("redirect-blob-loop", "redirect-ok", "slow", "truncated-layer", "missing-blob"):
        img = Image([make_tar([entry("etc/", kind="dir"), entry("etc/data", os.urandom(64 * 1024))])]
                    if name == "slow" else [good_tar()])
        img.mode[img.layers[0]["digest"]] = name
        return img
    if name in ("throttled", "throttled-norange"):
        img = Image([make_tar([entry("etc/", kind="dir"), entry("etc/data", os.urandom(1024 * 1024))])])
        img.mode[img.layers[0]["digest"]] = name
        return img
    if name == "escaping-layer":
        return Image([make_tar([entry("etc/", kind="dir"), entry(UP + "tmp/podrun-docker-evil", b"evil\n")])])
    if name == "escaping-hardlink":
        return Image([make_tar([entry("etc/", kind="dir"), entry("etc/passwd-copy", kind="hardlink",
                                                                  target=UP + "etc/passwd")])])
    if name == "escaping-symlink":
        return Image([make_tar([entry("up", kind="symlink", target=UP + "tmp"),
                                entry("up/podrun-docker-evil", b"evil\n")])])
    if name == "absolute-symlink":
        return Image([make_tar([entry("abs", kind="symlink", target="/tmp"),
                                entry("abs/podrun-docker-evil", b"evil\n")])])
    if name == "symlink-cross-layer":
        return Image([make_tar([entry("lnk", kind="symlink", target="/tmp")]),
                      make_tar([entry("lnk/", kind="dir"), entry("lnk/podrun-docker-evil", b"evil\n")])])
    if name == "gzip-bomb":
        zeros = bytes(1024 * 1024)
        return Image([make_tar([entry("bomb/", kind="dir")] +
                               [entry("bomb/%03d" % i, zeros) for i in range(256)])])
    if name == "whiteout-dot":
        return Image([base_tar(), make_tar([entry("etc/", kind="dir"), entry("etc/.wh..")])])
    if name == "whiteout-dotdot":
        return Image([base_tar(), make_tar([entry("etc/", kind="dir"), entry("etc/.wh...")])])
    if name == "whiteout-escape":
        return Image([base_tar(), make_tar([entry(UP + "tmp/podrun-docker-victim/.wh.victim")])])
    if name == "whiteout-symlink":
        return Image([make_tar([entry("lnk", kind="symlink", target="/tmp/podrun-docker-victim"),
                                entry("lnk/.wh.victim")])])
    if name == "opaque-odd":
        return Image([make_tar([entry("lnk", kind="symlink", target="/tmp/podrun-docker-victim"),
                                entry("lnk/.wh..wh..opq")])])
    if name == "trusted-xattr":
        return Image([base_tar(), make_tar([
            entry("etc/", kind="dir", pax={"SCHILY.xattr.trusted.overlay.opaque": "y"}),
            entry("usr/", kind="dir", pax={"SCHILY.xattr.trusted.overlay.redirect": "/etc"}),
            entry("usr/x", b"x\n")])])
    if name == "bad-digest":
        img = Image([good_tar()])
        man = json.loads(img.manifest)
        man["layers"][0]["digest"] = "sha256:" + UP + "tmp/podrun-docker-evil"
        img.manifest = json.dumps(man).encode()
        img.digest = sha(img.manifest)
        return img
    if name == "index-loop":
        img = Image([good_tar()])
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                 "manifests": [{"mediaType": OCI_INDEX, "digest": sha(b"the next index"), "size": 400,
                                "platform": {"architecture": ARCH, "os": "linux"}}]}
        img.manifest = json.dumps(index).encode()
        img.manifest_media = OCI_INDEX
        img.digest = sha(img.manifest)
        img.mode["manifest"] = "any-digest"
        return img
    if name == "auth-redirect":
        img = Image([good_tar()])
        img.mode[img.layers[0]["digest"]] = "redirect-other-host"
        return img
    return None


IMAGES = {}
IMAGES_LOCK = threading.Lock()


def image(name):
    with IMAGES_LOCK:
        if name not in IMAGES:
            IMAGES[name] = build(name)
        return IMAGES[name]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log_line(self, status, sent, aborted=False):
        if ARGS.log:
            with LOG_LOCK, open(ARGS.log, "a") as f:
                authz = self.headers.get("Authorization") or "-"
                f.write("%s %s range=%s status=%d bytes=%d auth=%s host=%s%s\n" % (
                    self.command, self.path, self.headers.get("Range") or "-", status, sent,
                    authz.split(" ")[0].lower(), self.headers.get("Host") or "-",
                    " aborted" if aborted else ""))

    def headers_out(self, status, ctype, length, extra=None):
        self.send_response(status)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if ctype:
            self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def simple(self, status, body=b"", ctype="application/json", extra=None):
        self.headers_out(status, ctype, len(body), extra)
        sent = 0
        if self.command != "HEAD":
            self.wfile.write(body)
            sent = len(body)
        self.log_line(status, sent)

    def error(self, status, code):
        self.simple(status, json.dumps({"errors": [{"code": code, "message": code.lower()}]}).encode())

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    def route(self):
        path = self.path.split("?")[0]
        host = (self.headers.get("Host") or "").split(":")[0]
        if ARGS.auth and host != "localhost" and \
                self.headers.get("Authorization") != "Basic " + base64.b64encode(ARGS.auth.encode()).decode():
            self.simple(401, json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                                     "message": "authentication required"}]}).encode(),
                        "application/json", {"WWW-Authenticate": 'Basic realm="hostile"'})
            return
        if path in ("/v2", "/v2/"):
            self.simple(200, b"{}")
            return
        m = re.fullmatch(r"/v2/([a-z0-9._-]+)/image/(manifests|blobs)/([A-Za-z0-9._:-]+)", path)
        if not m:
            self.error(404, "NAME_UNKNOWN")
            return
        scenario, kind, ref = m.groups()
        img = image(scenario)
        if img is None:
            self.error(404, "NAME_UNKNOWN")
            return
        if kind == "manifests":
            self.manifest(scenario, img, ref)
        else:
            self.blob(scenario, img, ref)

    def manifest(self, scenario, img, ref):
        mode = img.mode.get("manifest")
        if mode == "redirect-loop":
            nxt = ref[:-5] if ref.endswith("-back") else ref + "-back"
            self.simple(302, b"", None, {"Location": "/v2/%s/image/manifests/%s" % (scenario, nxt)})
            return
        if mode == "any-digest":
            if ref != "1" and not ref.startswith("sha256:"):
                self.error(404, "MANIFEST_UNKNOWN")
                return
        elif ref not in ("1", img.digest):
            self.error(404, "MANIFEST_UNKNOWN")
            return
        if mode in ("huge-manifest", "huge-manifest-nolength"):
            self.huge(mode == "huge-manifest")
            return
        self.simple(200, img.manifest, img.manifest_media, {"Docker-Content-Digest": img.digest})

    def huge(self, with_length):
        size = 100 * 1024 * 1024
        head = b'{"schemaVersion": 2, "mediaType": "%s", "annotations": {"pad": "' % OCI_MANIFEST.encode()
        tail = b'"}}'
        pad = size - len(head) - len(tail)
        if with_length:
            self.headers_out(200, OCI_MANIFEST, size)
        else:
            self.headers_out(200, OCI_MANIFEST, None, {"Connection": "close"})
            self.close_connection = True
        sent = 0
        if self.command == "HEAD":
            self.log_line(200, 0)
            return
        chunk = b"x" * 65536
        try:
            self.wfile.write(head)
            sent += len(head)
            while pad > 0:
                n = min(pad, len(chunk))
                self.wfile.write(chunk[:n])
                sent += n
                pad -= n
            self.wfile.write(tail)
            sent += len(tail)
        except (BrokenPipeError, ConnectionResetError):
            self.log_line(200, sent, True)
            self.close_connection = True
            return
        self.log_line(200, sent)

    def blob(self, scenario, img, digest):
        mode = img.mode.get(digest)
        if mode == "redirect-blob-loop":
            self.simple(307, b"", None, {"Location": "/v2/%s/image/blobs/%s?loop=%d" % (
                scenario, digest, 1 - int(("loop=1" in self.path)))})
            return
        if mode == "redirect-ok" and "moved=1" not in self.path:
            self.simple(307, b"", None, {"Location": "/v2/%s/image/blobs/%s?moved=1" % (scenario, digest)})
            return
        if mode == "redirect-other-host" and "moved=1" not in self.path:
            self.simple(307, b"", None, {"Location": "http://localhost:%d/v2/%s/image/blobs/%s?moved=1" % (
                self.server.server_address[1], scenario, digest)})
            return
        if mode == "missing-blob" or digest not in img.blobs:
            self.error(404, "BLOB_UNKNOWN")
            return
        data = img.override.get(digest, img.blobs[digest])
        start, status, extra = 0, 200, {"Docker-Content-Digest": digest}
        rng = self.headers.get("Range")
        if rng and mode not in ("slow", "truncated-layer", "throttled-norange"):
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if m and int(m.group(1)) < len(data):
                start = int(m.group(1))
                end = int(m.group(2)) + 1 if m.group(2) else len(data)
                data = data[start:end]
                status = 206
                extra["Content-Range"] = "bytes %d-%d/%d" % (start, start + len(data) - 1,
                                                             len(img.blobs[digest]))
        self.headers_out(status, "application/octet-stream", len(data), extra)
        if self.command == "HEAD":
            self.log_line(status, 0)
            return
        sent = 0
        try:
            if mode == "slow":
                for i in range(len(data)):
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    sent += 1
                    time.sleep(1)
            elif mode in ("throttled", "throttled-norange"):
                step = 16 * 1024
                for i in range(0, len(data), step):
                    self.wfile.write(data[i:i + step])
                    self.wfile.flush()
                    sent += len(data[i:i + step])
                    time.sleep(step / (256 * 1024))
            elif mode == "truncated-layer":
                half = data[:len(data) // 2]
                self.wfile.write(half)
                self.wfile.flush()
                sent = len(half)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                self.log_line(status, sent, True)
                return
            else:
                self.wfile.write(data)
                sent = len(data)
        except (BrokenPipeError, ConnectionResetError):
            self.log_line(status, sent, True)
            self.close_connection = True
            return
        self.log_line(status, sent)


LOG_LOCK = threading.Lock()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--auth")
    p.add_argument("--build", help="build one scenario's image, print its manifest and exit")
    ARGS = p.parse_args()
    if ARGS.build:
        img = image(ARGS.build)
        if img is None:
            sys.exit("no scenario %s" % ARGS.build)
        sys.stdout.write(img.manifest.decode() + "\n")
        return 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
