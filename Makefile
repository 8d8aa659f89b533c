# branchline: `make demo` and `make test` set up everything they need on a fresh
# Debian-like machine (virtualenv, native build, mosquitto, node packages) and run.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
MP_PKG := node_modules/@micropython/micropython-webassembly-pyscript/package.json

# Playwright drives Debian's chromium: it must never fetch a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: all assets bootstrap bootstrap-run system-deps system-deps-run print-packages-run \
        print-packages-test demo demo-live test test-native test-python test-micropython \
        bench clean firmware

all: test

# -- setup -----------------------------------------------------------------------------
# MicroPython's unix port, built from the vendored source (cached under build/, keyed
# by the tarball's hash): the 32-bit build measures the heap as an ESP32 would see it,
# and runs the portable tests with `btree` and the C router (the WebAssembly port has
# neither: it runs them with the twin).
# Defined before the rules that name them: make expands prerequisites as it reads a rule.
MP_TARBALL := $(firstword $(wildcard ../shared/vendor/micropython-*.tar.gz))
MP_HASH := $(if $(MP_TARBALL),$(shell sha256sum $(MP_TARBALL) | cut -c1-12))
MP_TREE := build/mp-$(MP_HASH)/$(notdir $(MP_TARBALL:.tar.gz=))
MP_SOURCE := $(MP_TREE)/.extracted
MP_UNIX32 := $(MP_TREE)/ports/unix/build-32-native/micropython
MP_FLAGS := MICROPY_PY_SSL=0 MICROPY_PY_FFI=0
# The router's C core and its MicroPython module glue, built into that unix port.
MP_MODULES := $(abspath native/micropython)
MP_MODULE_SOURCES := native/router.c native/router_snapshot.c native/router.h \
	native/router_internal.h $(wildcard native/micropython/*.cmake native/micropython/*/*)
# The ESP32 edition's image (`make firmware`), and the same image frozen into the 32-bit
# unix port with the C router and btree: the edition as a board runs it, for the tests
# and the heap figures. Rebuilt when the application, a board or the builder changes.
BOARD ?= esp32-wrover
MQTT_TARBALL := $(firstword $(wildcard ../shared/vendor/micropython-mqtt-*.tar.gz))
MP_EDITION := build/firmware/unix-edition
MP_UNIX_EDITION := $(MP_TREE)/ports/unix/build-32-edition/micropython
EDITION_SOURCES := $(shell find firmware/branchline boards -name '*.py' -o -name '*.json' \
	-o -name '*.gz' 2>/dev/null) host_tools/firmware.py

# What running needs (the demo, the appliance) and what testing needs besides: a newcomer
# runs the demo without cross compilers, and README's package lists say the same.
bootstrap-run: system-deps-run $(VENV)/.installed-run
bootstrap: system-deps $(VENV)/.installed $(MP_PKG) $(MP_UNIX32) $(MP_UNIX_EDITION)

# Commands each needs from the system, with the Debian package that has it. An entry
# starting with / is a file instead of a command (libraries, specs). The C compiler
# builds the native router (cffi); the cross toolchains build its C tests for Cortex-M4
# and aarch64 (run under qemu-user); the i686 cross compiler the 32-bit MicroPython that
# measures the heap (Debian's gcc-multilib would do too, but it conflicts with the aarch64
# cross compiler); gammu checks that a third-party tool takes the
# modem simulator for a modem; Debian's chromium is the browser the console's tests
# drive (Playwright never downloads one), with a CJK font for the Chinese pages; openssl
# makes the console's test certificate.
RUN_DEPS := mosquitto:mosquitto cc:gcc
TEST_DEPS := node:nodejs npm:npm valgrind:valgrind \
	arm-none-eabi-gcc:gcc-arm-none-eabi \
	/usr/lib/arm-none-eabi/newlib/nosys.specs:libnewlib-arm-none-eabi \
	aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu \
	/usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross \
	qemu-aarch64:qemu-user \
	i686-linux-gnu-gcc:gcc-i686-linux-gnu \
	/usr/i686-linux-gnu/lib/libc.a:libc6-dev-i386-cross \
	gammu:gammu \
	chromium:chromium openssl:openssl \
	/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc:fonts-wqy-zenhei

