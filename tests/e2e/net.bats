#!/usr/bin/env bats
# Pod networks with the CNI plugins (Documentation/networking.md), nspawn flavor: the
# default network (ptp, 172.16.28.0/24, NAT), default-restricted, networks of net.d,
# --port, the DNS of the result, and that nothing (address, veth, iptables rule, netns)
# is left after a pod, even one whose stage1 was killed. Traffic stays on this machine:
# between the pods, the host and an "outside" host in a network namespace of the test's.

load helpers

IPAM=/run/podrun/cni/networks

setup() {
  requires root python3 nspawn
  [[ -x /usr/lib/cni/ptp && -x /usr/lib/cni/host-local && -x /usr/lib/cni/portmap ]] ||
    skip "needs the CNI plugins (package containernetworking-plugins)"
  command -v iptables-save >/dev/null || skip "needs iptables"
  NETD=$BATS_TEST_TMPDIR/config/net.d
  mkdir -p "$NETD"
  make_httpd_aci
  OUTSIDE=
  OUTSIDE_PID=
  DUMMY=
  JOINED=
}

teardown() {
  teardown_pods
  [[ -z "$OUTSIDE_PID" ]] || kill "$OUTSIDE_PID" 2>/dev/null || true
  [[ -z "$OUTSIDE" ]] || ip netns del "$OUTSIDE" 2>/dev/null || true
  [[ -z "$OUTSIDE" ]] || ip link del "prout$$" 2>/dev/null || true
  if [[ -n "$JOINED" ]]; then
    local id
    for id in $("$BUILD/bin/podrun-oci" --root "$BATS_TEST_TMPDIR/oci" list --quiet 2>/dev/null); do
      "$BUILD/bin/podrun-oci" --root "$BATS_TEST_TMPDIR/oci" delete --force "$id" >/dev/null 2>&1 || true
    done
    ip netns del "$JOINED" 2>/dev/null || true
  fi
  [[ -z "$DUMMY" ]] || ip link del "$DUMMY" 2>/dev/null || true
}

# podrun with the test's own local configuration (its net.d)
pr() {
  podrun --local-config="$BATS_TEST_TMPDIR/config" "$@"
}

# podrun.test/httpd: busybox (httpd, wget, ip, sh…) serving /www (index.html: "hello
# from the pod") on its port "http" (80/tcp), and declaring "dns" (53/udp) too.
make_httpd_aci() {
  httpd_aci podrun.test/httpd "hello from the pod" \
    '[{"name": "http", "protocol": "tcp", "port": 80}, {"name": "dns", "protocol": "udp", "port": 53}]'
}

# start_httpd NAME [FLAGS…]: runs podrun.test/httpd in the background; $UUID, and
# $ADDR its address once it has one (10 s at most).
start_httpd() {
  local f=$BATS_TEST_TMPDIR/uuid-$1
  shift
  pr run --uuid-file-save="$f" "$@" podrun.test/httpd >"$f.log" 2>&1 &
  UUID=$(wait_pod_file "$f" pid)
  [[ -n "$UUID" ]] || fail "the pod did not start: $(cat "$f.log")" || return 1
  ADDR=$(pr status "$UUID" | sed -n 's/^networks=[^:]*:ip4=\([0-9.]*\).*/\1/p')
  [[ -n "$ADDR" ]] || fail "no address in status: $(pr status "$UUID")"
}

# The host-side traces of the pods on the built-in networks: host veths (their
# address is the gateway's), /32 routes to pods, the CNI chains and rules of
# iptables' nat table, the reservations of host-local, netns mounts below $STORE.
net_traces() {
  echo "veths: $(ip -4 -o addr show | grep -c ' 172\.16\.2[89]\.1/32')"
  echo "routes: $(ip -4 route show | grep -cE '^172\.16\.2[89]\.[0-9]+ dev')"
  echo "chains: $(iptables-save -t nat | grep -E '^:CNI-' | grep -vc 'CNI-HOSTPORT-')"
  echo "rules: $(iptables-save -t nat | grep '^-A' | grep -v 'CNI-HOSTPORT-' | grep -c 'CNI-')"
  echo "masquerade: $(iptables-save -t nat | grep -c 'podrun network default')"
  echo "reservations: $(find "$IPAM" -type f -name '1*' 2>/dev/null | wc -l)"
  echo "netns: $(grep -c " ${STORE}/" /proc/self/mountinfo)"
}

