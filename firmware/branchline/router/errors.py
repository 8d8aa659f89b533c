"""Router exceptions and the mapping from C return codes to them (portable)."""

from branchline.router.codes import ECORRUPT, EEXIST, EFULL, EINVAL, ENOENT, ESTATE


class RouterError(Exception):
    """A router call failed. `rc` is the C return code behind it; `outputs` is what the
    failed event still did (the timers due at its now_ms run before its own checks, and
    the drain runs after it), as the list a successful call returns: a caller that
    follows the router by its outputs reads them here too."""

    rc = None

    def __init__(self, message, outputs=()):
        super().__init__(message)
        self.outputs = list(outputs)


class InvalidArgument(RouterError):
    """Out-of-range queue/agent/cap/presence/skills, unknown op, or a non-integer."""

    rc = EINVAL


class QueueFull(RouterError):
    """The queue, the conversation pool or the agent is full; nothing was overwritten."""

    rc = EFULL


class NotHeld(RouterError):
    """No such conversation, or the agent does not hold it."""

    rc = ENOENT


class AlreadyExists(RouterError):
    """The conversation id is live already (waiting, offered, active or remote)."""

    rc = EEXIST


class WrongState(RouterError):
    """The conversation or the agent is not in a state that allows the call."""

    rc = ESTATE


class CorruptSnapshot(RouterError):
    """A snapshot blob with a bad magic, version, length, checksum or contents."""

    rc = ECORRUPT


_BY_RC = {
    EINVAL: InvalidArgument,
    EFULL: QueueFull,
    ENOENT: NotHeld,
    EEXIST: AlreadyExists,
    ESTATE: WrongState,
    ECORRUPT: CorruptSnapshot,
}


def error_for(rc):
    """The exception class for a negative return code (RouterError for unknown ones)."""
    return _BY_RC.get(rc, RouterError)


def check(rc, call, args, outputs=()):
    """Return rc when >= 0; else raise its exception naming the call and its arguments,
    carrying the outputs of the failed event.

    The message is built only on failure so the hot path pays nothing for it.
    """
    if rc >= 0:
        return rc
    raise error_for(rc)("%s%r failed (rc=%d)" % (call, args, rc), outputs)
