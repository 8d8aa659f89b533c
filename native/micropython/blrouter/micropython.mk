# The router as a MicroPython user C module: make -C <micropython>/ports/<port>
# USER_C_MODULES=<abs path to native/micropython> (it finds this file one level down;
# a module folder named "micropython" would put its objects where the unix port
# links its binary).
BLROUTER_DIR := $(USERMOD_DIR)

SRC_USERMOD_C += $(BLROUTER_DIR)/modblrouter.c
# The core itself: compiled, but not scanned for MicroPython's qstrs. Absolute paths,
# so that its objects land inside the build folder, not at ../../ from it.
BLROUTER_CORE := $(abspath $(BLROUTER_DIR)/../..)
SRC_USERMOD_LIB_C += $(BLROUTER_CORE)/router.c $(BLROUTER_CORE)/router_snapshot.c
CFLAGS_USERMOD += -I$(BLROUTER_CORE)
