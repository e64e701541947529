#!/usr/bin/env bash
# make fuzz: every libFuzzer target in fuzz/ (issue 14), built with clang
# and -fsanitize=fuzzer,address,undefined (cmake -DMW_FUZZ=ON in
# build-fuzz/), each run for FUZZ_TIME seconds from its seeds
# (fuzz/<target>.in/) and dictionary (fuzz/<target>.dict), growing its
# corpus in fuzz/corpus/<target>/ (git-ignored; the seed directories are
# the kept, small corpus that ctest replays). Prints per target: runs,
# execs/s, coverage (cov: edges), findings; exits 1 if any target found
# something (the inputs are in fuzz/corpus/<target>.findings/).
#
# Knobs: FUZZ_TIME (seconds per target, default 300), FUZZ_CPU (instead:
# CPU seconds per target, the issue's measure; a niced target on a busy
# machine gets far less CPU than wall time), FUZZ_TARGETS
# ("fuzz_command fuzz_reply": a subset), FUZZ_JOBS (targets run at the
# same time, default 1), FUZZ_NICE (default 19), FUZZ_BUILD (build-fuzz),
# FUZZ_LOG (directory of the per-target logs, default fuzz/corpus/logs).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_TIME=${FUZZ_TIME:-300}
FUZZ_CPU=${FUZZ_CPU:-}
FUZZ_JOBS=${FUZZ_JOBS:-1}
FUZZ_NICE=${FUZZ_NICE:-19}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_LOG=${FUZZ_LOG:-fuzz/corpus/logs}
if [ -z "${FUZZ_TARGETS:-}" ]; then
	FUZZ_TARGETS=$(for f in fuzz/fuzz_*.c; do basename "$f" .c; done)
fi

# Inputs larger than a target's parser reads gain nothing and slow it down.
max_len() {
	case "$1" in
	fuzz_config | fuzz_mime | fuzz_salvage | fuzz_hidden_names | fuzz_archive) echo 16384 ;;
	fuzz_command) echo 1024 ;;
	*) echo 4096 ;;
	esac
}

build() {
	command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
	CC=clang nice -n "$FUZZ_NICE" cmake -S . -B "$FUZZ_BUILD" -DCMAKE_BUILD_TYPE=Debug \
		-DMW_FUZZ=ON -DMW_WERROR=ON >/dev/null
	# shellcheck disable=SC2086
	nice -n "$FUZZ_NICE" cmake --build "$FUZZ_BUILD" -j "${JOBS:-1}" --target $FUZZ_TARGETS
}

# CPU seconds (user + system) the process has used so far.
cpu_seconds() {
	local stat ticks
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -1; return; }
	stat=${stat##*) }  # the fields after the command name
	# shellcheck disable=SC2086
	set -- $stat
	ticks=$((${12} + ${13}))
	echo $((ticks / $(getconf CLK_TCK)))
}

# With FUZZ_CPU: interrupt pid once it has used that much CPU (libFuzzer
# prints its final stats on SIGINT and keeps what it found).
stop_at_cpu_budget() {
	local pid=$1 record=$2 used
	while kill -0 "$pid" 2>/dev/null; do
		used=$(cpu_seconds "$pid")
		[ "$used" -ge 0 ] && echo "$used" >"$record"
		if [ "$used" -ge "$FUZZ_CPU" ]; then
			kill -INT "$pid" 2>/dev/null || true
			return
		fi
		sleep 5
	done
}

run_one() {
	local t=$1 dict=() time=$FUZZ_TIME
	local corpus=fuzz/corpus/$t findings=fuzz/corpus/$t.findings
	mkdir -p "$corpus" "$findings" "$FUZZ_LOG"
	[ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
	rm -f "$FUZZ_LOG/$t.cpu"
	[ -n "$FUZZ_CPU" ] && time=$((FUZZ_CPU * 100))  # the CPU budget ends it
	# The grown corpus first: libFuzzer writes new inputs there, never
	# into the seed directory.
	nice -n "$FUZZ_NICE" "$FUZZ_BUILD/$t" -max_total_time="$time" -max_len="$(max_len "$t")" \
		-rss_limit_mb=2048 -timeout=30 -print_final_stats=1 -close_fd_mask=1 \
		-artifact_prefix="$findings/" "${dict[@]}" "$corpus" "fuzz/$t.in" \
		>"$FUZZ_LOG/$t.log" 2>&1 &
	local pid=$!
	[ -n "$FUZZ_CPU" ] && stop_at_cpu_budget "$pid" "$FUZZ_LOG/$t.cpu"
	wait "$pid" || true
	return 0
}

report_one() {
	local t=$1 log=$FUZZ_LOG/$1.log
	local runs execs cov found cpu
	cpu=$(cat "$FUZZ_LOG/$1.cpu" 2>/dev/null || echo -)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	found=$(find "fuzz/corpus/$t.findings" -type f | wc -l)
	printf '%-20s %8s %12s %10s %8s %8s\n' "$t" "$cpu" "${runs:-?}" "${execs:-?}" "${cov:-?}" "$found"
	[ "$found" -eq 0 ]
}

build
if [ -n "$FUZZ_CPU" ]; then
	echo "fuzzing for ${FUZZ_CPU} CPU seconds each, ${FUZZ_JOBS} at a time (logs in $FUZZ_LOG/)"
else
	echo "fuzzing for ${FUZZ_TIME} s each, ${FUZZ_JOBS} at a time (logs in $FUZZ_LOG/)"
fi
running=0
for t in $FUZZ_TARGETS; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$FUZZ_JOBS" ]; then
		wait -n || true
		running=$((running - 1))
	fi
done
wait

printf '%-20s %8s %12s %10s %8s %8s\n' target cpu_s runs execs/s edges findings
rc=0
for t in $FUZZ_TARGETS; do
	report_one "$t" || rc=1
done
exit "$rc"
