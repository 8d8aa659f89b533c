"""cffi builder (API mode, out of line) for the router core.

setuptools runs it from the repository root through setup.py's cffi_modules; running
`python native/build_router.py` from the root builds the extension in place as a quick
check (it lands in native/build/cffi and is copied next to the wrapper).
"""

import os
import re

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))

# Every BL_* constant of router.h (their values come from the compiler: "...").
with open(os.path.join(HERE, "router.h")) as _f:
    _DEFINES = re.findall(r"^#define (BL_[A-Z0-9_]+) ", _f.read(), re.M)

# Struct internals of the router stay opaque ("...;"): the compiler supplies the layout.
CDEF = "".join("#define %s ...\n" % name for name in _DEFINES) + """
typedef struct {
    uint16_t n_queues; uint16_t n_agents; uint16_t queue_capacity; uint16_t max_convs;
    uint32_t offer_timeout_ms; uint32_t rejoin_ms; uint32_t private_ms; uint8_t max_misses;
} bl_router_cfg;
typedef struct { ...; } bl_router;
typedef struct { uint8_t op; uint16_t a; uint32_t b; uint32_t c; uint32_t d; int64_t now_ms; } bl_event;
typedef struct { uint32_t conv; uint16_t agent; } bl_assignment;

size_t bl_router_mem_size(const bl_router_cfg *cfg);
int bl_router_init(bl_router *r, void *mem, size_t mem_size, const bl_router_cfg *cfg);
int bl_router_take_next(bl_router *r, uint16_t agent, int64_t now_ms, uint32_t *conv);
int bl_router_next_assignment(bl_router *r, int64_t now_ms, uint32_t *conv, uint16_t *agent);
int bl_router_queue_length(const bl_router *r, uint16_t queue);
int bl_router_agent_load(const bl_router *r, uint16_t agent);
int bl_router_agent_presence(const bl_router *r, uint16_t agent);
int bl_router_agent_reason(const bl_router *r, uint16_t agent);
int bl_router_conv_state(const bl_router *r, uint32_t conv);
int bl_router_conv_queue(const bl_router *r, uint32_t conv);
int bl_router_conv_agent(const bl_router *r, uint32_t conv);
int bl_router_position(const bl_router *r, uint32_t conv);
int bl_router_next_due(const bl_router *r, int64_t *due);
int bl_router_apply(bl_router *r, const bl_event *ev);
int bl_router_step(bl_router *r, const bl_event *ev, bl_assignment *out, size_t out_cap,
                   size_t *n_out);
size_t bl_router_run(bl_router *r, const bl_event *evs, size_t n, bl_assignment *out,
                     size_t out_cap, size_t *n_out, int32_t *rcs);
size_t bl_router_snapshot_size(const bl_router *r);
size_t bl_router_snapshot(const bl_router *r, uint8_t *buf, size_t cap);
int bl_router_snapshot_cfg(const uint8_t *blob, size_t len, bl_router_cfg *cfg);
int bl_router_restore(bl_router *r, void *mem, size_t mem_size, const uint8_t *blob,
                      size_t len);

int blx_apply(bl_router *r, uint8_t op, uint16_t a, uint32_t b, uint32_t c, uint32_t d,
              int64_t now_ms);
int blx_step(bl_router *r, uint8_t op, uint16_t a, uint32_t b, uint32_t c, int64_t now_ms,
             uint32_t d, bl_assignment *out, size_t out_cap);
"""

# Scalar-argument entry points for the per-call Python wrapper: cffi converts (and
# range-checks) the ints itself, which is much cheaper than filling a bl_event from
# Python. blx_step packs (rc, n) into one int: n * 16 + rc + 8 (rc is -7..0).
SOURCE = """
#include "router.h"

static int blx_apply(bl_router *r, uint8_t op, uint16_t a, uint32_t b, uint32_t c,
                     uint32_t d, int64_t now_ms)
{
    bl_event ev;
    ev.op = op; ev.a = a; ev.b = b; ev.c = c; ev.d = d; ev.now_ms = now_ms;
    return bl_router_apply(r, &ev);
}

static int blx_step(bl_router *r, uint8_t op, uint16_t a, uint32_t b, uint32_t c,
                    int64_t now_ms, uint32_t d, bl_assignment *out, size_t out_cap)
{
    bl_event ev;
    size_t n = 0;
    int rc;
    ev.op = op; ev.a = a; ev.b = b; ev.c = c; ev.d = d; ev.now_ms = now_ms;
    rc = bl_router_step(r, &ev, out, out_cap, &n);
    return (int)n * 16 + rc + 8;
}
"""


def make_builder(root=""):
    """A builder whose paths are relative to `root` ("" = the current directory)."""
    builder = cffi.FFI()
    builder.cdef(CDEF)
    builder.set_source(
        "branchline.router._bl_router",
        SOURCE,
        sources=[os.path.join(root, "native/router.c")],
        include_dirs=[os.path.join(root, "native")],
        # -O2 as the C bench (-O3 measured no faster). Hidden visibility: only PyInit is
        # exported, so the core's calls between its own bl_router_* functions are direct
        # (no PLT) and may be inlined, as in a static build.
        extra_compile_args=["-std=c99", "-O2", "-fvisibility=hidden"],
    )
    return builder


# setuptools builds from the repository root, where relative paths are what it wants.
ffibuilder = make_builder()

if __name__ == "__main__":
    import glob
    import shutil

    # FFI.compile chdirs into tmpdir, so the sources need absolute paths here.
    root = os.path.dirname(HERE)
    tmpdir = os.path.join(root, "native", "build", "cffi")
    built = make_builder(root).compile(tmpdir=tmpdir, verbose=False)
    for path in glob.glob(os.path.join(tmpdir, "branchline", "router", "_bl_router*.so")):
        dest = os.path.join(root, "firmware", "branchline", "router", os.path.basename(path))
        # Copy then rename: a process that has the old .so mapped keeps its own inode
        # (overwriting in place would crash it).
        shutil.copy(path, dest + ".tmp")
        os.replace(dest + ".tmp", dest)
    print(built)
