"""Router exceptions and the mapping from C return codes to them (portable)."""

from branchline.router.codes import EFULL, EINVAL, ENOENT


class RouterError(Exception):
    """A router call failed. `rc` is the C return code behind it."""

    rc = None


class InvalidArgument(RouterError):
    """Out-of-range queue/agent/cap/presence/skills, unknown op, or a non-integer."""

    rc = EINVAL


class QueueFull(RouterError):
    """The queue's ring is full; nothing was overwritten."""

    rc = EFULL


class NotHeld(RouterError):
    """The agent does not hold that conversation."""

    rc = ENOENT


_BY_RC = {EINVAL: InvalidArgument, EFULL: QueueFull, ENOENT: NotHeld}


def error_for(rc):
    """The exception class for a negative return code (RouterError for unknown ones)."""
    return _BY_RC.get(rc, RouterError)


def check(rc, call, args):
    """Return rc when >= 0; else raise its exception naming the call and its arguments.

    The message is built only on failure so the hot path pays nothing for it.
    """
    if rc >= 0:
        return rc
    raise error_for(rc)("%s%r failed (rc=%d)" % (call, args, rc))
