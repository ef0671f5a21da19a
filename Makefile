# Thin wrapper around CMake. The README documents `make demo`, `make test`,
# `make install` and `make deb`. Everything else here is a convenience for
# developers.

BUILD      ?= build
TEST_BUILD ?= build-test
DEB_BUILD  ?= build-deb
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# make install PREFIX=/opt/pacer (and DESTDIR=/staging for a staged install)
PREFIX     ?= /usr/local

# Debian 12 packages pacer needs to build and test. The second line builds
# the .deb; the third is what tests/packaging checks with: the installed
# units (systemd-analyze), the man pages (man-db) and the zsh completion;
# the fourth drives the web console in a real browser (tests/serve_cli/test_console.py);
# the fifth builds the fuzz harnesses (make fuzz): clang, and the
# compiler-rt archives that hold libFuzzer (libclang_rt.fuzzer) and clang's
# sanitizer runtimes, which clang only recommends.
DEB_PACKAGES = build-essential cmake pkg-config git \
	libgit2-dev libcurl4-openssl-dev libjson-c-dev libcriterion-dev \
	libmicrohttpd-dev libssl-dev libsystemd-dev openssh-client openssh-server python3 python3-marathon \
	debhelper dpkg-dev libzookeeper-mt-dev zookeeper \
	systemd man-db zsh \
	chromium chromium-driver python3-selenium \
	clang libclang-rt-14-dev

# The commit `pacer --version` names, for the .deb (built from a copy without .git).
COMMIT = $(shell git -c safe.directory='*' rev-parse --short=12 HEAD 2>/dev/null)$(shell \
	git -c safe.directory='*' status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo -dirty)

.PHONY: all deps build install deb deb-lint test demo bench bench-ha valgrind clean format \
	fuzz fuzz-build fuzz-check

all: build

# Install what is missing, with apt-get, when we are root. Otherwise say what
# is missing and let the build fail with CMake's message. A package whose
# triggers are pending (man-db while a .deb is being installed) is there.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -Eq "ok (installed|triggers-)" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "missing Debian packages:$$missing (run as root, or: sudo apt-get install$$missing)"; \
		fi; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) --target pacer marathon-sim -j $(JOBS)

# The programs, man pages, completions, systemd units (ExecStart under
# PREFIX) and examples.
install: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) --target pacer marathon-sim pacer-docs -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# $(DEB_BUILD)/pacer_<version>_<arch>.deb and marathon-sim_<version>_<arch>.deb
# (with the source package pacer_<version>.dsc and .tar.xz), built by
# dpkg-buildpackage from a copy of the tree: the checkout stays clean, and
# nothing is written next to it.
deb: deps
	rm -rf $(DEB_BUILD) && mkdir -p $(DEB_BUILD)/src/pacer
	cp -a CMakeLists.txt LICENSE README.md backends cmd contrib debian reconcile testdata tests \
		$(DEB_BUILD)/src/pacer/
	cd $(DEB_BUILD)/src/pacer && PACER_COMMIT=$(COMMIT) DEB_BUILD_OPTIONS="nocheck parallel=$(JOBS)" \
		dpkg-buildpackage -us -uc
	find $(DEB_BUILD)/src -maxdepth 1 -type f -exec mv -t $(DEB_BUILD) {} +
	@ls $(DEB_BUILD)/*.deb

# What lintian, Debian's package checker, still finds.
deb-lint: deb
	@command -v lintian >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lintian; }
	lintian --display-info --pedantic $(DEB_BUILD)/*.changes

# Tests build separately with AddressSanitizer and UBSan, and warnings as
# errors (PACER_WERROR).
test: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPACER_SANITIZE=ON -DPACER_WERROR=ON
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300
	@if command -v clang >/dev/null; then $(MAKE) --no-print-directory fuzz-check; \
	else echo "clang not found: the fuzz harnesses were only replayed on their seeds"; fi

# The libFuzzer harnesses of tests/fuzz, built with clang (ASan + UBSan) in
# a build of their own. `make fuzz` runs each for FUZZ_SECONDS (all of them,
# or FUZZ_HARNESSES="desired sse"), growing the corpus in
# $(FUZZ_BUILD)/fuzz/corpus/; crashes land in $(FUZZ_BUILD)/fuzz/crashes/
# and logs in $(FUZZ_BUILD)/logs/. `make test` runs fuzz-check: each harness
# for a few seconds on its seeds and tests/fuzz/regressions/.
FUZZ_BUILD     ?= build-fuzz
FUZZ_SECONDS   ?= 60
FUZZ_HARNESSES ?=
fuzz-build: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-g -O1" \
		-DPACER_FUZZ=ON -DPACER_TESTS=OFF -DPACER_WERROR=ON
	cmake --build $(FUZZ_BUILD) --target fuzz-harnesses -j $(JOBS)

fuzz: fuzz-build
	./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-check: fuzz-build
	cd $(FUZZ_BUILD) && ctest -L fuzz --output-on-failure -j $(JOBS)

demo: build
	./contrib/demo.sh $(BUILD)

bench: build
	cmake --build $(BUILD) --target bench-tools -j $(JOBS)
	./tests/bench/run.sh $(BUILD)

# serve --ha: ZooKeeper use for 1,000 and 10,000 apps, failover time (README).
bench-ha: build
	cmake --build $(BUILD) --target bench-zksize ha_test_ha -j $(JOBS)
	./tests/bench/ha.sh $(BUILD)

# The unit tests under valgrind, in a build of their own without sanitizers
# (the two do not mix). An error or a leak fails the target.
VALGRIND_BUILD ?= build-valgrind
valgrind: deps
	cmake -S . -B $(VALGRIND_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPACER_SANITIZE=OFF
	cmake --build $(VALGRIND_BUILD) -j $(JOBS)
	./tests/valgrind.sh $(VALGRIND_BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(VALGRIND_BUILD) $(DEB_BUILD) $(FUZZ_BUILD)
