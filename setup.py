# The native router is compiled by cffi at install time (API mode, out of line);
# cffi_modules is a setup() keyword, so it cannot live in pyproject.toml alone.
from setuptools import setup

setup(cffi_modules=["native/build_router.py:ffibuilder"])
