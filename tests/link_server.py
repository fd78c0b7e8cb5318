"""A real HTTP server on 127.0.0.1 for the link-check tests (Python's http.server, in a thread).

Pages: ``/ok`` (a real page), ``/empty`` (200, no visible text), ``/missing`` (404), ``/error``
(500), ``/moved`` (302 to /ok), ``/loop`` (redirects to itself), ``/slow`` (answers after 3 s),
``/pdf`` (a small PDF), ``/tiny.pdf`` (8 bytes), ``/trickle`` (3 bytes every 0.25 s for 10 s), ``/to-elsewhere`` (302 to the same server under another host name).
Nothing ever leaves the machine.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

PAGE = ("<html><head><title>ข้อมูลผู้บริหาร</title><script>var x = 1;</script></head><body>"
        "<h1>ข้อมูลผู้บริหาร</h1><p>นายกเทศมนตรีตำบลนาอ้อ ชื่อ นายสมชาย ใจดี โทร ๐๔๒ ๐๐๐ ๐๐๐</p></body></html>")
EMPTY = "<html><head><title>ยังไม่มีข้อมูล</title><style>body{}</style></head><body>  <div></div> </body></html>"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def _send(self, code: int, body: bytes = b"", content_type: str = "text/html; charset=utf-8", **headers: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the checker gave up (the timeout test): expected

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path.split("?")[0]
        port = self.server.server_address[1]
        if path == "/ok":
            self._send(200, PAGE.encode())
        elif path == "/empty":
            self._send(200, EMPTY.encode())
        elif path == "/missing":
            self._send(404, b"<html><body>Not found</body></html>")
        elif path == "/error":
            self._send(500, b"<html><body>Server error</body></html>")
        elif path == "/moved":
            self._send(302, b"", Location="/ok")
        elif path == "/loop":
            self._send(302, b"", Location="/loop")
        elif path == "/to-elsewhere":
            self._send(302, b"", Location=f"http://localhost:{port}/ok")
        elif path == "/slow":
            time.sleep(3)
            self._send(200, PAGE.encode())
        elif path == "/trickle":  # a byte at a time, each well inside a per-read timeout
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            try:
                for _ in range(40):
                    self.wfile.write(b"<p>")
                    self.wfile.flush()
                    time.sleep(0.25)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/tiny.pdf":
            self._send(200, b"%PDF-1.4", content_type="application/pdf")
        elif path == "/pdf":
            self._send(200, b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF", content_type="application/pdf")
        else:
            self._send(404, b"")


@contextmanager
def link_server() -> Iterator[str]:
    """Yields the base URL ``http://127.0.0.1:PORT``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