# Missing packages are installed with apt-get when root, else named, and make stops.
define check_system_deps
	@missing=""; \
	for pair in $(1); do \
		cmd=$${pair%%:*}; pkg=$${pair##*:}; \
		case $$cmd in \
		/*) [ -e $$cmd ] || missing="$$missing $$pkg" ;; \
		*) command -v $$cmd >/dev/null 2>&1 || [ -x /usr/sbin/$$cmd ] || missing="$$missing $$pkg" ;; \
		esac; \
	done; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	$(PYTHON) -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null || missing="$$missing python3-dev"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing system packages:$$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -q && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
		else \
			echo "missing system packages:$$missing -- install them (sudo apt-get install$$missing) or run make as root"; \
			exit 1; \
		fi; \
	fi
endef

system-deps-run:
	$(call check_system_deps,$(RUN_DEPS))

system-deps:
	$(call check_system_deps,$(RUN_DEPS) $(TEST_DEPS))

# pip install -e compiles the native router through cffi (setup.py cffi_modules).
$(VENV)/.installed-run: pyproject.toml setup.py native/router.c native/router_snapshot.c native/router.h native/router_internal.h native/build_router.py
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e .
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

$(MP_SOURCE): $(MP_TARBALL)
	@[ -n "$(MP_TARBALL)" ] || { echo "no MicroPython source in ../shared/vendor/"; exit 1; }
	rm -rf build/mp-$(MP_HASH) && mkdir -p build/mp-$(MP_HASH)
	tar -xzf $(MP_TARBALL) -C build/mp-$(MP_HASH)
	$(MAKE) -s -C $(MP_TREE)/mpy-cross -j2
	touch $@

# With btree and the router as the user C module `blrouter` (native/micropython/):
# an edit of the router rebuilds only what it touches.
$(MP_UNIX32): $(MP_SOURCE) $(MP_MODULE_SOURCES)
	$(MAKE) -s -C $(MP_TREE)/ports/unix -j2 BUILD=build-32-native $(MP_FLAGS) MICROPY_PY_BTREE=1 \
		CROSS_COMPILE=i686-linux-gnu- LDFLAGS_EXTRA=-static USER_C_MODULES=$(MP_MODULES)
	touch $@

$(MP_UNIX_EDITION): $(MP_SOURCE) $(MP_MODULE_SOURCES) $(EDITION_SOURCES) $(VENV)/.installed
	$(VPY) -m host_tools.cli firmware --board esp32-wrover --port unix --out $(MP_EDITION) \
		--mqtt-as $(MQTT_TARBALL) --mpy-cross $(MP_TREE)/mpy-cross/build/mpy-cross
	$(MAKE) -s -C $(MP_TREE)/ports/unix -j2 BUILD=build-32-edition $(MP_FLAGS) MICROPY_PY_BTREE=1 \
		CROSS_COMPILE=i686-linux-gnu- LDFLAGS_EXTRA=-static USER_C_MODULES=$(MP_MODULES) \
		FROZEN_MANIFEST=$(abspath $(MP_EDITION))/manifest.py
	touch $@

# The application as .mpy and a manifest to freeze it into a MicroPython build for
# $(BOARD) (docs/esp32.md says how to build and flash an ESP32 with it).
firmware: $(VENV)/.installed
	$(VPY) -m host_tools.cli firmware --board $(BOARD) --mqtt-as $(MQTT_TARBALL)

$(MP_PKG): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The Debian packages of each set, one per line (a test compares them with README's).
print-packages-run:
	@for pair in $(RUN_DEPS) :python3-venv :python3-dev; do echo $${pair##*:}; done
print-packages-test:
	@for pair in $(TEST_DEPS); do echo $${pair##*:}; done

# -- the two commands ----------------------------------------------------------------------
demo: bootstrap-run
	$(VPY) -m host_tools.cli demo

# The demo's branch kept running (customers write now and then) until Ctrl-C, to try
# the console by hand at the address it prints.
demo-live: bootstrap-run
	$(VPY) -m host_tools.cli demo --live

# One after the other, even under make -j: each part needs the bootstrap done.
test: bootstrap
	$(MAKE) test-native
	$(MAKE) test-python
	$(MAKE) test-micropython

# The router's C tests: ASan/UBSan, valgrind, the Cortex-M4 build (size printed) and
# the aarch64 build run under qemu-user.
test-native:
	$(MAKE) -C native test
	$(MAKE) -C native valgrind
	$(MAKE) -C native cross

test-python:
	$(VPY) -m pytest

# The portable core under real MicroPython (WebAssembly port, run by node), and every
# firmware module through mpy-cross.
test-micropython:
	$(VPY) tests/micropython/compile_all.py
	node tests/micropython/run.mjs

# The console's pages as the package ships them (committed; a test checks they match).
assets:
	$(VPY) -m host_tools.assets

bench: bootstrap
	$(VPY) -m host_tools.cli bench

clean:
	$(MAKE) -C native clean
	rm -rf build $(VENV) node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f firmware/branchline/router/_bl_router*.so
