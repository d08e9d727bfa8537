# Front door for rewardkit. Everything real is in CMakeLists.txt; these
# targets install dependencies first so that a fresh Debian 12 clone works.
PREFIX ?= /usr/local
BUILD  ?= build
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
MAKEFLAGS += --no-print-directory

.PHONY: all deps build demo test test-asan bench fuzz install clean

all: build

deps:
	@scripts/deps.sh test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/rewardkit

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRK_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS)

bench: build
	@scripts/deps.sh bench
	@bench/run.sh $(BUILD)
	@$(BUILD)/bench_json 20000 3
	@$(BUILD)/bench_format 200000 5
	@python3 bench/bench_python.py $(BUILD)
	@bench/server/run.sh $(BUILD) 10
	@$(BUILD)/bench_math 20000 300
	@$(BUILD)/bench_overlap 2000 30 bench/out
	@$(BUILD)/bench_edit 0.5
	@$(BUILD)/bench_detection 2
	@/usr/bin/python3 bench/baseline_geometry.py --c $(BUILD)/bench_geometry --records 2000
	@/usr/bin/python3 bench/model/bench_model.py $(BUILD)/rewardkit 20000

# Runs every fuzz target for FUZZ_SECONDS (default 30) each.
FUZZ_SECONDS ?= 30
fuzz:
	@scripts/deps.sh fuzz
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DRK_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# The prefix is set at configure time too, so that rewardkit.pc points at it.
install: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
