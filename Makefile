# branchline: `make demo` and `make test` set up everything they need on a fresh
# Debian-like machine (virtualenv, native build, mosquitto, node packages) and run.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
MP_PKG := node_modules/@micropython/micropython-webassembly-pyscript/package.json

.PHONY: all bootstrap system-deps demo test test-native test-python test-micropython \
        bench clean

all: test

# -- setup -----------------------------------------------------------------------------
bootstrap: system-deps $(VENV)/.installed $(MP_PKG)

# Commands the build needs from the system, each with the Debian package that has it.
# An entry starting with / is a file instead of a command (libraries, specs). The cross
# toolchains build the router's C tests for Cortex-M4 and aarch64 (run under qemu-user).
SYSTEM_DEPS := mosquitto:mosquitto node:nodejs npm:npm cc:gcc valgrind:valgrind \
	arm-none-eabi-gcc:gcc-arm-none-eabi \
	/usr/lib/arm-none-eabi/newlib/nosys.specs:libnewlib-arm-none-eabi \
	aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu \
	/usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross \
	qemu-aarch64:qemu-user \
	gammu:gammu
system-deps:
	@missing=""; \
	for pair in $(SYSTEM_DEPS); do \
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

# pip install -e compiles the native router through cffi (setup.py cffi_modules).
$(VENV)/.installed: pyproject.toml setup.py native/router.c native/router.h native/build_router.py
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

$(MP_PKG): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# -- the two commands ----------------------------------------------------------------------
demo: bootstrap
	$(VPY) -m host_tools.cli demo

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

bench: bootstrap
	$(VPY) -m host_tools.cli bench

clean:
	$(MAKE) -C native clean
	rm -rf build $(VENV) node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f firmware/branchline/router/_bl_router*.so