# assert_no_trace_of UUID…: none of these pods has a reservation, an iptables rule
# or a netns mount left.
assert_no_trace_of() {
  local u
  for u in "$@"; do
    ! grep -rqs "$u" "$IPAM" || fail "host-local still holds an address for $u: $(grep -rls "$u" "$IPAM")"
    ! iptables-save -t nat | grep -q "$u" || fail "iptables rules of $u are left: $(iptables-save -t nat | grep "$u")"
  done
  ! grep -q " ${STORE}/" /proc/self/mountinfo || fail "mounts left below the store: $(grep " ${STORE}/" /proc/self/mountinfo)"
}

# make_outside: a network namespace of the test's, $OUTSIDE, reached from the host
# through a veth pair (host 198.51.100.1, outside 198.51.100.2, no route back to any
# pod network), serving "hello from outside" on 198.51.100.2:8081.
make_outside() {
  OUTSIDE=podrun-out-$$
  local host_if=prout$$ out_if=prin$$ www=$BATS_TEST_TMPDIR/outside-www
  mkdir -p "$www"
  echo "hello from outside" >"$www/index.html"
  ip netns add "$OUTSIDE"
  ip link add "$host_if" type veth peer name "$out_if" netns "$OUTSIDE"
  ip addr add 198.51.100.1/24 dev "$host_if"
  ip link set "$host_if" up
  ip -n "$OUTSIDE" addr add 198.51.100.2/24 dev "$out_if"
  ip -n "$OUTSIDE" link set "$out_if" up
  ip -n "$OUTSIDE" link set lo up
  nsenter --net="/run/netns/$OUTSIDE" busybox httpd -f -p 198.51.100.2:8081 -h "$www" &
  OUTSIDE_PID=$!
  for _ in $(seq 50); do
    curl -s -m 1 -o /dev/null http://198.51.100.2:8081/ && return 0
    sleep 0.1
  done
  fail "the outside server did not start"
}

@test "net: the default network is nspawn's default: an address of 172.16.28.0/24, a default route, status and list show it, DNS from the result" {
  run_podrun run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/httpd --exec=/bin/sh -- -c \
    'ip -4 -o addr show eth0; ip route show default; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " " | sort | tr "\n" " "' ---
  assert_status 0
  [[ "${lines[0]}" == *"inet 172.16.28."*/24* ]] || fail "no address of the default network: ${lines[0]}"
  [[ "${lines[1]}" == "default via 172.16.28.1 dev eth0"* ]] || fail "no default route: ${lines[1]}"
  [[ "${lines[-1]}" == "eth0 lo " || "${lines[-1]}" == "eth0 lo" ]] || fail "interfaces: ${lines[-1]}"
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  run_podrun status "$uuid"
  assert_output_contains "network=default"
  # the pod has exited: its address was released with its network, so none is shown
  [[ $output != *networks=* ]] || fail "an exited pod shows an address"
  [[ ! -e "$STORE/pods/run/$uuid/netns" ]] || fail "the exited pod's netns is left"
  assert_no_trace_of "$uuid"
  # while it runs, status and list show the address; the apps' resolv.conf is from the
  # result's DNS (the built-in networks take the host's non-loopback resolvers), --dns wins
  start_httpd a
  run_podrun status "$UUID"
  assert_output_contains "networks=default:ip4=$ADDR"
  run_podrun list --format=json
  [[ $(json_query "[p['networks'] for p in j if p['name'] == '$UUID'][0][0]['ips'][0]" <<<"$output") == "$ADDR/24" ]] ||
    fail "list --format=json: no address of $UUID"
  cat >"$NETD/10-dns.conf" <<EOF
{"cniVersion": "1.0.0", "name": "withdns", "type": "ptp", "dns": {"nameservers": ["192.0.2.53"], "search": ["pods.test"]},
 "ipam": {"type": "host-local", "dataDir": "$BATS_TEST_TMPDIR/ipam", "ranges": [[{"subnet": "10.99.7.0/24"}]]}}
EOF
  run_podrun --local-config="$BATS_TEST_TMPDIR/config" run --net=withdns podrun.test/httpd --exec=/bin/cat -- /etc/resolv.conf ---
  assert_status 0
  assert_output_contains "nameserver 192.0.2.53"
  assert_output_contains "search pods.test"
  run_podrun --local-config="$BATS_TEST_TMPDIR/config" run --net=withdns --dns=192.0.2.1 podrun.test/httpd --exec=/bin/cat -- /etc/resolv.conf ---
  assert_status 0
  assert_output_contains "nameserver 192.0.2.1"
  [[ $output != *192.0.2.53* ]] || fail "--dns did not replace the network's DNS"
  pr stop "$UUID" >/dev/null
  pr status --wait=10s "$UUID" >/dev/null
}

