"""cffi builder (API mode, out of line) for the router core.

setuptools runs it from the repository root through setup.py's cffi_modules; running
`python native/build_router.py` from the root builds the extension in place as a quick
check (it lands in native/build/cffi and is copied next to the wrapper).
"""

import os

import cffi

# Struct internals stay opaque ("...;"): the compiler supplies their layout, so this
# file does not have to track router.h field by field.
CDEF = """
#define BL_OK ...
#define BL_EINVAL ...
#define BL_EFULL ...
#define BL_ENOENT ...
#define BL_EEXIST ...
#define BL_EEMPTY ...
#define BL_OFFLINE ...
#define BL_AVAILABLE ...
#define BL_BREAK ...
#define BL_OP_CONFIGURE ...
#define BL_OP_PRESENCE ...
#define BL_OP_ENQUEUE ...
#define BL_OP_COMPLETE ...
#define BL_MAX_QUEUES ...
#define BL_MAX_AGENTS ...
#define BL_MAX_CAP ...
#define BL_MAX_ASSIGN_PER_EVENT ...

typedef struct { uint16_t n_queues; uint16_t n_agents; uint16_t queue_capacity; } bl_router_cfg;
typedef struct { ...; } bl_router;
typedef struct { uint8_t op; uint16_t a; uint32_t b; uint32_t c; int64_t now_ms; } bl_event;
typedef struct { uint32_t conv; uint16_t agent; } bl_assignment;

size_t bl_router_mem_size(const bl_router_cfg *cfg);
int bl_router_init(bl_router *r, void *mem, size_t mem_size, const bl_router_cfg *cfg);
int bl_router_configure_agent(bl_router *r, uint16_t agent, uint8_t cap, uint32_t skills);
int bl_router_set_presence(bl_router *r, uint16_t agent, uint8_t presence, int64_t now_ms);
int bl_router_enqueue(bl_router *r, uint16_t queue, uint32_t conv, int64_t now_ms);
int bl_router_next_assignment(bl_router *r, int64_t now_ms, uint32_t *conv, uint16_t *agent);
int bl_router_complete(bl_router *r, uint16_t agent, uint32_t conv, int64_t now_ms);
int bl_router_queue_length(const bl_router *r, uint16_t queue);
int bl_router_agent_load(const bl_router *r, uint16_t agent);
int bl_router_agent_presence(const bl_router *r, uint16_t agent);
int bl_router_apply(bl_router *r, const bl_event *ev);
int bl_router_step(bl_router *r, const bl_event *ev, bl_assignment *out, size_t out_cap,
                   size_t *n_out);
size_t bl_router_run(bl_router *r, const bl_event *evs, size_t n, bl_assignment *out,
                     size_t out_cap, size_t *n_out, int32_t *rcs);
"""


def make_builder(root=""):
    """A builder whose paths are relative to `root` ("" = the current directory)."""
    builder = cffi.FFI()
    builder.cdef(CDEF)
    builder.set_source(
        "branchline.router._bl_router",
        '#include "router.h"',
        sources=[os.path.join(root, "native/router.c")],
        include_dirs=[os.path.join(root, "native")],
        extra_compile_args=["-std=c99", "-O2"],
    )
    return builder


# setuptools builds from the repository root, where relative paths are what it wants.
ffibuilder = make_builder()

if __name__ == "__main__":
    import glob
    import shutil

    # FFI.compile chdirs into tmpdir, so the sources need absolute paths here.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tmpdir = os.path.join(root, "native", "build", "cffi")
    built = make_builder(root).compile(tmpdir=tmpdir, verbose=False)
    for path in glob.glob(os.path.join(tmpdir, "branchline", "router", "_bl_router*.so")):
        dest = os.path.join(root, "firmware", "branchline", "router", os.path.basename(path))
        # Copy then rename: a process that has the old .so mapped keeps its own inode
        # (overwriting in place would crash it).
        shutil.copy(path, dest + ".tmp")
        os.replace(dest + ".tmp", dest)
    print(built)
