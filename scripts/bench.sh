#!/usr/bin/env bash
# make bench: mailwarden against Postfix on loopback (issue 6). Installs
# Postfix (for smtp-source, smtp-sink and the comparison relay) when it is
# missing, builds mailwarden, runs bench/bench.py and leaves no Postfix
# running: the system-wide one that the package may start is stopped, the
# private one the benchmark uses is stopped by bench.py.
#
# Defaults are the issue's matrix (10 000 messages per point, 3 runs,
# concurrency 1 10 50 200, 4 KiB and 100 KiB, 5 000 idle sessions). Smaller:
#   BENCH_MESSAGES=3000 BENCH_RUNS=1 make bench
# Other knobs: BENCH_CONCURRENCY, BENCH_SIZES, BENCH_IDLE, BENCH_SYSTEMS,
# BENCH_TIMEOUT (seconds per point), BENCH_DIR (on the file system to test),
# BENCH_OUT (default docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

if ! command -v smtp-source >/dev/null 2>&1 && [ ! -x /usr/sbin/smtp-source ]; then
  echo "bench: installing postfix (no configuration)" >&2
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  for try in 1 2 3 4 5 6 7 8 9 10; do
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postfix >/dev/null && break
    echo "bench: apt-get failed (dpkg locked?), retrying in 15 s" >&2
    sleep 15
  done
fi
export PATH="$PATH:/usr/sbin:/sbin"

# The package may have started the system-wide instance: stop it.
stop_system_postfix() {
  if [ -f /var/spool/postfix/pid/master.pid ] && kill -0 "$(cat /var/spool/postfix/pid/master.pid 2>/dev/null)" 2>/dev/null; then
    echo "bench: stopping the system-wide Postfix" >&2
    $sudo postfix stop >/dev/null 2>&1 || true
  fi
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postfix 2>/dev/null; then
    $sudo systemctl stop postfix || true
  fi
}
stop_system_postfix

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
BENCH_COMMAND="${BENCH_COMMAND:-$(env | grep -E '^BENCH_(MESSAGES|RUNS|CONCURRENCY|SIZES|IDLE|SYSTEMS)=' | sort | tr '\n' ' ')make bench}" \
  /usr/bin/python3 bench/bench.py
stop_system_postfix