@test "net: pod B fetches a page from pod A's httpd by its address; the host reaches it through --port" {
  start_httpd a
  local a=$ADDR a_uuid=$UUID
  run_podrun run podrun.test/httpd --exec=/bin/timeout -- 10 wget -q -O - "http://$a/" ---
  assert_status 0
  [[ $output == "hello from the pod" ]] || fail "B did not get A's page: $output"
  # B is gone, A is not: the network's masquerade rule stays for A
  [[ $(iptables-save -t nat | grep -c 'podrun network default') -eq 1 ]] || fail "A lost the masquerade rule"
  pr stop "$a_uuid" >/dev/null
  pr status --wait=10s "$a_uuid" >/dev/null
  # --port: on the host's loopback and on its own address
  local port
  port=$(free_port)
  start_httpd p --port="http:$port"
  run curl -s -m 5 "http://127.0.0.1:$port/"
  [[ $output == "hello from the pod" ]] || fail "127.0.0.1:$port: $output"
  # the port is the pod's while it runs: another pod, or a server of the host's, cannot have it
  run_podrun run --port="http:$port" podrun.test/httpd
  assert_one_line_error "--port=http:$port: host port $port/tcp: Address already in use"
  run python3 -c "import socket; s = socket.socket(); s.bind(('0.0.0.0', $port))"
  [[ $status -ne 0 ]] || fail "a host process could bind the pod's port $port"
  local uuid=$UUID
  # the socket that holds it is the stage1's alone: no process of the pod has it (a
  # socket of the host's network namespace would be the host's network)
  local cg s1= p sock socks
  cg=$(cat "$STORE/pods/run/$uuid/cgroup")
  for p in $(find "$cg" -name cgroup.procs -exec cat {} +); do
    [[ $(readlink "/proc/$p/exe") != */stage1/rootfs/nspawn/run ]] || s1=$p
  done
  [[ -n $s1 ]] || fail "no stage1 process in $cg"
  socks=$(ls -l "/proc/$s1/fd" | grep -o 'socket:\[[0-9]*\]' || true)
  [[ -n $socks ]] || fail "the stage1 holds no socket"
  for p in $(find "$cg" -name cgroup.procs -exec cat {} +); do
    [[ $p != "$s1" ]] || continue
    for sock in $socks; do
      ! ls -l "/proc/$p/fd" 2>/dev/null | grep -qF "$sock" || fail "pod process $p holds the host port's $sock"
    done
  done
  pr stop "$uuid" >/dev/null
  pr status --wait=10s "$uuid" >/dev/null
  run curl -s -m 2 "http://127.0.0.1:$port/"
  [[ $output != "hello from the pod" ]] || fail "the port is still forwarded after the pod"
  assert_no_trace_of "$a_uuid" "$uuid"
}

@test "net: a pod reaches an outside host under default (NAT), and cannot under default-restricted, which reaches the host only" {
  make_outside
  run_podrun run podrun.test/httpd --exec=/bin/timeout -- 10 wget -q -O - http://198.51.100.2:8081/ ---
  assert_status 0
  [[ $output == "hello from outside" ]] || fail "default: $output"
  run_podrun run --net=default-restricted podrun.test/httpd --exec=/bin/sh -- -c \
    'ip -4 -o addr show eth0; ip route; timeout 5 wget -q -O - http://198.51.100.2:8081/' ---
  [[ $status -ne 0 ]] || fail "default-restricted reached the outside: $output"
  assert_output_contains "inet 172.16.29."
  [[ $output != *default* ]] || fail "default-restricted has a default route"
  # even a pod that may change its routes gets no answer: nothing routes back to it
  run_podrun run --net=default-restricted podrun.test/httpd --caps-retain=CAP_NET_ADMIN,CAP_NET_RAW --exec=/bin/sh -- -c \
    'ip route add default via 172.16.29.1 && timeout 5 wget -q -O - http://198.51.100.2:8081/' ---
  [[ $status -ne 0 && $output != *"hello from outside"* ]] || fail "a restricted pod with its own route reached the outside"
  # and the host is reachable: a server of the test's on the host, at the gateway
  local port www=$BATS_TEST_TMPDIR/host-www pid
  mkdir -p "$www"
  echo "hello from the host" >"$www/index.html"
  port=$(free_port)
  busybox httpd -f -p "0.0.0.0:$port" -h "$www" &
  pid=$!
  run_podrun run --net=default-restricted podrun.test/httpd --exec=/bin/timeout -- 10 wget -q -O - "http://172.16.29.1:$port/" ---
  kill "$pid"
  assert_status 0
  [[ $output == "hello from the host" ]] || fail "default-restricted did not reach the host: $output"
}

