#!/usr/bin/env bash
# Runs testssl.sh (Debian package testssl.sh) against the STARTTLS port of a
# gateway started here on loopback with the embedded default TLS settings,
# and fails if it reports any HIGH or CRITICAL finding. Takes a few minutes,
# so it is not part of `make test`. Usage:
#   scripts/testssl.sh [BUILD_DIR]        (default: build)
# Writes the full report to $OUT (default: build/testssl/) and prints a
# summary by severity; docs/testssl.md keeps the last summary.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$PWD/$build/mailwarden"
out=${OUT:-$PWD/$build/testssl}
port=${PORT:-22525}
testssl=$(command -v testssl || command -v testssl.sh || true)
[ -x "$bin" ] || { echo "testssl: build $bin first (make build)" >&2; exit 2; }
[ -n "$testssl" ] || { echo "testssl: install the testssl.sh package (scripts/deps.sh)" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out/state"
# A certificate as a deployment would have one: issued by a CA (a local
# test CA, given to testssl.sh with --add-ca), valid for the name and
# address tested, 90 days, with a CRL distribution point. (The demo's
# self-signed certificate would only earn certificate findings.)
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=mailwarden testssl CA" -keyout "$out/ca.key" -out "$out/ca.crt"
ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mx.testssl.test" \
  -keyout "$out/server.key" -out "$out/server.csr"
printf '%s\n' "subjectAltName=DNS:mx.testssl.test,IP:127.0.0.1" \
  "crlDistributionPoints=URI:http://127.0.0.1/testssl.crl" "extendedKeyUsage=serverAuth" \
  "keyUsage=critical,digitalSignature" > "$out/server.ext"
ossl x509 -req -in "$out/server.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -days 90 -extfile "$out/server.ext" -out "$out/server.crt"
cat > "$out/mailwarden.yaml" <<YAML
hostname: mx.testssl.test
state_dir: $out/state
log:
  level: info
listeners:
  - name: mta
    address: 127.0.0.1
    port: $port
    tls: starttls
certificates:
  - cert: $out/server.crt
    key: $out/server.key
YAML

"$bin" serve -f -c "$out/mailwarden.yaml" >"$out/mailwarden.log" 2>&1 &
gw=$!
trap 'kill "$gw" 2>/dev/null; wait "$gw" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "proc=smtpd event=ready" "$out/mailwarden.log" && break
  kill -0 "$gw" 2>/dev/null || { cat "$out/mailwarden.log" >&2; exit 1; }
  sleep 0.1
done

# -t smtp: STARTTLS; --ip one: no DNS; --sneaky etc. are HTTP-only.
"$testssl" --quiet --color 0 --warnings off --ip one --nodns min -t smtp --add-ca "$out/ca.crt" \
  --jsonfile "$out/testssl.json" --logfile "$out/testssl.log" "127.0.0.1:$port" >/dev/null || true

python3 - "$out/testssl.json" <<'PY'
import collections, json, sys
findings = json.load(open(sys.argv[1]))
by = collections.defaultdict(list)
for f in findings:
    by[f.get("severity", "INFO")].append(f)
print("testssl.sh findings by severity:")
for sev in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN", "OK", "INFO"):
    print(f"  {sev:8} {len(by[sev])}")
for sev in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN"):
    for f in by[sev]:
        print(f"  {sev}: {f['id']}: {f['finding']}")
protocols = [f for f in findings if f["id"] in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")]
print("protocols:")
for f in protocols:
    print(f"  {f['id']}: {f['finding']}")
sys.exit(1 if by["CRITICAL"] or by["HIGH"] else 0)
PY
