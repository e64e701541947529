# Convenience front end. The two commands a newcomer needs:
#   make run    builds and starts the gateway on the embedded default config
#   make test   installs what is missing, builds (plain and ASan+UBSan) and runs every test
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
PYTEST     ?= /usr/bin/python3 -m pytest

.PHONY: all deps build build-asan build-matrix run test unit system clean bench eval fuzz

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMW_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMW_SANITIZE=ON -DMW_WERROR=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# The builds packagers make: GCC and clang, Release, RelWithDebInfo and
# Debug, each with -Werror (MATRIX_COMPILERS, MATRIX_TYPES narrow it).
build-matrix: deps
	@scripts/build-matrix.sh

run: build
	./$(BUILD)/mailwarden serve -f

# Unit and system tests run against both builds: the plain one and the
# sanitizer one (a sanitizer report fails the test that caused it).
test: build build-asan
	@scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

# Benchmark against Postfix on loopback (not part of test); knobs in scripts/bench.sh.
bench: build
	@scripts/bench.sh

# Spam detection against SpamAssassin on a corpus (not part of test):
# EVAL_CORPUS=/path/to/corpus.tar.xz make eval (scripts/eval.sh).
eval: build
	@scripts/eval.sh

# libFuzzer on every parser (not part of test): FUZZ_TIME seconds per
# target (default 300), FUZZ_TARGETS a subset; scripts/fuzz.sh, fuzz/README.md.
fuzz: deps
	@scripts/fuzz.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