@test "net: 20 pods started and removed concurrently leave no address, veth, route, iptables rule or netns" {
  local before uuids=() i pids=()
  before=$(net_traces)
  for i in $(seq 20); do
    pr run --uuid-file-save="$BATS_TEST_TMPDIR/u$i" podrun.test/httpd --exec=/bin/sleep -- 60 --- \
      >"$BATS_TEST_TMPDIR/log$i" 2>&1 &
  done
  for i in $(seq 20); do
    uuids+=("$(wait_pod_file "$BATS_TEST_TMPDIR/u$i" pid)")
    [[ -n "${uuids[-1]}" ]] || fail "pod $i did not start: $(cat "$BATS_TEST_TMPDIR/log$i")" || return 1
  done
  # 20 addresses, all different
  local addrs
  addrs=$(for u in "${uuids[@]}"; do pr status "$u" | sed -n 's/^networks=default:ip4=//p'; done | sort -u | wc -l)
  [[ $addrs -eq 20 ]] || fail "$addrs distinct addresses for 20 pods"
  # the default network's NAT: one rule for the subnet, however many pods joined at once
  [[ $(iptables-save -t nat | grep -c 'podrun network default') -eq 1 ]] ||
    fail "masquerade rules: $(iptables-save -t nat | grep 'podrun network default')"
  for u in "${uuids[@]}"; do pr stop "$u" >/dev/null & pids+=($!); done
  wait "${pids[@]}"
  for u in "${uuids[@]}"; do pr status --wait=20s "$u" >/dev/null; done
  pids=()
  for u in "${uuids[@]}"; do pr rm "$u" >/dev/null & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || fail "rm failed"; done
  assert_no_trace_of "${uuids[@]}"
  [[ "$(net_traces)" == "$before" ]] || fail "before: $before; after: $(net_traces)"
}

