# Thin wrapper around CMake. The README documents two commands: `make demo`
# and `make test`. Everything else here is a convenience for developers.

BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# Debian 12 packages pacer needs to build and test.
DEB_PACKAGES = build-essential cmake pkg-config git \
	libgit2-dev libcurl4-openssl-dev libjson-c-dev libcriterion-dev \
	libmicrohttpd-dev libssl-dev openssh-client openssh-server python3 python3-marathon

.PHONY: all deps build test demo bench valgrind clean format

all: build

# Install what is missing, with apt-get, when we are root. Otherwise say what
# is missing and let the build fail with CMake's message.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
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

# Tests build separately with AddressSanitizer and UBSan.
test: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPACER_SANITIZE=ON
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

demo: build
	./contrib/demo.sh $(BUILD)

bench: build
	cmake --build $(BUILD) --target bench-tools -j $(JOBS)
	./tests/bench/run.sh $(BUILD)

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
	rm -rf $(BUILD) $(TEST_BUILD) $(VALGRIND_BUILD)
