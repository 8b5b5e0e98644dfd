# The two commands a newcomer needs:
#   make demo   install what is missing, build, run a simulated campus
#   make test   install what is missing, build, run every test
# Also: make build, make test-asan (AddressSanitizer + UBSan), make fuzz, make bench,
# make package (Debian packages with systemd units).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
WERROR     ?= ON
LAUNCHER   := $(if $(shell command -v ccache 2>/dev/null),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache,)

.PHONY: all deps build test test-asan fuzz demo bench package clean

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

# libFuzzer (Debian's clang) on the gate protocol, every RPC's request through
# a whole in-process daemon, and the policy YAML parser,
# FUZZ_SECONDS each, from the seeds in tests/fuzz/corpus (new finds go to
# $(FUZZ_BUILD)/corpus; a crash stops with the input saved there).
fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja $(LAUNCHER) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DCORDON_FUZZ=ON -DCORDON_BUILD_TESTS=OFF \
	  -DCORDON_BUILD_BENCH=OFF > $(FUZZ_BUILD).configure.log 2>&1 || { cat $(FUZZ_BUILD).configure.log; exit 1; }
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target policy_document_fuzz gate_message_fuzz rpc_request_fuzz
	@for t in policy_document gate_message rpc_request; do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  rc=0; $(FUZZ_BUILD)/tests/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/ \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t > $(FUZZ_BUILD)/$$t.log 2>&1 || rc=$$?; \
	  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|==ERROR|^SUMMARY" $(FUZZ_BUILD)/$$t.log; \
	  if [ $$rc -ne 0 ]; then tail -n 40 $(FUZZ_BUILD)/$$t.log; exit 1; fi; \
	done

demo: build
	@deploy/demo/run.sh $(BUILD)

bench: build
	@bench/run.sh $(BUILD)

# Debian packages cordond, cordon-gate and cordonctl in $(BUILD)/packages.
package: build
	@cd $(BUILD) && cpack -G DEB -B packages | grep "package:" || true
	@ls -1 $(BUILD)/packages/*.deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(BUILD).configure.log $(ASAN_BUILD).configure.log \
	  $(FUZZ_BUILD).configure.log
