# Thin wrappers over scripts/ and CMake presets. `make test` and `make demo` work on a fresh Debian 12 machine.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: setup build test unit-test asan-test fuzz fuzz-ci fuzz-build demo bench quality format format-check clean

setup:
	scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake --preset $(PRESET)

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Installs what is missing, builds, checks formatting and runs every test (unit, integration).
test: build
	scripts/check-format.sh
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

unit-test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -L unit -j $(JOBS)

# AddressSanitizer + UndefinedBehaviorSanitizer build of the library and its unit and bad-input tests.
asan-test: setup
	cmake --preset asan
	cmake --build build/asan -j $(JOBS) --target tests/all faceweave
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -L unit
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -R '^BadInput\.|^Cli\.BadInputs|^SwapCli\.BadInputs'

# libFuzzer targets (fuzz/, clang with ASan and UBSan) on seed corpora made from the test data; regression
# inputs in tests/fuzz/ run first. fuzz-ci: 30 s a target; fuzz: 10 minutes a target (FUZZ_SECONDS=...).
FUZZ_SECONDS ?= 600
fuzz-build: setup
	cmake --preset fuzz
	cmake --build build/fuzz -j $(JOBS) --target fuzz_all

fuzz: fuzz-build
	scripts/run-fuzzers.sh build/fuzz $(FUZZ_SECONDS)

fuzz-ci: fuzz-build
	scripts/run-fuzzers.sh build/fuzz 30

demo: build
	scripts/demo.sh $(BUILD_DIR)/apps/faceweave/faceweave

bench: PRESET = release
bench: build
	scripts/run-benchmarks.sh $(BUILD_DIR)
	bench/video_bench.sh $(BUILD_DIR)/apps/faceweave/faceweave
	bench/server_load.sh $(BUILD_DIR)/apps/faceweave/faceweave
	bench/insights_http.sh $(BUILD_DIR)/apps/faceweave/faceweave

# Swap quality on the hard evaluation set: contact sheet + report in build/quality (docs/quality.md).
quality: PRESET = release
quality: build
	$(BUILD_DIR)/bench/quality/quality_eval --out build/quality

format:
	git ls-files --cached --others --exclude-standard '*.cpp' '*.h' '*.hpp' | xargs clang-format -i

format-check:
	scripts/check-format.sh

clean:
	rm -rf build
