#!/usr/bin/env bash
# Builds everything (daemon, unit tests, benchmarks, fuzz replays) with each
# compiler and build type packagers use, warnings as errors, in
# build-matrix/<compiler>-<type>. Fails on the first build that does not
# compile cleanly, naming it. CI runs the Release pair (.ci/run): -O3 is
# where GCC and clang find what -O2 does not.
set -euo pipefail
cd "$(dirname "$0")/.."
compilers=(${MATRIX_COMPILERS:-gcc clang})
types=(${MATRIX_TYPES:-Release RelWithDebInfo Debug})
jobs=${JOBS:-$(nproc)}
for cc in "${compilers[@]}"; do
  for type in "${types[@]}"; do
    dir="build-matrix/$cc-$type"
    echo "build-matrix: $cc $type" >&2
    if ! CC="$cc" cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DMW_WERROR=ON >/dev/null ||
       ! cmake --build "$dir" -j "$jobs" >"$dir.log" 2>&1; then
      grep -E "error|warning" "$dir.log" | head -20 >&2 || true
      echo "build-matrix: $cc $type failed (full log: $dir.log)" >&2
      exit 1
    fi
  done
done
echo "build-matrix: ${compilers[*]} x ${types[*]} built without warnings" >&2
