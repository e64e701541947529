#!/usr/bin/env bash
# Runs every test against each build directory given (make test passes the
# plain build and the ASan+UBSan build): Criterion unit tests through ctest,
# then the pytest system tests (tests/) against that build's binary.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=/usr/bin/python3   # Debian's, where python3-pytest and aiosmtpd live
status=0
echo "=== layer order (DESIGN.md): scripts/check-layers.sh"
scripts/check-layers.sh || status=1
for build in "$@"; do
  echo "=== unit tests: $build"
  (cd "$build" && ctest --output-on-failure -j 2) || status=1
  echo "=== system tests: $build"
  export MW_BIN="$PWD/$build/mailwarden"
  # Sanitizers: any report aborts the process (UBSan halts, ASan always does);
  # the system test fixtures fail a test whose daemon log holds a report.
  # Leak checks stay in the unit tests; daemons exit without freeing their
  # last configuration snapshot on purpose.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  $PYTHON -m pytest -q -p no:cacheprovider tests || status=1
done
exit $status
