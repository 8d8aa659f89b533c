"""cffi builder (API mode, out of line) for the router core.

setuptools runs it from the repository root through setup.py's cffi_modules; running
`python native/build_router.py` from the root builds the extension in place as a quick
check (it lands in native/build/cffi and is copied next to the wrapper).
"""

import os
import re

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))


def cdef_from_header(text):
    """router.h as cffi's cdef takes it, so that no declaration is copied by hand: the
    comments and preprocessor lines go, every BL_* constant becomes "#define NAME ..."
    (its value comes from the compiler), and a struct whose body has an array (the
    router itself: sizes written with BL_* constants, which cdef cannot evaluate) stays
    opaque ("...;"): only the compiler needs its layout."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = re.findall(r"^#define (BL_[A-Z0-9_]+) ", text, re.M)
    text = re.sub(r"^#.*$", "", text, flags=re.M)

    def opaque(m):
        return "typedef struct { ...; }" if "[" in m.group(1) else m.group(0)

    text = re.sub(r"typedef struct \{([^{}]*)\}", opaque, text)
    return "".join("#define %s ...\n" % name for name in names) + text


with open(os.path.join(HERE, "router.h")) as _f:
    CDEF = cdef_from_header(_f.read()) + """
int blx_step(bl_router *r, uint8_t op, uint16_t a, uint32_t b, uint32_t c, int64_t now_ms,
             uint32_t d, bl_output *out, size_t out_cap);
"""

# A scalar-argument entry point for the per-call Python wrapper: cffi converts (and
# range-checks) the ints itself, which is much cheaper than filling a bl_event from
# Python. It packs (rc, n) into one int: n * 16 + rc + 8 (rc is -7..0).
SOURCE = """
#include "router.h"

static int blx_step(bl_router *r, uint8_t op, uint16_t a, uint32_t b, uint32_t c,
                    int64_t now_ms, uint32_t d, bl_output *out, size_t out_cap)
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
        sources=[os.path.join(root, "native", name) for name in ("router.c", "router_snapshot.c")],
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
