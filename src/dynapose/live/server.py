"""Per-frame JSON over WebSocket (``--json-ws``) and the browser view (``--view browser``): one
small server (the ``websockets`` library) running its event loop in a thread of its own.

The pose loop calls :meth:`PoseServer.publish` per frame; it hands the frame to the server's loop
and returns at once. Each open connection gets every frame as it is published; a connection
whose socket is still busy with an earlier frame skips this one (``websockets.broadcast``), so a
slow client never holds the loop up or makes frames queue.

Every connection first gets a ``hello`` message (format, joint names, parents, units, the
frame size), then one ``frame`` message per frame (docs/live.md has their fields). The browser
view's server also answers ``GET /`` with the page (``page.html`` beside this module) and sends
each frame's picture as a binary JPEG message right before its JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from http import HTTPStatus
from importlib import resources
from typing import Any

from websockets.asyncio.server import broadcast, serve

from dynapose.errors import DynaPoseError
from dynapose.skeleton import JOINT_NAMES, PARENTS

#: The WebSocket path of both servers.
WS_PATH = "/ws"


def parse_address(text: str, option: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT``, ``PORT``: localhost) -> (host, port); DynaPoseError naming
    `option` when it is not that."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DynaPoseError(f"{option} takes HOST:PORT with a port from 1 to 65535, got {text!r}")
    return host, int(port)


def page_html() -> str:
    """The browser view's page (HTML with its script inline)."""
    return resources.files("dynapose.live").joinpath("page.html").read_text(encoding="utf-8")


def hello(width: int, height: int, source: str) -> dict[str, Any]:
    """The first message of every connection."""
    return {"type": "hello", "format": "dynapose-live", "version": 1, "units": "mm",
            "joint_names": list(JOINT_NAMES), "parents": list(PARENTS),
            "image_size": [width, height], "source": source,
            "frames": {"camera": "x right, y down, z forward (away from the camera)",
                       "world": "Y up, floor at y = 0, origin on the floor below the first "
                                "pelvis seen"}}


class PoseServer:
    """A WebSocket server on `host`:`port` in a thread of its own (module docstring).

    `page`: also serve the browser view at ``/`` (and JPEG pictures). DynaPoseError when the
    port cannot be had (busy, not allowed). Close with :meth:`close`.
    """

    def __init__(self, host: str, port: int, greeting: dict[str, Any], page: bool = False,
                 option: str = "--json-ws") -> None:
        self.host, self.port, self.page = host, port, page
        self._hello = json.dumps(greeting)
        self._html = page_html() if page else ""
        self._loop = asyncio.new_event_loop()
        self._connections: set[Any] = set()
        self.clients_seen = 0
        ready = threading.Event()
        failure: list[BaseException] = []

        async def start() -> Any:
            return await serve(self._handler, host, port, process_request=self._http,
                               max_size=2**16, compression=None, ping_interval=None)

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._server = self._loop.run_until_complete(start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"ws {host}:{port}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._loop.close()
            exc = failure[0]
            errno = getattr(exc, "errno", None)
            reason = os.strerror(errno).lower() if errno else " ".join(str(exc).split())
            raise DynaPoseError(f"cannot serve on port {port} ({reason})",
                                f"{option} {host}:{port}") from None
        sock = next(iter(self._server.sockets))
        self.port = int(sock.getsockname()[1])  # the port chosen when 0 was asked

    @property
    def url(self) -> str:
        """Where the server answers (``http://`` for the browser view, else ``ws://``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/" if self.page else \
            f"ws://{host}:{self.port}{WS_PATH}"

    @property
    def clients(self) -> int:
        return len(self._connections)

    def _http(self, connection: Any, request: Any) -> Any:
        if request.path == WS_PATH or request.path.startswith(WS_PATH + "?"):
            return None  # the WebSocket handshake goes on
        if self.page and request.path in ("/", "/index.html"):
            response = connection.respond(HTTPStatus.OK, self._html)
            del response.headers["Content-Type"]  # respond() set text/plain
            response.headers["Content-Type"] = "text/html; charset=utf-8"
            response.headers["Cache-Control"] = "no-store"
            return response
        return connection.respond(HTTPStatus.NOT_FOUND, f"not found; the pose stream is at "
                                                        f"{WS_PATH}\n")

    async def _handler(self, connection: Any) -> None:
        await connection.send(self._hello)
        self._connections.add(connection)
        self.clients_seen += 1
        try:
            async for _ in connection:  # nothing is expected from clients; read to notice close
                pass
        except Exception:
            pass
        finally:
            self._connections.discard(connection)

    def publish(self, message: dict[str, Any], jpeg: bytes | None = None) -> None:
        """Send one frame's `message` (and its picture, for the browser view) to every client;
        returns at once."""
        if not self._connections:
            return
        text = json.dumps(message, separators=(",", ":"), allow_nan=False)
        self._loop.call_soon_threadsafe(self._broadcast, text, jpeg)

    def _broadcast(self, text: str, jpeg: bytes | None) -> None:
        if jpeg is not None:
            broadcast(self._connections, jpeg)
        broadcast(self._connections, text)

    def close(self) -> None:
        """Close every connection and stop the server's thread."""
        if not self._thread.is_alive():
            return

        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=5.0)
        except Exception:
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5.0)
        if not self._thread.is_alive():
            self._loop.close()