@test "net: kill -9 of every stage1 of 20 pods, then gc: no address, veth, route, iptables rule or netns is left" {
  local before uuids=() i stage1s=()
  before=$(net_traces)
  for i in $(seq 20); do
    # podrun itself, not a function's subshell: podrun execs the stage1, $! is its pid
    "$PODRUN" --dir="$STORE" run --uuid-file-save="$BATS_TEST_TMPDIR/u$i" --port="http:$((20000 + i))" \
      podrun.test/httpd >"$BATS_TEST_TMPDIR/log$i" 2>&1 &
    stage1s+=($!)
  done
  for i in $(seq 20); do
    uuids+=("$(wait_pod_file "$BATS_TEST_TMPDIR/u$i" pid)")
    [[ -n "${uuids[-1]}" ]] || fail "pod $i did not start: $(cat "$BATS_TEST_TMPDIR/log$i")" || return 1
  done
  [[ $(iptables-save -t nat | grep -c "${uuids[0]}") -gt 0 ]] || fail "no iptables rule of a running pod: the check below would prove nothing"
  for i in "${stage1s[@]}"; do
    [[ $(readlink "/proc/$i/exe") == */stage1/rootfs/nspawn/* ]] || fail "pid $i is not a stage1: $(readlink "/proc/$i/exe")" || return 1
  done
  kill -9 "${stage1s[@]}"
  wait_gone "${stage1s[@]}"
  run_podrun gc --grace-period=0
  assert_status 0
  assert_no_trace_of "${uuids[@]}"
  [[ "$(net_traces)" == "$before" ]] || fail "before: $before; after: $(net_traces)"
}

@test "net: named networks of net.d: --net=a,b (eth0, eth1), NAME:K=V as CNI_ARGS, all, a .conflist" {
  local ipam=$BATS_TEST_TMPDIR/ipam
  cat >"$NETD/10-a.conf" <<EOF
{"cniVersion": "1.0.0", "name": "neta", "type": "ptp",
 "ipam": {"type": "host-local", "dataDir": "$ipam", "ranges": [[{"subnet": "10.99.1.0/24"}]]}}
EOF
  cat >"$NETD/20-b.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "netb", "plugins": [
  {"type": "ptp", "ipam": {"type": "host-local", "dataDir": "$ipam", "ranges": [[{"subnet": "10.99.2.0/24"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
  run_podrun --local-config="$BATS_TEST_TMPDIR/config" run --net=neta,netb podrun.test/httpd --exec=/bin/sh -- -c \
    'ip -4 -o addr show eth0; ip -4 -o addr show eth1' ---
  assert_status 0
  [[ "${lines[0]}" == *"inet 10.99.1."* && "${lines[1]}" == *"inet 10.99.2."* ]] || fail "$output"
  # host-local takes IP= from CNI_ARGS (with IgnoreUnknown, as CNI's conventions say)
  run_podrun --local-config="$BATS_TEST_TMPDIR/config" run "--net=neta:IgnoreUnknown=1;IP=10.99.1.77" podrun.test/httpd \
    --exec=/bin/sh -- -c 'ip -4 -o addr show eth0' ---
  assert_status 0
  assert_output_contains "inet 10.99.1.77/24"
  run_podrun --local-config="$BATS_TEST_TMPDIR/config" run --net=all podrun.test/httpd --exec=/bin/sh -- -c \
    'ip -4 -o addr show | grep -c "inet 10.99"' ---
  assert_status 0
  [[ $output == 2 ]] || fail "--net=all: $output networks"
  # every address went back
  [[ -z "$(find "$ipam" -type f -name '10.*')" ]] || fail "addresses left: $(ls -R "$ipam")"
}

@test "net: bad networks and ports: one line naming the file, plugin or port, and no pod or network left" {
  local ipam=$BATS_TEST_TMPDIR/ipam cfg=--local-config="$BATS_TEST_TMPDIR/config" before
  before=$(net_traces)
  # a malformed configuration
  echo '{"cniVersion": "1.0.0", "name": "broken", ' >"$NETD/50-broken.conf"
  run_podrun "$cfg" run --net=broken podrun.test/httpd
  assert_one_line_error "$NETD/50-broken.conf"
  assert_stderr_contains "invalid JSON"
  rm "$NETD/50-broken.conf"
  # a plugin that is not there
  echo '{"cniVersion": "1.0.0", "name": "ghost", "type": "no-such-plugin"}' >"$NETD/50-ghost.conf"
  run_podrun "$cfg" run --net=ghost podrun.test/httpd
  assert_one_line_error "plugin \"no-such-plugin\": no executable \"/usr/lib/cni/no-such-plugin\""
  echo '{"cniVersion": "1.0.0", "name": "ghost", "type": "../../../bin/sh"}' >"$NETD/50-ghost.conf"
  run_podrun "$cfg" run --net=ghost podrun.test/httpd
  assert_one_line_error "is not a plugin name"
  rm "$NETD/50-ghost.conf"
  # an exhausted range: one address, taken by a running pod
  cat >"$NETD/10-one.conf" <<EOF
{"cniVersion": "1.0.0", "name": "one", "type": "ptp",
 "ipam": {"type": "host-local", "dataDir": "$ipam", "ranges": [[{"subnet": "10.99.3.0/24", "rangeStart": "10.99.3.9", "rangeEnd": "10.99.3.9"}]]}}
EOF
  start_httpd one --net=one
  local holder=$UUID
  run_podrun "$cfg" run --net=one podrun.test/httpd
  assert_one_line_error "network \"one\" ($NETD/10-one.conf): plugin \"ptp\": failed to allocate for range 0: no IP addresses available in range set: 10.99.3.9-10.99.3.9"
  # names that are not networks, ports that are not the image's
  run_podrun "$cfg" run --net=nosuch podrun.test/httpd
  assert_one_line_error "--net=nosuch: no network \"nosuch\" in \"$NETD\" (it has one; built in: default, default-restricted)"
  run_podrun "$cfg" run --net=host,default podrun.test/httpd
  assert_one_line_error "--net=host,default: host goes alone"
  run_podrun "$cfg" run --port=web:8080 podrun.test/httpd
  assert_one_line_error "--port=web:8080: no app of the pod declares a port \"web\" (declared: http (80/tcp), dns (53/udp))"
  run_podrun "$cfg" run --net=host --port=http:8080 podrun.test/httpd
  assert_one_line_error "--port=http:8080: the pod is on --net=host, which has no ports to forward"
  run_podrun "$cfg" run --net=none --port=http:8080 podrun.test/httpd
  assert_one_line_error "--port=http:8080: the pod is on --net=none"
  run_podrun "$cfg" run --net=one --port=http:8080 podrun.test/httpd
  assert_one_line_error "none of the pod's networks has a plugin that forwards ports"
  run_podrun "$cfg" run --port=http:99999 podrun.test/httpd
  assert_one_line_error "--port=http:99999: the host port is a number, 1 to 65535"
  run_podrun "$cfg" run --stage1=fly --net=default podrun.test/httpd
  assert_one_line_error "--net=default: not a network of stage1"
  # nothing is left of the refused pods: only the holder exists, and its network alone
  local left
  left=$(find "$STORE/pods" -mindepth 2 -maxdepth 2 -type d | grep -v "$holder" || true)
  [[ -z "$left" ]] || fail "pods left: $left"
  [[ $(find "$ipam" -type f -name '10.*' | wc -l) -eq 1 ]] || fail "addresses: $(ls "$ipam"/*)"
  pr stop "$holder" >/dev/null
  pr status --wait=10s "$holder" >/dev/null
  pr rm "$holder" >/dev/null
  [[ -z "$(find "$ipam" -type f -name '10.*')" ]] || fail "the holder's address is left"
  assert_no_trace_of "$holder"
  [[ "$(net_traces)" == "$before" ]] || fail "before: $before; after: $(net_traces)"
}

@test "net: stop --force of a pod ends its networks; a pod on default cannot reach the host's loopback services" {
  start_httpd s
  local uuid=$UUID
  [[ -e "$STORE/pods/run/$uuid/netns" ]] || fail "no netns in the pod directory"
  # the host's 127.0.0.1 is not the pod's
  local port www=$BATS_TEST_TMPDIR/lo-www pid
  mkdir -p "$www"
  echo "host loopback" >"$www/index.html"
  port=$(free_port)
  busybox httpd -f -p "127.0.0.1:$port" -h "$www" &
  pid=$!
  run_podrun run podrun.test/httpd --exec=/bin/timeout -- 5 wget -q -O - "http://127.0.0.1:$port/" ---
  kill "$pid"
  [[ $output != "host loopback" ]] || fail "a pod reached the host's loopback"
  run_podrun stop --force "$uuid"
  assert_status 0
  pr status --wait=10s "$uuid" >/dev/null
  [[ ! -e "$STORE/pods/run/$uuid/netns" ]] || fail "the netns is left after stop --force"
  assert_no_trace_of "$uuid"
  # gc deletes again (idempotent), and removes the pod
  run_podrun gc --grace-period=0
  assert_status 0
  assert_output_contains "removed pod $uuid"
}

@test "net: a --private-users pod joins the default network too (its user namespace cannot join a host-owned netns: it starts in it)" {
  run_podrun run --private-users --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/httpd --exec=/bin/sh -- -c \
    'ip -4 -o addr show eth0; cat /proc/self/uid_map' ---
  assert_status 0
  [[ "${lines[0]}" == *"inet 172.16.28."* ]] || fail "no address: ${lines[0]}"
  [[ "${lines[1]}" != *" 0 "*4294967295* ]] || fail "not in a user namespace: ${lines[1]}"
  assert_no_trace_of "$(cat "$BATS_TEST_TMPDIR/uuid")"
}

@test "net: kill -9 of podrun while it adds the networks: gc deletes what the prepared pod was given" {
  local pid uuid= f try
  for try in $(seq 20); do
    "$PODRUN" --dir="$STORE" run podrun.test/httpd --exec=/bin/true >/dev/null 2>&1 &
    pid=$!
    # stopped as soon as the netns exists: the plugins are at work (or about to be)
    while alive "$pid"; do
      for f in "$STORE"/pods/prepared/*/netns; do
        [[ -e $f ]] && kill -STOP "$pid" && break 2
      done
    done
    if [[ -e $f ]]; then
      uuid=$(basename "$(dirname "$f")")
      break
    fi
    wait "$pid" || true
  done
  [[ -n $uuid ]] || skip "podrun never stopped while it added the networks in 20 tries"
  kill -9 "$pid" # its plugin dies with it; what that plugin runs (host-local) may not yet
  wait_gone "$pid"
  [[ -e "$STORE/pods/prepared/$uuid/netns" ]] || fail "no netns"
  # gc leaves the pod while a plugin is still at work for it, then deletes its networks
  local i
  for i in $(seq 50); do
    run_podrun gc --grace-period=0
    assert_status 0
    [[ -e "$STORE/pods/prepared/$uuid/netns" ]] || break
    sleep 0.2
  done
  ! grep -qs "CNI_CONTAINERID=$uuid" /proc/[0-9]*/environ || fail "a plugin of the pod is still at work"
  assert_no_trace_of "$uuid"
  [[ ! -e "$STORE/pods/prepared/$uuid/netns" && ! -e "$STORE/pods/prepared/$uuid/net-info.json" ]] ||
    fail "gc left the prepared pod's network files"
  run_podrun rm "$uuid"
  assert_status 0
}

# ---------------------------------------------------------------------------------------
# What a pod with a network namespace of its own sees of the network in /sys: sysfs shows
# the net devices of the netns of whoever mounted it, so a /sys mounted on the host's
# network lists the host's interfaces (names, MACs, statistics) whatever the reader's
# netns (/proc/net/dev is the reader's own).

# make_host_dummy: $DUMMY, an interface of the host's (one end of a veth pair whose other
# end is the host's too, MAC $DUMMY_MAC) that no pod may see; the host's own /sys shows it.
make_host_dummy() {
  DUMMY=prsys$$
  DUMMY_MAC=$(printf '02:50:52:%02x:%02x:%02x' $((($$ >> 16) & 255)) $((($$ >> 8) & 255)) $(($$ & 255)))
  ip link add "$DUMMY" address "$DUMMY_MAC" type veth peer name "prsyp$$"
  [[ -e /sys/class/net/$DUMMY && $(cat "/sys/class/net/$DUMMY/address") == "$DUMMY_MAC" ]] ||
    fail "the host's /sys does not show its dummy $DUMMY"
}

# What the app reports of the network: the interfaces of /sys/class/net, of
# /sys/devices/virtual/net and of /proc/net/dev (its own netns), every
# /sys/class/net/*/address, the options of its /sys mount and how many mounts are
# on /sys/fs/cgroup and below.
SYS_NET_REPORT='b=/bin/busybox
l() { $b tr "\n" " " | $b sed "s/ *$//"; }
echo "sys: $($b ls /sys/class/net | $b sort | l)"
echo "virtual: $($b ls /sys/devices/virtual/net | $b sort | l)"
echo "own: $($b tail -n +3 /proc/net/dev | $b cut -d: -f1 | $b tr -d " " | $b sort | l)"
echo "macs: $($b cat /sys/class/net/*/address | l)"
echo "mount: $($b awk "\$5 == \"/sys\" {print \$6}" /proc/self/mountinfo)"
echo "cgroup: $($b awk "\$5 ~ \"^/sys/fs/cgroup(/|\$)\" {n++} END {print n + 0}" /proc/self/mountinfo)"'

