# The two Quick start commands, plus the sanitizer, fuzz and bench runs. Every target installs
# missing dependencies first (scripts/setup.sh is idempotent), so each works on a fresh clone.
PRESET ?= release
JOBS ?= $(shell nproc)
# CI sets CI=true: warnings become errors there.
WERROR := $(if $(CI),-DCERULEAN_WERROR=ON,)
FUZZ_SECONDS ?= 60

.PHONY: setup build run test asan tsan fuzz bench clean

setup:
	@scripts/setup.sh

build: setup
	@cmake --preset $(PRESET) $(WERROR) > /dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

# Builds and starts the all-in-one server on ./cerulean-data (Ctrl-C stops it gracefully).
run: build
	./build/$(PRESET)/cerulean server

# Builds and runs the whole test suite.
test: build
	ctest --preset $(PRESET) -j $(JOBS)

asan:
	@$(MAKE) --no-print-directory test PRESET=asan

tsan:
	@$(MAKE) --no-print-directory test PRESET=tsan

fuzz: setup
	@cmake --preset fuzz $(WERROR) > /dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target frame_fuzzer resp_fuzzer http_fuzzer
	@mkdir -p build/fuzz/corpus build/fuzz/corpus_resp build/fuzz/corpus_http
	@cp -n fuzz/corpus/* build/fuzz/corpus/
	@cp -n fuzz/corpus_resp/* build/fuzz/corpus_resp/
	@cp -n fuzz/corpus_http/* build/fuzz/corpus_http/
	./build/fuzz/fuzz/frame_fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus
	./build/fuzz/fuzz/resp_fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus_resp
	./build/fuzz/fuzz/http_fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus_http

bench: build
	./build/$(PRESET)/cerulean bench rpc

clean:
	rm -rf build
