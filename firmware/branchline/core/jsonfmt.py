"""The one JSON encoding of everything the core writes (journal records, snapshots,
uplink payloads), byte for byte the same on CPython and MicroPython.

The runtimes' own json.dumps differ: CPython escapes non-ASCII (an emoji becomes two
\\uD83D-style escapes, which MicroPython reads back as two lone surrogates), MicroPython
writes UTF-8; MicroPython dicts do not keep insertion order; floats print differently.
So this encoder fixes every choice:

- objects with their keys in sorted order (keys must be strings);
- compact separators, no spaces;
- strings as UTF-8, escaping only what JSON requires: `"` and `\\`, \\b \\f \\n \\r \\t,
  and the other characters below U+0020 as \\u00xx; a lone surrogate (only CPython can
  hold one) becomes U+FFFD rather than bytes no decoder accepts;
- integers, true, false, null, lists, tuples and `Each` (as arrays); no floats: figures
  are integers (ms, per-mille), so a float reaching here is a bug and raises TypeError.

Decoding needs nothing special: both runtimes' json.loads read this alike.
"""

_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
          "\t": "\\t"}


class Each:
    """An array whose items are made one at a time as it is written, make(key) for each
    key in turn: a large part of a document (a snapshot's conversations) is then never
    held whole. It iterates as the list it stands for."""

    __slots__ = ("keys", "make")

    def __init__(self, keys, make):
        self.keys = keys
        self.make = make

    def __iter__(self):
        for key in self.keys:
            yield self.make(key)


def _string(text, out):
    out.append('"')
    start = 0
    i = 0
    for ch in text:
        code = ord(ch)
        if code < 0x20 or ch == '"' or ch == "\\" or 0xD800 <= code <= 0xDFFF:
            if start < i:
                out.append(text[start:i])
            if code < 0x20 or ch in _SHORT:
                out.append(_SHORT.get(ch) or "\\u%04x" % code)
            else:
                out.append("\ufffd")
            start = i + 1
        i += 1
    out.append(text[start:] if start else text)
    out.append('"')


def _value(obj, out):
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        _string(obj, out)
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, dict):
        out.append("{")
        first = True
        for key in sorted(obj):
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings, got %r" % (key,))
            if not first:
                out.append(",")
            first = False
            _string(key, out)
            out.append(":")
            _value(obj[key], out)
        out.append("}")
    elif isinstance(obj, (list, tuple, Each)):
        out.append("[")
        first = True
        for item in obj:
            if not first:
                out.append(",")
            first = False
            _value(item, out)
        out.append("]")
    else:
        raise TypeError("cannot encode %s as JSON (figures are integers)" % type(obj).__name__)


def dumps(obj):
    """`obj` as JSON text (see the module's rules)."""
    out = []
    _value(obj, out)
    return "".join(out)


CHUNK_PARTS = 256  # fragments joined into one write


class _Chunks:
    def __init__(self, write):
        self.parts = []
        self.write = write

    def append(self, text):
        self.parts.append(text)
        if len(self.parts) >= CHUNK_PARTS:
            self.flush()

    def flush(self):
        if self.parts:
            self.write("".join(self.parts).encode())
            self.parts = []


def write(obj, write_bytes):
    """`obj` as UTF-8 JSON bytes (encode's, byte for byte) through write_bytes(bytes), a
    few hundred fragments at a time: a large document (a snapshot) never has to be
    held whole, where a board's heap has no room for it."""
    sink = _Chunks(write_bytes)
    _value(obj, sink)
    sink.flush()


def encode(obj):
    """`obj` as UTF-8 JSON bytes."""
    return dumps(obj).encode()