# report_field NAME: the value of NAME in $output (a SYS_NET_REPORT)
report_field() { sed -n "s/^$1: //p" <<<"$output"; }

# assert_own_sys_net WHAT EXPECTED [rw]: $output is a SYS_NET_REPORT of a pod (WHAT, for
# the messages) whose interfaces are EXPECTED (sorted, space-separated): /sys/class/net
# shows exactly those of /proc/net/dev, /sys/devices/virtual/net none but these, no MAC of
# the host's dummy; /sys is read-only (read-write with rw) and the pod's cgroups are
# mounted below it.
assert_own_sys_net() {
  local what=$1 expected=$2 mode=${3:-ro} sys virtual own i
  sys=$(report_field sys)
  virtual=$(report_field virtual)
  own=$(report_field own)
  [[ $own == "$expected" ]] || fail "$what: /proc/net/dev shows \"$own\", not \"$expected\"" || return 1
  [[ $sys == "$own" ]] || fail "$what: /sys/class/net shows \"$sys\", the pod's netns has \"$own\"" || return 1
  for i in $virtual; do
    [[ " $own " == *" $i "* ]] || fail "$what: /sys/devices/virtual/net shows $i, not the pod's" || return 1
  done
  [[ " $sys $virtual " != *" $DUMMY "* ]] || fail "$what: the pod's /sys shows the host's $DUMMY" || return 1
  [[ $(report_field macs) != *"$DUMMY_MAC"* ]] || fail "$what: the pod reads the MAC of the host's $DUMMY" || return 1
  [[ $(report_field mount) == "$mode" || $(report_field mount) == "$mode",* ]] ||
    fail "$what: the pod's /sys is not $mode: $(report_field mount)" || return 1
  [[ $(report_field cgroup) -gt 0 ]] || fail "$what: nothing is mounted on /sys/fs/cgroup" || return 1
}

