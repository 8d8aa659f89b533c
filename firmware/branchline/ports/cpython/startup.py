"""What the gateway claims before it opens a serial port or talks to the broker: its
state folder (exclusively) and the console's listening socket.

Each failure is a StartupError whose message is one line naming the config key and the
cause, so that a technician reads what to fix instead of a traceback, and nothing has
been opened that a half-started gateway would then disturb (a modem another gateway is
reading, an MQTT session another gateway holds).
"""

import errno
import fcntl
import os
import socket

LOCK_NAME = "lock"

_BIND_CAUSES = {
    errno.EADDRINUSE: ("port", "%s:%d is already in use (another gateway, or another program)"),
    errno.EADDRNOTAVAIL: ("host", "%s is not an address of this machine (port %d)"),
    errno.EACCES: ("port", "%s:%d needs privileges (ports below 1024 do)"),
}


class StartupError(Exception):
    """The gateway cannot start; the message is one line for the technician."""


class StateDir:
    """The state folder, locked for this process. The lock is an flock on `lock` in the
    folder: the OS drops it when the process ends, however it ends, so a gateway killed
    with SIGKILL leaves no stale lock behind, and a second gateway can never replay the
    same journal or append to it."""

    def __init__(self, path):
        self.path = path
        if not os.path.isdir(path):
            raise StartupError(
                "state_dir: %s %s" % (path, "is not a folder" if os.path.exists(path)
                                      else "does not exist (create it, or fix the path)"))
        lock_path = os.path.join(path, LOCK_NAME)
        try:
            self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise StartupError("state_dir: %s is not writable (%s)" % (path, e.strerror))
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode("ascii", "replace").strip()
            os.close(self._fd)
            raise StartupError("state_dir: %s is in use by another gateway (pid %s); stop "
                               "it first" % (path, holder or "unknown"))
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, b"%d\n" % os.getpid(), 0)

    def join(self, name):
        return os.path.join(self.path, name)

    def release(self):
        """Let another process have the folder (the gateway itself never does: it holds
        the lock until it ends)."""
        os.close(self._fd)


def bind_console(cfg):
    """The console's listening socket, bound now so that a taken port or a wrong address
    stops the start before anything else is opened."""
    host = cfg.get("host", "127.0.0.1")
    port = cfg.get("port", 8080)
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise StartupError("console.host: cannot resolve %r (%s)" % (host, e.strerror))
    try:
        return socket.create_server(address, family=family)
    except OSError as e:
        key, text = _BIND_CAUSES.get(e.errno, ("host", "cannot listen on %s:%d"))
        cause = text % (host, port)
        if e.errno not in _BIND_CAUSES:
            cause += " (%s)" % e.strerror
        raise StartupError("console.%s: %s" % (key, cause))
