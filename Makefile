# Thin wrapper over meson/ninja. `make` builds, `make test` runs everything,
# `make bench` runs the benchmarks against QEMU, runc and crun.
BUILD ?= build
BUILD_ASAN ?= build-asan

.PHONY: all deps test test-fast bench demo clean format

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

deps:
	./scripts/deps.sh

test: deps
	./scripts/test.sh

bench: deps all
	./bench/run.sh

demo: deps
	./scripts/demo.sh

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
