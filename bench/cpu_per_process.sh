#!/bin/bash
# CPU per message of each mailwarden process at one load point, for A/B
# runs of two binaries (not a replacement for `make bench`, which compares
# with Postfix). Starts smtp-sink and the gateway on loopback ports
# 27025/27026 under /tmp/mw-cpu/VARIANT, sends N x 4 KiB messages with
# smtp-source at C sessions, prints accepted/s, e2e/s and CPU ms per
# message of the queue (user mailwarden), smtpd and scanner processes.
#
#   bench/cpu_per_process.sh off|scan [N] [C]     (MW=path/to/mailwarden)
#
# off: no scan: section; scan: one content check (headers) on every message.
set -u
V=${1:?off or scan}; N=${2:-8000}; C=${3:-50}
BIN=${MW:-$(dirname "$0")/../build/mailwarden}
D=/tmp/mw-cpu/$V; rm -rf "$D"; mkdir -p "$D"
PORT=27025; SINK=27026
EXTRA=""
[ "$V" = scan ] && EXTRA=$'scan:\n  outbound:\n    checks:\n      headers: {action: score, points: 1}\n'
cat > "$D/mw.yaml" <<EOC
hostname: mw.bench.test
state_dir: $D/state
smtpd_processes: 1
log: {level: warning}
listeners: [{name: mta, address: 127.0.0.1, port: $PORT}]
local_domains: [bench.test]
trusted_networks: [127.0.0.0/8]
routes: {bench.test: "smtp://127.0.0.1:$SINK"}
limits: {connections: 20000, connections_per_ip: 20000, message_size: 25M}
queue: {delivery_concurrency: 50, per_destination: 50}
$EXTRA
EOC
timeout 300 smtp-sink -u nobody -M "$N" 127.0.0.1:$SINK 500 & SP=$!
"$BIN" serve -c "$D/mw.yaml" -f > "$D/log" 2>&1 & MP=$!
for _ in $(seq 50); do ss -ltn | grep -q ":$PORT " && break; sleep 0.1; done
sleep 0.5
cpu() { for p in $(pgrep -P $MP); do echo "$p $(cut -d' ' -f14,15 /proc/$p/stat) $(stat -c %U /proc/$p)"; done; }
cpu > "$D/cpu0"
t0=$(date +%s.%N)
timeout 120 smtp-source -d -s "$C" -m "$N" -l 4096 -f a@x.test -t u@bench.test 127.0.0.1:$PORT
ta=$(date +%s.%N)
wait $SP
t1=$(date +%s.%N)
cpu > "$D/cpu1"
kill $MP; wait $MP 2>/dev/null
/usr/bin/python3 - "$D" "$N" "$t0" "$ta" "$t1" <<'PY'
import sys
d, n, t0, ta, t1 = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
a = {l.split()[0]: l.split() for l in open(d + "/cpu0")}
b = {l.split()[0]: l.split() for l in open(d + "/cpu1")}
per = {b[p][3]: (int(b[p][1]) - int(a[p][1]) + int(b[p][2]) - int(a[p][2])) * 10 / n for p in b if p in a}
print(f"{d.split('/')[-1]}: accepted {n / (ta - t0):.0f}/s e2e {n / (t1 - t0):.0f}/s cpu ms/msg "
      + " ".join(f"{k}={v:.3f}" for k, v in sorted(per.items())))
PY
