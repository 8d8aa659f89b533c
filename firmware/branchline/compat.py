"""Shims that let the portable core run unchanged on CPython and MicroPython."""

try:
    from micropython import const  # noqa: F401
except ImportError:  # CPython

    def const(value):
        return value
