# The two commands a newcomer needs:
#   make demo   install what is missing, build, run a simulated campus
#   make test   install what is missing, build, run every test
# Also: make build, make test-asan (AddressSanitizer + UBSan), make bench,
# make package (Debian packages with systemd units).

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
WERROR     ?= ON
LAUNCHER   := $(if $(shell command -v ccache 2>/dev/null),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache,)

.PHONY: all deps build test test-asan demo bench package clean

all: build

deps:
	@deploy/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja $(LAUNCHER) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCORDON_WERROR=$(WERROR) > $(BUILD).configure.log 2>&1 || { cat $(BUILD).configure.log; exit 1; }
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja $(LAUNCHER) -DCMAKE_BUILD_TYPE=Debug \
	  -DCORDON_SANITIZE=ON -DCORDON_WERROR=$(WERROR) -DCORDON_BUILD_BENCH=OFF \
	  > $(ASAN_BUILD).configure.log 2>&1 || { cat $(ASAN_BUILD).configure.log; exit 1; }
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

demo: build
	@deploy/demo/run.sh $(BUILD)

bench: build
	@bench/run.sh $(BUILD)

# Debian packages cordond, cordon-gate and cordonctl in $(BUILD)/packages.
package: build
	@cd $(BUILD) && cpack -G DEB -B packages | grep "package:" || true
	@ls -1 $(BUILD)/packages/*.deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BUILD).configure.log $(ASAN_BUILD).configure.log