@test "net: a pod's /sys shows its own interfaces only, never the host's (default, none, --private-users with either, paths)" {
  make_host_dummy
  run_podrun run podrun.test/httpd --exec=/bin/sh -- -c "$SYS_NET_REPORT" ---
  assert_status 0
  assert_own_sys_net "--net=default" "eth0 lo"
  run_podrun run --net=none podrun.test/httpd --exec=/bin/sh -- -c "$SYS_NET_REPORT" ---
  assert_status 0
  assert_own_sys_net "--net=none" "lo"
  run_podrun run --private-users podrun.test/httpd --exec=/bin/sh -- -c "$SYS_NET_REPORT" ---
  assert_status 0
  assert_own_sys_net "--private-users" "eth0 lo"
  # (nspawn makes this netns in the pod's user namespace, and mounts /sys from inside both)
  run_podrun run --private-users --net=none podrun.test/httpd --exec=/bin/sh -- -c "$SYS_NET_REPORT" ---
  assert_status 0
  assert_own_sys_net "--private-users --net=none" "lo"
  # a writable /sys (--insecure-options=paths) is the pod's own netns's just the same
  run_podrun run --insecure-options=paths podrun.test/httpd --exec=/bin/sh -- -c "$SYS_NET_REPORT" ---
  assert_status 0
  assert_own_sys_net "--insecure-options=paths" "eth0 lo" rw
  # on the host's network, the host's own: the dummy among them
  run_podrun run --net=host podrun.test/httpd --exec=/bin/sh -- -c "$SYS_NET_REPORT" ---
  assert_status 0
  [[ " $(report_field sys) " == *" $DUMMY "* ]] || fail "--net=host: the host's $DUMMY is not in /sys/class/net"
}

