"""The HTTP plumbing: a threaded HTTP/1.1 server on 127.0.0.1 with keep-alive, streaming each
reply's body in chunks (through the bandwidth cap, if any) and acting out wire faults:
a reset connection, or a body cut short of its Content-Length."""
import os
import socket
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .replies import ERROR_NAMES

CHUNK = 1 << 20
THROTTLED_CHUNK = 1 << 14


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True      # headers and body go out in separate writes
    def version_string(self):
        return "spx-sim"

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._serve("POST")

    def _serve(self, method):
        terminal = self.server.terminal
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        reply = terminal.handle(method, self.path, host)
        status, sent = reply.status, 0
        try:
            if reply.reset:
                status = "reset"
                self._reset()
            else:
                sent = self._send(reply, terminal)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True        # the client went away
        finally:
            terminal.done(reply, self.path, status, sent)

    def _send(self, reply, terminal):
        throttle = terminal.throttle
        self.send_response(reply.status, ERROR_NAMES.get(reply.status))
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(reply.length))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        budget = reply.length if reply.truncate_at is None else reply.truncate_at
        chunk = THROTTLED_CHUNK if throttle else CHUNK
        sent = 0
        if budget == 0:
            terminal.release(reply)
        for part in reply.parts:
            view = memoryview(part)
            for start in range(0, len(view), chunk):
                piece = view[start:start + min(chunk, budget - sent)]
                if not piece:
                    break
                if throttle:
                    throttle.wait(len(piece))
                if sent + len(piece) >= budget:
                    terminal.release(reply)
                self.wfile.write(piece)
                sent += len(piece)
        if reply.truncate_at is not None:
            self.close_connection = True         # the rest never comes
        return sent

    def _reset(self):
        # SO_LINGER 0 makes close() send RST instead of FIN; the read file holds a socket
        # reference, so it is closed first for close() to take effect now.
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()

    def log_message(self, format, *args):     # noqa: A002 (the base class's signature)
        if self.server.verbose:
            sys.stderr.write(f"spx-sim: {self.address_string()} {format % args}\n")


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True        # a restarted terminal gets its port back at once
    request_queue_size = 64

    def __init__(self, port, terminal, verbose=False):
        super().__init__(("127.0.0.1", port), _Handler)
        self.terminal = terminal
        self.verbose = verbose

    @property
    def port(self):
        return self.server_address[1]

    def handle_error(self, request, client_address):
        # a client that hangs up mid-response is routine, not a traceback
        if not isinstance(sys.exc_info()[1], (ConnectionError, OSError)):
            super().handle_error(request, client_address)


def write_port_file(path, port):
    """Write PORT to PATH atomically, so a reader never sees a partial number."""
    path = Path(path)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(f"{port}\n")
    os.replace(tmp, path)
