#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fixtures of registry.bash proved with other tools only (skopeo, curl, umoci,
# openssl, python): the registries docker.bats fetches from are what they claim to be,
# and the hostile registry misbehaves as each scenario says. No podrun here.

load helpers
load registry

setup_file() {
  command -v docker-registry >/dev/null || return 0
  command -v skopeo >/dev/null || return 0
  registry_start
  hostile_start
}

teardown_file() {
  registry_stop_all
}

teardown() {
  registry_stop_all
}

setup() {
  requires registry python3
  command -v skopeo >/dev/null || skip "needs skopeo (package skopeo)"
  command -v umoci >/dev/null || skip "needs umoci (package umoci)"
}

# layer_listing DIR TAG N: the entries of layer N (0 = bottom) of an OCI layout's image,
# "TYPE NAME[ -> LINK]" per line (python's tarfile, not the tar under test).
layer_listing() {
  local digest
  digest=$(oci_image_layers "$1" "$2" | sed -n "$(($3 + 1))p")
  tar_listing <"$1/blobs/sha256/${digest#sha256:}"
}

# tar_listing: the entries of the (gzipped) tar on stdin; PAX xattrs too.
tar_listing() {
  python3 -c '
import gzip, io, sys, tarfile
data = sys.stdin.buffer.read()
if data[:2] == b"\x1f\x8b":
    data = gzip.decompress(data)
for m in tarfile.open(fileobj=io.BytesIO(data)):
    t = {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink"}.get(m.type, "file")
    x = " ".join("%s=%s" % kv for kv in sorted(m.pax_headers.items()) if kv[0].startswith("SCHILY.xattr."))
    print(t, m.name + (" -> " + m.linkname if m.linkname else "") + (" " + x if x else ""))'
}

@test "fixtures: an OCI image and its v2s2 copy are served, with the config digest as the id" {
  local l=$BATS_TEST_TMPDIR/layout id
  oci_image_busybox --config.user=1000 "$l" bb
  id=$(oci_image_id "$l" bb)
  [[ $id =~ ^sha256-[0-9a-f]{64}$ ]]
  image_push "oci:$l:bb" "$REGISTRY/test/oci:1"
  image_push "oci:$l:bb" "$REGISTRY/test/v2s2:1" --format v2s2
  log_run skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/oci:1"
  # (mediaType is optional in an OCI manifest; umoci leaves it out)
  [[ $(json_query 'j.get("mediaType", "application/vnd.oci.image.manifest.v1+json")' <<<"$output") == application/vnd.oci.image.manifest.v1+json ]]
  [[ $(json_query 'j["config"]["mediaType"]' <<<"$output") == application/vnd.oci.image.config.v1+json ]]
  log_run skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/v2s2:1"
  [[ $(json_query 'j["mediaType"]' <<<"$output") == application/vnd.docker.distribution.manifest.v2+json ]]
  [[ $(json_query 'j["layers"][0]["mediaType"]' <<<"$output") == application/vnd.docker.image.rootfs.diff.tar.gzip ]]
  # skopeo keeps the config: both forms have the same id.
  [[ $(registry_image_id "$REGISTRY/test/oci:1") == "$id" ]]
  [[ $(registry_image_id "$REGISTRY/test/v2s2:1") == "$id" ]]
  log_run skopeo inspect --tls-verify=false "docker://$REGISTRY/test/oci:1"
  [[ $(json_query 'j["Architecture"]' <<<"$output") == "$OCI_ARCH" ]]
  log_run skopeo inspect --config --tls-verify=false "docker://$REGISTRY/test/v2s2:1"
  [[ $(json_query 'j["config"]["User"]' <<<"$output") == 1000 ]]
  [[ $(json_query 'j["config"]["Entrypoint"]' <<<"$output") == '["/bin/sh", "-c"]' ]]
  [[ $(json_query 'j["config"]["WorkingDir"]' <<<"$output") == / ]]
  # By digest too.
  local digest
  digest=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/oci:1" | sha256sum | cut -d' ' -f1)
  [[ $(registry_image_id "$REGISTRY/test/oci@$digest") == "$id" ]]
}

@test "fixtures: the access log counts blob GETs and bytes served, ranges included" {
  local l=$BATS_TEST_TMPDIR/layout mark layer size
  oci_image_build "$l" big rand:/data:300000
  image_push "oci:$l:big" "$REGISTRY/test/big:1"
  layer=$(oci_image_layers "$l" big)
  size=$(stat -c %s "$l/blobs/sha256/${layer#sha256:}")
  mark=$(registry_log_mark)
  log_run skopeo copy --quiet --src-tls-verify=false "docker://$REGISTRY/test/big:1" "oci:$BATS_TEST_TMPDIR/out:x"
  assert_status 0
  # The layer and the config.
  [[ $(registry_blob_gets "$mark") -eq 2 ]] || fail "expected 2 blob GETs, counted $(registry_blob_gets "$mark")"
  [[ $(registry_blob_bytes "$mark" "$layer") -eq $size ]] || fail "layer: $(registry_blob_bytes "$mark" "$layer") bytes, not $size"
  [[ $(registry_blob_bytes "$mark") -gt $size ]]
  mark=$(registry_log_mark)
  curl -s -o /dev/null -H 'Range: bytes=1000-' "$REGISTRY_URL/v2/test/big/blobs/$layer"
  [[ $(registry_blob_gets "$mark") -eq 1 ]]
  [[ $(registry_blob_bytes "$mark" "$layer") -eq $((size - 1000)) ]]
  registry_log_since "$mark" | grep -q '" 206 '
  [[ $(registry_requests "$mark") -eq 1 ]]
  # Nothing asked, nothing counted.
  mark=$(registry_log_mark)
  [[ $(registry_requests "$mark") -eq 0 ]]
}

@test "fixtures: two images on one base share its layer blob; an update changes one layer" {
  local l=$BATS_TEST_TMPDIR/layout
  oci_image_busybox "$l" base
  oci_image_tag "$l" base a
  oci_image_tag "$l" base b
  oci_image_add_layer "$l" a txt:/etc/a:a
  oci_image_add_layer "$l" b txt:/etc/b:b
  [[ $(oci_image_layers "$l" a | head -1) == $(oci_image_layers "$l" b | head -1) ]]
  [[ $(oci_image_layers "$l" a | tail -1) != $(oci_image_layers "$l" b | tail -1) ]]
  [[ $(oci_image_layers "$l" a | wc -l) -eq 2 ]]
  image_push "oci:$l:a" "$REGISTRY/test/share-a:1"
  image_push "oci:$l:b" "$REGISTRY/test/share-b:1"
  # The update: a's top layer replaced.
  oci_image_tag "$l" base a2
  oci_image_add_layer "$l" a2 txt:/etc/a:a2
  [[ $(oci_image_layers "$l" a2 | head -1) == $(oci_image_layers "$l" a | head -1) ]]
  [[ $(oci_image_layers "$l" a2 | tail -1) != $(oci_image_layers "$l" a | tail -1) ]]
  image_push "oci:$l:a2" "$REGISTRY/test/share-a:1"
  [[ $(registry_image_id "$REGISTRY/test/share-a:1") == $(oci_image_id "$l" a2) ]]
}

@test "fixtures: a client that keeps its blobs re-pulls only the changed layer and the config (skopeo into one layout)" {
  local l=$BATS_TEST_TMPDIR/layout out=$BATS_TEST_TMPDIR/out mark top size
  oci_image_busybox "$l" base
  oci_image_tag "$l" base v1
  oci_image_tag "$l" base v2
  oci_image_add_layer "$l" v1 rand:/etc/a:200000
  oci_image_add_layer "$l" v2 rand:/etc/a:300000
  image_push "oci:$l:v1" "$REGISTRY/test/upd:1"
  skopeo copy --quiet --src-tls-verify=false "docker://$REGISTRY/test/upd:1" "oci:$out:x"
  image_push "oci:$l:v2" "$REGISTRY/test/upd:1"
  top=$(oci_image_layers "$l" v2 | tail -1)
  size=$(stat -c %s "$l/blobs/sha256/${top#sha256:}")
  mark=$(registry_log_mark)
  skopeo copy --quiet --src-tls-verify=false "docker://$REGISTRY/test/upd:1" "oci:$out:x"
  [[ $(registry_blob_gets "$mark") -eq 2 ]] || fail "$(registry_blob_gets "$mark") blob GETs: $(registry_log_since "$mark")"
  [[ $(registry_blob_bytes "$mark" "$top") -eq $size ]]
  [[ $(registry_blob_bytes "$mark") -lt $((size + 4096)) ]]
}

@test "fixtures: random layers for big images; registry_push_busybox" {
  local l=$BATS_TEST_TMPDIR/layout
  oci_image_busybox "$l" big
  oci_image_random_layers "$l" big 3 500000
  [[ $(oci_image_layers "$l" big | wc -l) -eq 4 ]]
  local d
  for d in $(oci_image_layers "$l" big | tail -3); do
    [[ $(stat -c %s "$l/blobs/sha256/${d#sha256:}") -gt 500000 ]]
  done
  umoci unpack --image "$l:big" "$BATS_TEST_TMPDIR/b" >/dev/null
  [[ $(stat -c %s "$BATS_TEST_TMPDIR/b/rootfs/random/3") -eq 500000 && -x $BATS_TEST_TMPDIR/b/rootfs/bin/busybox ]]
  image_push "oci:$l:big" "$REGISTRY/test/big-random:1"
  [[ $(registry_image_id "$REGISTRY/test/big-random:1") == $(oci_image_id "$l" big) ]]
  registry_push_busybox test/pushed:1 --format v2s2
  [[ $(registry_image_id "$REGISTRY/test/pushed:1") == "$PUSHED_ID" ]]
}

@test "fixtures: whiteouts and opaque directories in later layers" {
  local l=$BATS_TEST_TMPDIR/layout b=$BATS_TEST_TMPDIR/bundle
  oci_image_busybox "$l" wh txt:/work/old:old txt:/etc/gone:gone
  oci_image_remove "$l" wh /etc/gone
  oci_image_opaque "$l" wh /work txt:/new:new
  [[ $(oci_image_layers "$l" wh | wc -l) -eq 3 ]]
  log_run layer_listing "$l" wh 1
  [[ $(grep -v '^dir ' <<<"$output") == "file etc/.wh.gone" ]] # (etc itself when its mtime changed)
  log_run layer_listing "$l" wh 2
  [[ $output == *"file work/.wh..wh..opq"* && $output == *"file work/new"* ]]
  # umoci applies them as a registry client would.
  umoci unpack --image "$l:wh" "$b" >/dev/null
  [[ ! -e $b/rootfs/etc/gone && ! -e $b/rootfs/work/old && $(cat "$b/rootfs/work/new") == new ]]
  [[ -x $b/rootfs/bin/busybox && -L $b/rootfs/bin/sh ]]
}

@test "fixtures: a manifest list of three platforms, the host's first" {
  manifest_list_push test/list:1
  log_run skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/list:1"
  [[ $(json_query 'j["mediaType"]' <<<"$output") == application/vnd.oci.image.index.v1+json ]]
  [[ $(json_query '", ".join(m["platform"]["os"] + "/" + m["platform"]["architecture"] for m in j["manifests"])' <<<"$output") == \
    "linux/$OCI_ARCH, linux/$LIST_OTHER_ARCH, linux/$LIST_THIRD_ARCH" ]]
  [[ $LIST_DIGEST == sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1) ]]
  [[ $(registry_image_id "$REGISTRY/test/list:1") == "$LIST_HOST_ID" ]]
  [[ $(registry_image_id "$REGISTRY/test/list:1" "$LIST_OTHER_ARCH") == "$LIST_OTHER_ID" ]]
  [[ $(registry_image_id "$REGISTRY/test/list@$LIST_DIGEST" "$LIST_THIRD_ARCH") == "$LIST_THIRD_ID" ]]
  [[ $LIST_HOST_ID != "$LIST_OTHER_ID" && $LIST_OTHER_ID != "$LIST_THIRD_ID" ]]
  # skopeo picks by platform from it.
  log_run skopeo inspect --tls-verify=false --override-arch="$LIST_OTHER_ARCH" "docker://$REGISTRY/test/list:1"
  [[ $(json_query 'j["Architecture"]' <<<"$output") == "$LIST_OTHER_ARCH" ]]
}

