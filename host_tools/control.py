"""JSON-lines control socket for simulators run from the command line: one request per
line (`{"op": "sms", ...}`), one JSON answer per line. Bad requests get {"error": ...}."""

import json
import os
import socket
import socketserver
import threading


def serve(path, handle):
    """Serve `handle(request_dict) -> answer_dict` on a Unix socket at `path` (a thread)."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for raw in self.rfile:
                try:
                    request = json.loads(raw)
                    if not isinstance(request, dict):
                        raise ValueError("request must be a JSON object")
                    answer = handle(request)
                except (ValueError, KeyError, TypeError) as e:
                    answer = {"error": str(e)}
                self.wfile.write(json.dumps(answer).encode() + b"\n")

    if os.path.exists(path):
        os.unlink(path)
    server = socketserver.ThreadingUnixStreamServer(path, Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="control:" + path, daemon=True).start()
    return server


def request(path, doc):
    """Client side: send one request, return the answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(json.dumps(doc).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)
