# Thin wrappers over scripts/ and CMake presets. `make test` and `make demo` work on a fresh Debian 12 machine.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: setup build test unit-test asan-test tsan-test demo bench quality format format-check clean python deb deb-test fuzz fuzz-ci fuzz-build image image-test stack-test screenshots

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
	cmake --build build/asan -j $(JOBS) --target sanitizer_tests
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -L unit
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -R '^BadInput\.|^Cli\.BadInputs|^SwapCli\.BadInputs'

# ThreadSanitizer build (the tsan preset: gcc -fsanitize=thread, -O1) of the telemetry recorder and store,
# the job runner (cancel races), the video pipeline, the REST API and its event stream against a TSan-built
# server, and the fleet's job store and workers; fails on a failed test or any race report
# (scripts/run-tsan-tests.sh; suppressions in tests/tsan.supp). Only these targets are built.
TSAN_TARGETS = faceweave unit_telemetry_tests server_cancel_race_tests tsan_video_tests server_api_tests \
  server_insights_tests fleet_store_tests tsan_fleet_worker_tests
tsan-test: setup
	cmake --preset tsan
	cmake --build build/tsan -j $(JOBS) --target $(TSAN_TARGETS)
	scripts/run-tsan-tests.sh build/tsan

# The Python module into $(BUILD_DIR)/python (PYTHONPATH=$(BUILD_DIR)/python; docs/python.md) and its tests.
python: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target faceweave_pymodule
	ctest --test-dir $(BUILD_DIR) --output-on-failure -R '^python\.'

# The Debian package (packaging/make-deb.sh) into $(BUILD_DIR)/packages; Depends from dpkg-shlibdeps.
deb: build
	packaging/make-deb.sh $(BUILD_DIR) $(BUILD_DIR)/packages

# Installs that package into a fresh Debian 12 (mmdebstrap, needs root and the Debian mirror) and runs
# `faceweave --version` and `faceweave serve` there. A few minutes, so not part of `make test`.
deb-test: deb
	packaging/deb-test.sh $(BUILD_DIR)/packages/faceweave_$$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' $(BUILD_DIR)/CMakeCache.txt)_$$(dpkg --print-architecture).deb

# The container image localhost/faceweave:<version> (podman; a Debian 12 base made by mmdebstrap, no registry
# needed; docs/container.md). Needs root. The first build takes a while, later ones reuse layers and ccache.
VERSION = $(shell grep -o 'faceweave VERSION [0-9.]*' CMakeLists.txt | cut -d' ' -f3)
image: deb
	deploy/image/build.sh

# Runs the image as a user would (published port, token, data volume): a real swap through the API, non-root,
# SIGTERM, telemetry in the volume, a token from a secret file, and deploy/compose.yaml with Prometheus.
image-test: image $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target image_api_check
	deploy/image/test.sh localhost/faceweave:$(VERSION) $(BUILD_DIR)/tests/deploy/image_api_check

# deploy/compose.fleet.yaml for real (podman-compose): PostgreSQL 15 from Debian's package, the API node, two
# workers and Prometheus; a swap through the API node that a worker runs, and /readyz while PostgreSQL is
# stopped (deploy/fleet-test.sh). About 35 s once the images exist. Needs root.
stack-test: image $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target image_api_check
	deploy/fleet-test.sh localhost/faceweave:$(VERSION) $(BUILD_DIR)/tests/deploy/image_api_check

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

# Full-page screenshots of the workbench and the dashboard at 390 px and 1280 px into build/screenshots
# (tests/browser/screenshots.mjs); fails when a page is wider than its viewport.
screenshots: PRESET = release
screenshots: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target faceweave faceweave_web faceweave_browser_test_deps
	FACEWEAVE_BROWSER_NODE_MODULES=$(CURDIR)/$(BUILD_DIR)/tests/browser/npm/node_modules \
	  node tests/browser/screenshots.mjs --faceweave $(BUILD_DIR)/apps/faceweave/faceweave --out build/screenshots
