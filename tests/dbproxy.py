"""A loopback TCP proxy in front of the test PostgreSQL that can freeze: what a stopped (SIGSTOP) server or
a stalled network path looks like to the client (TCP stays up, nothing is answered), without touching the
shared server."""

from __future__ import annotations

import select
import socket
import threading
import time
from pathlib import Path

import sqlalchemy as sa


class FreezableProxy:
    """Forwards 127.0.0.1:<port> to the server of `server_url` until `freeze()`; `thaw()` resumes.

    Frozen, it still accepts connections (the kernel would) but forwards no byte either way."""

    def __init__(self, server_url: str) -> None:
        url = sa.engine.make_url(server_url)
        self._url = url
        socket_dir = url.query.get("host") if url.host is None else None
        if isinstance(socket_dir, tuple):
            socket_dir = socket_dir[0]
        port = url.port or 5432
        self._upstream: tuple[int, object] = (
            (socket.AF_UNIX, str(Path(socket_dir) / f".s.PGSQL.{port}")) if socket_dir
            else (socket.AF_INET, (url.host or "127.0.0.1", port)))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._frozen = threading.Event()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database: str) -> str:
        """The URL of `database` through the proxy."""
        port = self._listener.getsockname()[1]
        return (self._url.set(host="127.0.0.1", port=port, database=database, query={})
                .render_as_string(hide_password=False))

    def freeze(self) -> None:
        self._frozen.set()

    def thaw(self) -> None:
        self._frozen.clear()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass

    def __enter__(self) -> FreezableProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        while self._frozen.is_set() and not self._stop.is_set():  # a frozen server never answers
            time.sleep(0.05)
        family, address = self._upstream
        upstream = socket.socket(family, socket.SOCK_STREAM)
        try:
            upstream.connect(address)
        except OSError:
            client.close()
            return
        self._sockets.append(upstream)
        pairs = {client: upstream, upstream: client}
        try:
            while not self._stop.is_set():
                if self._frozen.is_set():
                    time.sleep(0.05)  # bytes stay unread in the kernel's buffers, as with a stopped server
                    continue
                readable, _, _ = select.select(list(pairs), [], [], 0.05)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pairs[sock].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()
