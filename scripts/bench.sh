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
#
# The content-scanning point (issue 11, bench/content_bench.py) runs only
# when BENCH_CORPUS names a corpus (as EVAL_CORPUS for make eval): mailwarden
# with rules + Bayes against Postfix + SpamAssassin and Postfix + rspamd.
# It installs spamassassin, spamd, spamc, spamass-milter, rspamd and
# redis-server when missing (their services are not started). Knobs:
# BENCH_CONTENT_MESSAGES (5000), BENCH_CONTENT_CONCURRENCY ("10 50"),
# BENCH_CONTENT_TRAIN (messages per class learnt, default all of the
# training half), BENCH_CONTENT_SYSTEMS, BENCH_CONTENT_TIMEOUT (600 s per
# point); BENCH_CONTENT_ONLY=1 skips the transport matrix.
#
# The known-partners point (issue 13, bench/partners_bench.py) runs after
# the transport matrix when BENCH_PARTNERS=1: one gateway with 1 000 000
# partner pairs in its store, at level 0 and under the partners-only
# level. Knobs: BENCH_PARTNERS_PAIRS, BENCH_PARTNERS_MESSAGES (10000),
# BENCH_PARTNERS_CONCURRENCY ("50 200"), BENCH_RUNS.
#
# The malware bench (issue 12, bench/malware_bench.py) runs instead of the
# content point when BENCH_MALWARE=1 (with BENCH_CORPUS; the transport
# matrix is skipped): mailwarden with clamd + YARA against Postfix + rspamd
# + ClamAV and Postfix + amavisd-new + ClamAV. It installs clamav-daemon,
# rspamd, redis-server, amavisd-new and spamassassin (for its rules) when
# missing (services not started).
# Knobs: BENCH_MALWARE_MESSAGES (5000), BENCH_MALWARE_CONCURRENCY ("10 50"),
# BENCH_MALWARE_SYSTEMS, BENCH_MALWARE_TIMEOUT (600 s per point),
# BENCH_MALWARE_ATTACH_EVERY (20: 5 % with attachments),
# BENCH_MALWARE_PROBES (3 EICAR-in-zip messages per system),
# BENCH_MALWARE_MW_CHECKS (more mailwarden checks), BENCH_MALWARE_NO_REPORT=1
# (figures only into docs/benchmarks-content.json), BENCH_CONTENT_TRAIN.
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
if [ -n "${BENCH_MALWARE:-}" ]; then
  [ -n "${BENCH_CORPUS:-}" ] || { echo "bench: BENCH_MALWARE=1 needs BENCH_CORPUS (see docs/benchmarks.md)" >&2; exit 2; }
  need=()
  # spamassassin: the rules mailwarden's content checks read (as in the content point).
  for c in clamd:clamav-daemon rspamd:rspamd redis-server:redis-server amavisd:amavisd-new sa-learn:spamassassin; do
    command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "bench: installing ${need[*]} for the malware bench (services not started)" >&2
    $sudo scripts/apt-install-stopped.sh "${need[@]}"
  fi
  rc=0
  BENCH_COMMAND="${BENCH_COMMAND:-$(env | grep -E '^BENCH_(CORPUS|MALWARE[A-Z_]*|CONTENT_TRAIN|RUNS)=' | sort | tr '\n' ' ')make bench}" \
    /usr/bin/python3 bench/malware_bench.py || rc=$?
  stop_system_postfix
  exit "$rc"
fi
if [ -z "${BENCH_CONTENT_ONLY:-}" ]; then
  BENCH_COMMAND="${BENCH_COMMAND:-$(env | grep -E '^BENCH_(MESSAGES|RUNS|CONCURRENCY|SIZES|IDLE|SYSTEMS)=' | sort | tr '\n' ' ')make bench}" \
    /usr/bin/python3 bench/bench.py
fi
if [ -n "${BENCH_PARTNERS:-}" ]; then
  BENCH_COMMAND="${BENCH_COMMAND:-$(env | grep -E '^BENCH_(PARTNERS[A-Z_]*|RUNS)=' | sort | tr '\n' ' ')make bench}" \
    /usr/bin/python3 bench/partners_bench.py
fi
if [ -n "${BENCH_CORPUS:-}" ]; then
  need=()
  for c in spamd:spamd spamc:spamc sa-learn:spamassassin spamass-milter:spamass-milter rspamd:rspamd \
           rspamc:rspamd redis-server:redis-server; do
    command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "bench: installing ${need[*]} for the content point (services not started)" >&2
    $sudo scripts/apt-install-stopped.sh "${need[@]}"
  fi
  BENCH_COMMAND="${BENCH_COMMAND:-$(env | grep -E '^BENCH_(CORPUS|CONTENT_[A-Z_]+|RUNS)=' | sort | tr '\n' ' ')make bench}" \
    /usr/bin/python3 bench/content_bench.py
else
  echo "bench: content-scanning point skipped (set BENCH_CORPUS to a corpus, see docs/benchmarks.md)" >&2
fi
stop_system_postfix
