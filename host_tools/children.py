"""Child processes (brokers, gateways) that die with the tool or test that started them,
even when it is killed outright and its clean-up never runs."""

import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1
# Resolved here, in the parent: between fork and exec the child should only make the
# call, not load libraries (other threads may hold the loader's locks at fork time).
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _die_with_parent():
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def die_with_parent():
    """A preexec_fn for subprocess.Popen: the child gets SIGTERM when its parent dies."""
    return _die_with_parent if _prctl is not None else None
