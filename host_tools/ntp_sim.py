"""An SNTP server on a loopback UDP port whose clock runs `offset_ms` away from this
machine's, for tests of a device setting its clock: it answers what proto/sntp.py asks
(a server's mode 4, stratum 2, the request's transmit time as originate), and counts the
requests."""

import socket
import struct
import threading
import time

from branchline.proto import sntp


class SntpServer:
    def __init__(self, offset_ms=0):
        self.offset_ms = offset_ms
        self.requests = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _now(self):
        return int(time.time() * 1000) + self.offset_ms

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) < sntp.SIZE:
                continue
            self.requests += 1
            received = sntp._to_ntp(self._now())
            originate = struct.unpack("!II", data[40:48])
            sent = sntp._to_ntp(self._now())
            self.sock.sendto(struct.pack(sntp._FORMAT, (4 << 3) | 4, 2, 6, -20, 0, 0, b"SIM\0",
                                         received[0], received[1], originate[0],
                                         originate[1], received[0], received[1], sent[0],
                                         sent[1]), peer)

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
