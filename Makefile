# Convenience front end. The two commands a newcomer needs:
#   make run    builds and starts the gateway on the embedded default config
#   make test   installs what is missing, builds (plain and ASan+UBSan) and runs every test
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
PYTEST     ?= /usr/bin/python3 -m pytest

.PHONY: all deps build build-asan build-matrix run test unit system clean bench eval deb deb-deps fuzz torture load

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
test: build build-asan deb-deps
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

# kill -9 and power-loss trials with an acknowledgement ledger (not part
# of test): TORTURE_TRIALS (default 1000), TORTURE_SECONDS, TORTURE_LOAD,
# TORTURE_VICTIMS, TORTURE_SEED; scripts/torture.py, README "Torture runs".
torture: build
	@MW_BIN=$${MW_BIN:-$(BUILD)/mailwarden} /usr/bin/python3 scripts/torture.py

# Slowloris at full size (not part of test, about a minute): 5 000 slow
# clients beside an ordinary one; bench/slowloris.py [N] [PER_IP].
load: build
	@MW_BIN=$${MW_BIN:-$(BUILD)/mailwarden} /usr/bin/python3 bench/slowloris.py $(LOAD_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# The Debian package (issue 15): built from a copy of this tree under
# $(DEB_BUILD) (dpkg-buildpackage writes into the parent directory), so the
# .deb is $(DEB_BUILD)/mailwarden_*.deb. deb-deps installs what building
# a package needs beyond deps.sh.
DEB_BUILD ?= build-deb

deb-deps: deps
	@dpkg-query -W -f='$${Status}' debhelper fakeroot 2>/dev/null | grep -c "install ok installed" | grep -q 2 || \
	  { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq debhelper fakeroot >/dev/null; }

deb: deb-deps
	@rm -rf $(DEB_BUILD) && mkdir -p $(DEB_BUILD)/mailwarden
	@tar --exclude=./build --exclude=./build-* --exclude=./.git --exclude=./mailwarden-data -cf - . | tar -xf - -C $(DEB_BUILD)/mailwarden
	@cd $(DEB_BUILD)/mailwarden && DEB_BUILD_OPTIONS="parallel=$(JOBS) nocheck" dpkg-buildpackage -b -us -uc >../build.log 2>&1 || { tail -30 ../build.log; exit 1; }
	@ls $(DEB_BUILD)/*.deb