@test "fixtures: the same list as a Docker manifest list (--format v2s2)" {
  manifest_list_push test/list2:1 --format v2s2
  log_run skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/list2:1"
  [[ $(json_query 'j["mediaType"]' <<<"$output") == application/vnd.docker.distribution.manifest.list.v2+json ]]
  [[ $(json_query 'j["manifests"][0]["mediaType"]' <<<"$output") == application/vnd.docker.distribution.manifest.v2+json ]]
  [[ $(registry_image_id "$REGISTRY/test/list2:1") == "$LIST_HOST_ID" ]]
  [[ $(registry_image_id "$REGISTRY/test/list2:1" "$LIST_OTHER_ARCH") == "$LIST_OTHER_ID" ]]
}

@test "fixtures: TLS: the made CA verifies the registry (SAN IP:127.0.0.1); without it, no" {
  registry_start --tls
  [[ $REGISTRY_URL == https://* && -f $REGISTRY_CA ]]
  log_run openssl verify -CAfile "$REGISTRY_CA" "$REGISTRY_DIR/server.crt"
  assert_status 0
  [[ $(curl -s --cacert "$REGISTRY_CA" "$REGISTRY_URL/v2/") == "{}" ]]
  log_run curl -s -o /dev/null "$REGISTRY_URL/v2/"
  assert_status 60 # the peer's certificate did not verify
  log_run curl -s "http://$REGISTRY/v2/"
  [[ $output != "{}" ]]
  # skopeo with the CA as a cert dir, verifying.
  local l=$BATS_TEST_TMPDIR/layout certs=$BATS_TEST_TMPDIR/certs
  oci_image_build "$l" t txt:/etc/t:t
  mkdir -p "$certs"
  cp "$REGISTRY_CA" "$certs/ca.crt"
  log_run skopeo copy --quiet --dest-cert-dir="$certs" "oci:$l:t" "docker://$REGISTRY/test/tls:1"
  assert_status 0
  log_run skopeo inspect --raw "docker://$REGISTRY/test/tls:1"
  [[ $status -ne 0 && $output == *certificate* ]] || fail "skopeo trusted the registry without the CA"
  registry_stop
}

@test "fixtures: htpasswd: anonymous is refused with a Basic challenge, the user is let in" {
  registry_start --htpasswd alice:s3cret-Pa55
  [[ $REGISTRY_USER == alice && $REGISTRY_PASS == s3cret-Pa55 ]]
  log_run curl -s -i "$REGISTRY_URL/v2/"
  [[ $output == *"HTTP/1.1 401"* && $output == *'Www-Authenticate: Basic realm="podrun-test"'* ]]
  [[ $(curl -s -u alice:wrong -o /dev/null -w '%{http_code}' "$REGISTRY_URL/v2/") == 401 ]]
  [[ $(registry_curl -o /dev/null -w '%{http_code}' "$REGISTRY_URL/v2/") == 200 ]]
  local l=$BATS_TEST_TMPDIR/layout
  oci_image_build "$l" t txt:/etc/t:t
  image_push "oci:$l:t" "$REGISTRY/test/auth:1"
  log_run skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/auth:1"
  [[ $status -ne 0 && $output == *unauthorized* ]] || fail "anonymous inspect was not refused"
  [[ $(registry_image_id "$REGISTRY/test/auth:1") == $(oci_image_id "$l" t) ]]
  registry_stop
}

# token_for SCOPE [USER:PASS]: a token from $TOKEN_REALM (empty when refused).
token_for() {
  curl -s ${2:+-u "$2"} "$TOKEN_REALM?service=podrun-test-registry&scope=$1" | json_query 'j.get("token", "")' 2>/dev/null
}

@test "fixtures: token: the registry sends a Bearer challenge; anonymous tokens pull and push" {
  registry_start --token
  log_run curl -s -i "$REGISTRY_URL/v2/test/tok/manifests/1"
  [[ $output == *"HTTP/1.1 401"* ]]
  [[ $output == *"Www-Authenticate: Bearer realm=\"$TOKEN_REALM\",service=\"podrun-test-registry\",scope=\"repository:test/tok:pull\""* ]] ||
    fail "no Bearer challenge naming the realm, service and scope"
  local l=$BATS_TEST_TMPDIR/layout token
  oci_image_build "$l" t txt:/etc/t:t
  image_push "oci:$l:t" "$REGISTRY/test/tok:1"
  [[ $(registry_image_id "$REGISTRY/test/tok:1") == $(oci_image_id "$l" t) ]]
  token=$(token_for repository:test/tok:pull)
  [[ -n $token ]]
  [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/test/tok/manifests/1") == 200 ]]
  # A token for another repository does not open this one; a forged one neither.
  token=$(token_for repository:test/other:pull)
  [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$REGISTRY_URL/v2/test/tok/manifests/1") == 401 ]]
  [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${token%.*}.AAAA" "$REGISTRY_URL/v2/test/tok/manifests/1") == 401 ]]
  grep -q 'GET /token' "$TOKEN_LOG"
  registry_stop
}

@test "fixtures: token with a user: anonymous gets no token, the user gets one and pulls" {
  registry_start --token --htpasswd=bob:t0ken-Pa55
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$TOKEN_REALM?service=podrun-test-registry&scope=repository:test/tok:pull") == 401 ]]
  [[ $(curl -s -o /dev/null -w '%{http_code}' -u bob:nope "$TOKEN_REALM?service=podrun-test-registry&scope=repository:test/tok:pull") == 401 ]]
  [[ -n $(token_for repository:test/tok:pull bob:t0ken-Pa55) ]]
  local l=$BATS_TEST_TMPDIR/layout
  oci_image_build "$l" t txt:/etc/t:t
  image_push "oci:$l:t" "$REGISTRY/test/tok:1"
  [[ $(registry_image_id "$REGISTRY/test/tok:1") == $(oci_image_id "$l" t) ]]
  log_run skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/tok:1"
  [[ $status -ne 0 ]] || fail "anonymous inspect was not refused"
  ! grep -q t0ken-Pa55 "$TOKEN_LOG" "$REGISTRY_LOG" || fail "a password is in a log"
  registry_stop
}

@test "fixtures: token over TLS: the token server uses the registry's certificate" {
  registry_start --tls --token
  [[ $TOKEN_REALM == https://* ]]
  [[ -n $(curl -s --cacert "$REGISTRY_CA" "$TOKEN_REALM?service=podrun-test-registry&scope=repository:x/y:pull" |
    json_query 'j["token"]') ]]
  local l=$BATS_TEST_TMPDIR/layout
  oci_image_build "$l" t txt:/etc/t:t
  image_push "oci:$l:t" "$REGISTRY/test/tok:1"
  [[ $(registry_image_id "$REGISTRY/test/tok:1") == $(oci_image_id "$l" t) ]]
  registry_stop
}

# hostile_get SCENARIO PATH [CURL-ARGS…]: curl of the hostile registry, body on stdout.
hostile_get() {
  local s=$1 p=$2
  shift 2
  curl -s "$@" "http://$HOSTILE/v2/$s/image/$p"
}

hostile_manifest() {
  hostile_get "$1" manifests/1
}

# hostile_layer SCENARIO [N]: the bytes of layer N (0) as served.
hostile_layer() {
  local d
  d=$(hostile_manifest "$1" | json_query "j['layers'][${2:-0}]['digest']")
  hostile_get "$1" "blobs/$d"
}

@test "hostile fixtures: good is a registry image skopeo copies" {
  [[ $(curl -s "http://$HOSTILE/v2/") == "{}" ]]
  log_run skopeo copy --quiet --src-tls-verify=false "docker://$HOSTILE/good/image:1" "oci:$BATS_TEST_TMPDIR/o:g"
  assert_status 0
  log_run skopeo copy --quiet --src-tls-verify=false "docker://$HOSTILE/redirect-ok/image:1" "oci:$BATS_TEST_TMPDIR/o2:r"
  assert_status 0
  grep -q '^GET /v2/good/image/manifests/1 range=- status=200 bytes=' "$HOSTILE_LOG"
  grep -q 'redirect-ok/image/blobs/sha256:[0-9a-f]*?moved=1 range=- status=200' "$HOSTILE_LOG"
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$HOSTILE/v2/nosuch/image/manifests/1") == 404 ]]
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$HOSTILE/v2/good/image/manifests/2") == 404 ]]
  # By digest.
  local d
  d=sha256:$(hostile_manifest good | sha256sum | cut -d' ' -f1)
  [[ $(hostile_get good "manifests/$d" | sha256sum | cut -d' ' -f1) == "${d#sha256:}" ]]
}

@test "hostile fixtures: digest mismatches (layer, config, manifest by digest, diff_id)" {
  local m d
  for s in digest-mismatch config-mismatch; do
    log_run skopeo copy --quiet --src-tls-verify=false "docker://$HOSTILE/$s/image:1" "oci:$BATS_TEST_TMPDIR/o:$s"
    [[ $status -ne 0 && ${output,,} == *digest*match* ]] || fail "$s: skopeo did not see a digest mismatch"
  done
  m=$(hostile_manifest digest-mismatch)
  d=$(json_query 'j["layers"][0]["digest"]' <<<"$m")
  [[ sha256:$(hostile_layer digest-mismatch | sha256sum | cut -d' ' -f1) != "$d" ]]
  [[ $(hostile_layer digest-mismatch | wc -c) -eq $(json_query 'j["layers"][0]["size"]' <<<"$m") ]]
  d=sha256:$(printf 'x%.0s' {1..64} | sha256sum | cut -d' ' -f1)
  [[ $(hostile_get manifest-digest-mismatch "manifests/$d" | sha256sum | cut -d' ' -f1) != "${d#sha256:}" ]]
  [[ -n $(hostile_get manifest-digest-mismatch "manifests/$d") ]]
  m=$(hostile_manifest diffid-mismatch)
  d=$(json_query 'j["config"]["digest"]' <<<"$m")
  [[ $(hostile_get diffid-mismatch "blobs/$d" | json_query 'j["rootfs"]["diff_ids"][0]') != \
    "sha256:$(hostile_layer diffid-mismatch | gzip -dc | sha256sum | cut -d' ' -f1)" ]]
}

@test "hostile fixtures: a 100 MiB manifest, with and without Content-Length; a wrong media type" {
  log_run curl -s -I "http://$HOSTILE/v2/huge-manifest/image/manifests/1"
  [[ $output == *"Content-Length: 104857600"* ]]
  [[ $(hostile_manifest huge-manifest | wc -c) -eq 104857600 ]]
  [[ $(hostile_manifest huge-manifest | head -c 60) == '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image'* ]]
  log_run curl -s -D - -o /dev/null "http://$HOSTILE/v2/huge-manifest-nolength/image/manifests/1"
  [[ $output != *Content-Length* ]]
  [[ $(hostile_manifest huge-manifest-nolength | wc -c) -eq 104857600 ]]
  # A client that stops reading is not waited for.
  timeout 10 bash -c "curl -s http://$HOSTILE/v2/huge-manifest/image/manifests/1 | head -c 4096 >/dev/null"
  log_run curl -s -D - -o /dev/null "http://$HOSTILE/v2/wrong-media-type/image/manifests/1"
  [[ $output == *"Content-Type: application/vnd.podrun.bogus+json"* ]]
  [[ $(hostile_manifest wrong-media-type | json_query 'j["mediaType"]') == application/vnd.podrun.bogus+json ]]
  [[ $(hostile_manifest wrong-layer-media-type | json_query 'j["layers"][0]["mediaType"]') == application/vnd.podrun.bogus.layer ]]
}

@test "hostile fixtures: redirect loops on the manifest and on a blob" {
  log_run curl -s -L --max-redirs 20 -o /dev/null "http://$HOSTILE/v2/redirect-loop/image/manifests/1"
  assert_status 47 # too many redirects
  local d
  d=$(hostile_manifest redirect-blob-loop | json_query 'j["layers"][0]["digest"]')
  log_run curl -s -L --max-redirs 20 -o /dev/null "http://$HOSTILE/v2/redirect-blob-loop/image/blobs/$d"
  assert_status 47
  [[ $(grep -c 'redirect-loop/image/manifests/1' "$HOSTILE_LOG") -ge 10 ]]
}

@test "hostile fixtures: slow, throttled with Range, truncated and missing layers" {
  local d start n
  d=$(hostile_manifest slow | json_query 'j["layers"][0]["digest"]')
  start=$SECONDS
  n=$(hostile_get slow "blobs/$d" --max-time 3 | wc -c)
  [[ $n -ge 1 && $n -le 4 ]] || fail "slow sent $n bytes in 3 s"
  [[ $((SECONDS - start)) -le 5 ]]
  # throttled: 1 MiB at 256 KiB/s; a Range request gets the rest, 206.
  d=$(hostile_manifest throttled | json_query 'j["layers"][0]["digest"]')
  log_run curl -s -D - -o "$BATS_TEST_TMPDIR/part" -H 'Range: bytes=1000000-' "http://$HOSTILE/v2/throttled/image/blobs/$d"
  [[ $output == *"HTTP/1.0 206"* || $output == *"HTTP/1.1 206"* ]]
  [[ $output == *"Content-Range: bytes 1000000-"* ]]
  n=$(stat -c %s "$BATS_TEST_TMPDIR/part")
  [[ $n -gt 1000 ]]
  start=$(date +%s%N)
  hostile_get throttled "blobs/$d" -o "$BATS_TEST_TMPDIR/full"
  [[ $((($(date +%s%N) - start) / 1000000)) -ge 2500 ]] || fail "throttled came too fast"
  [[ sha256:$(sha256sum <"$BATS_TEST_TMPDIR/full" | cut -d' ' -f1) == "$d" ]]
  cmp <(tail -c "$n" "$BATS_TEST_TMPDIR/full") "$BATS_TEST_TMPDIR/part"
  # throttled-norange: a Range request gets 200 and the whole blob.
  d=$(hostile_manifest throttled-norange | json_query 'j["layers"][0]["digest"]')
  log_run curl -s -D - -o "$BATS_TEST_TMPDIR/norange" -H 'Range: bytes=1000000-' "http://$HOSTILE/v2/throttled-norange/image/blobs/$d"
  [[ $output == *"HTTP/1.1 200"* && $output != *Content-Range* ]]
  [[ sha256:$(sha256sum <"$BATS_TEST_TMPDIR/norange" | cut -d' ' -f1) == "$d" ]]
  d=$(hostile_manifest truncated-layer | json_query 'j["layers"][0]["digest"]')
  log_run curl -s -o /dev/null "http://$HOSTILE/v2/truncated-layer/image/blobs/$d"
  assert_status 18 # transfer closed with outstanding read data remaining
  d=$(hostile_manifest missing-blob | json_query 'j["layers"][0]["digest"]')
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$HOSTILE/v2/missing-blob/image/blobs/$d") == 404 ]]
}

@test "hostile fixtures: escaping layers, the gzip bomb, odd whiteouts, trusted xattrs" {
  local up
  up=$(printf '../%.0s' {1..24})
  [[ $(hostile_layer escaping-layer | tar_listing) == *"file ${up}tmp/podrun-docker-evil"* ]]
  [[ $(hostile_layer escaping-hardlink | tar_listing) == *"hardlink etc/passwd-copy -> ${up}etc/passwd"* ]]
  [[ $(hostile_layer escaping-symlink | tar_listing) == "symlink up -> ${up}tmp"$'\n'"file up/podrun-docker-evil" ]]
  [[ $(hostile_layer absolute-symlink | tar_listing) == "symlink abs -> /tmp"$'\n'"file abs/podrun-docker-evil" ]]
  [[ $(hostile_layer symlink-cross-layer 0 | tar_listing) == "symlink lnk -> /tmp" ]]
  [[ $(hostile_layer symlink-cross-layer 1 | tar_listing) == "dir lnk"$'\n'"file lnk/podrun-docker-evil" ]]
  local z n
  z=$(hostile_layer gzip-bomb | wc -c)
  n=$(hostile_layer gzip-bomb | gzip -dc | wc -c)
  [[ $z -lt 1048576 && $n -gt 268435456 ]] || fail "gzip-bomb: $z bytes inflate to $n"
  [[ $(hostile_layer whiteout-dot 1 | tar_listing) == *"file etc/.wh.." ]]
  [[ $(hostile_layer whiteout-dotdot 1 | tar_listing) == *"file etc/.wh..." ]]
  [[ $(hostile_layer whiteout-escape 1 | tar_listing) == "file ${up}tmp/podrun-docker-victim/.wh.victim" ]]
  [[ $(hostile_layer whiteout-symlink | tar_listing) == "symlink lnk -> /tmp/podrun-docker-victim"$'\n'"file lnk/.wh.victim" ]]
  [[ $(hostile_layer opaque-odd | tar_listing) == "symlink lnk -> /tmp/podrun-docker-victim"$'\n'"file lnk/.wh..wh..opq" ]]
  log_run bash -c "curl -s http://$HOSTILE/v2/trusted-xattr/image/manifests/1 >/dev/null"
  [[ $(hostile_layer trusted-xattr 1 | tar_listing) == *"dir etc SCHILY.xattr.trusted.overlay.opaque=y"* ]]
  [[ $(hostile_layer trusted-xattr 1 | tar_listing) == *"dir usr SCHILY.xattr.trusted.overlay.redirect=/etc"* ]]
  # GNU tar reads the xattrs from those headers (what a layer extractor would apply).
  hostile_layer trusted-xattr 1 | gzip -dc | tar --xattrs --xattrs-include='*' -tvvf - >/dev/null
}

@test "hostile fixtures: a digest that is a path, an index that nests itself, credentials redirected to another host" {
  local d
  d=$(hostile_manifest bad-digest | json_query 'j["layers"][0]["digest"]')
  [[ $d == sha256:../../*tmp/podrun-docker-evil ]]
  log_run skopeo copy --quiet --src-tls-verify=false "docker://$HOSTILE/bad-digest/image:1" "oci:$BATS_TEST_TMPDIR/o:b"
  [[ $status -ne 0 ]]
  [[ ! -e /tmp/podrun-docker-evil ]]
  # index-loop: the index names a nested index; by any digest, the same index again.
  local idx
  idx=$(hostile_manifest index-loop)
  [[ $(json_query 'j["manifests"][0]["mediaType"]' <<<"$idx") == application/vnd.oci.image.index.v1+json ]]
  d=$(json_query 'j["manifests"][0]["digest"]' <<<"$idx")
  [[ $(hostile_get index-loop "manifests/$d") == "$idx" ]]
  [[ sha256:$(printf '%s' "$idx" | sha256sum | cut -d' ' -f1) != "$d" ]]
  # auth-redirect, on a server wanting credentials: 401 with a Basic challenge without
  # them; with them, the layer redirects to localhost, which serves it without any.
  hostile_start --auth hostile-user:hostile-pass
  log_run curl -s -i "http://$HOSTILE/v2/"
  [[ $output == *"401 Unauthorized"* ]]
  log_run curl -s -i "http://$HOSTILE/v2/auth-redirect/image/manifests/1"
  [[ $output == *"401 Unauthorized"* && $output == *'WWW-Authenticate: Basic realm="hostile"'* ]]
  d=$(curl -s -u hostile-user:hostile-pass "http://$HOSTILE/v2/auth-redirect/image/manifests/1" | json_query 'j["layers"][0]["digest"]')
  log_run curl -s -u hostile-user:hostile-pass -o /dev/null -w '%{http_code} %{redirect_url}' "http://$HOSTILE/v2/auth-redirect/image/blobs/$d"
  [[ $output == "307 http://localhost:${HOSTILE#*:}/v2/auth-redirect/image/blobs/$d?moved=1" ]]
  [[ $(curl -s -L -u hostile-user:hostile-pass "http://$HOSTILE/v2/auth-redirect/image/blobs/$d" | sha256sum | cut -d' ' -f1) == "${d#sha256:}" ]]
  # curl does not send the credentials to the other host (its log says so).
  grep -q "auth-redirect/image/blobs/$d?moved=1 range=- status=200 bytes=[0-9]* auth=- host=localhost:" "$HOSTILE_LOG"
  # skopeo with the credentials fetches it.
  log_run skopeo copy --quiet --src-tls-verify=false --src-creds=hostile-user:hostile-pass \
    "docker://$HOSTILE/auth-redirect/image:1" "oci:$BATS_TEST_TMPDIR/o2:a"
  assert_status 0
  hostile_stop
}