@test "net: a pod that joins a network namespace (podrun-oci) sees that netns's interfaces in /sys, never the host's" {
  requires python3
  local oci=$BUILD/bin/podrun-oci root=$BATS_TEST_TMPDIR/oci b=$BATS_TEST_TMPDIR/bundle
  [[ -x $oci ]] || fail "$oci missing: make all"
  make_host_dummy
  JOINED=podrun-sys-$$
  ip netns add "$JOINED"
  ip -n "$JOINED" link add "prjn$$" type veth peer name "prjp$$"
  mkdir -p "$b/rootfs/bin"
  cp /bin/busybox "$b/rootfs/bin/"
  python3 - "$b/config.json" "/run/netns/$JOINED" "$SYS_NET_REPORT" <<'EOF'
import json, sys
report = "(" + sys.argv[3] + ") >/report.tmp && /bin/busybox mv /report.tmp /report"
c = {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
     "process": {"args": ["/bin/busybox", "sh", "-c", report], "cwd": "/", "user": {"uid": 0, "gid": 0},
                 "env": ["PATH=/bin"]},
     "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}, {"type": "network", "path": sys.argv[2]}]}}
open(sys.argv[1], "w").write(json.dumps(c))
EOF
  # (the container's process keeps create's stdio: not bats' pipe)
  "$oci" --root "$root" create --bundle "$b" j1 >"$BATS_TEST_TMPDIR/create.log" 2>&1 </dev/null ||
    fail "create: $(cat "$BATS_TEST_TMPDIR/create.log")"
  log_run "$oci" --root "$root" start j1
  [[ $status -eq 0 ]]
  wait_for_file "$b/rootfs/report" 20
  output=$(cat "$b/rootfs/report")
  echo "$output"
  assert_own_sys_net "a joined netns" "$(printf '%s\n' lo "prjn$$" "prjp$$" | sort | tr '\n' ' ' | sed 's/ $//')"
  log_run "$oci" --root "$root" delete --force j1
  [[ $status -eq 0 ]]
}
