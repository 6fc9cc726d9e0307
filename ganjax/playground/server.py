"""The playground's web server: the page, one WebSocket (and Tab) per browser tab, limits.

Starlette on uvicorn. `GET /` is the page (static HTML/JS/CSS from this package, nothing from
the network); `/ws` is a tab's socket; `GET /api/sessions` lists the tabs with what each panel
has in force (step, loss, hyperparameters read from the state); `GET /healthz` answers "ok".

Per socket three tasks run: the receiver (each message is applied by `Tab.handle` in a worker
thread, so JAX never blocks the event loop), the trainer (while playing: `Tab.tick` in a worker
thread, then a frame, paced by the speed) and the sender (control messages in order, and only
the newest frame: a slow page skips frames instead of queueing them). A per-tab lock keeps
messages and training steps of one tab from overlapping; tabs run side by side.

Limits: messages over `max_message_bytes` are refused with an error line (uvicorn drops the
connection only for frames over 4x that); at most `max_tabs` tabs; a tab with no message for
`idle_timeout_s` is told so and closed; sockets from another site's page (an Origin that is not
this server) are refused. An unexpected exception is logged here with its traceback; the page
gets one line without it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import ipaddress
import json
import logging
import pathlib
import secrets
import socket
import sys
import time
from typing import Any, Callable
from urllib.parse import urlparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from ganjax.playground.messages import MAX_MESSAGE_BYTES, MessageError, parse
from ganjax.playground.session import Setup
from ganjax.playground.settings import default_config
from ganjax.playground.tab import Tab, error

STATIC = pathlib.Path(__file__).resolve().parent / "static"
log = logging.getLogger("ganjax.playground")

CLOSE_IDLE = 4000  # WebSocket close codes of our own (4000-4999 are the application's)
CLOSE_FULL = 4008
CLOSE_ORIGIN = 4003
QUICK_MESSAGES = ("play", "pause", "speed", "ping")


@dataclasses.dataclass
class Options:
    """How the server runs; `setup` gives each new tab its starting setup."""

    setup: Callable[[], Setup] = lambda: Setup(default_config())
    idle_timeout_s: float = 1800.0
    max_tabs: int = 8
    max_message_bytes: int = MAX_MESSAGE_BYTES
    export_dir: str | None = "playground_exports"

    @property
    def sweep_every_s(self) -> float:
        return max(0.05, min(self.idle_timeout_s / 4, 5.0))


def _dumps(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


class Outbox:
    """Messages to send: control messages in order, frames newest-only."""

    def __init__(self):
        self._messages: list[dict] = []
        self._frame: dict | None = None
        self._ready = asyncio.Event()

    def put(self, message: dict) -> None:
        if message.get("type") == "frame":
            self._frame = message
        else:
            self._messages.append(message)
        self._ready.set()

    async def take(self) -> list[dict]:
        await self._ready.wait()
        self._ready.clear()
        out, self._messages = self._messages, []
        if self._frame is not None:
            out.append(self._frame)
            self._frame = None
        return out


class Connection:
    """One socket and its tab."""

    def __init__(self, websocket: WebSocket, executor: concurrent.futures.Executor):
        self.websocket = websocket
        self.executor = executor
        self.outbox = Outbox()
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()
        self.tab: Tab | None = None
        self.close_reason: str | None = None
        self.close_code = 1000

    async def call(self, fn: Callable, *args: Any) -> Any:
        """fn(*args) in a worker thread, never beside another call of this tab."""
        async with self.lock:
            return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def close(self, reason: str, code: int) -> None:
        """Tells the page why, then closes the socket (the sender does it after the message)."""
        if self.close_reason is None:
            self.close_reason, self.close_code = reason, code
            self.outbox.put({"type": "closed", "reason": reason})


class Playground:
    """The tabs the server holds, and the threads their JAX work runs in."""

    def __init__(self, options: Options):
        self.options = options
        self.connections: dict[str, Connection] = {}
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(2, options.max_tabs), thread_name_prefix="playground")

    def sweep_idle(self, now: float | None = None) -> list[str]:
        """Closes tabs with no message for idle_timeout_s; returns their ids."""
        now = time.monotonic() if now is None else now
        closed = []
        for tab_id, connection in list(self.connections.items()):
            tab = connection.tab
            if tab is None or connection.lock.locked():
                continue  # starting, or applying a message or a frame right now
            if now - tab.last_seen > self.options.idle_timeout_s:
                connection.close(f"session closed after {self.options.idle_timeout_s:g} s "
                                 f"without a message; reload the page to start again",
                                 CLOSE_IDLE)
                closed.append(tab_id)
        return closed

    async def sweeper(self) -> None:
        while True:
            await asyncio.sleep(self.options.sweep_every_s)
            for tab_id in self.sweep_idle():
                log.info("closing idle tab %s", tab_id)

    def shutdown(self) -> None:
        for connection in list(self.connections.values()):
            connection.close("the server is stopping", 1001)
        self.executor.shutdown(wait=False, cancel_futures=True)


def _origin_allowed(websocket: WebSocket) -> bool:
    """No Origin (not a browser), or the page of this very server."""
    origin = websocket.headers.get("origin")
    if not origin:
        return True
    return urlparse(origin).netloc.lower() == websocket.headers.get("host", "").lower()


async def _receiver(connection: Connection, max_bytes: int) -> None:
    websocket, tab = connection.websocket, connection.tab
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        try:
            if _is_quick(data, max_bytes):  # play, pause, speed: at once, even mid-compile
                replies = tab.handle(data)
            else:
                replies = await connection.call(tab.handle, data)
        except Exception as e:  # noqa: BLE001 (reported as one line; the log keeps the trace)
            log.exception("tab %s: error handling a message", tab.id)
            replies = [error(f"internal error ({type(e).__name__}) while applying the message; "
                             f"the server log has the details")]
        for reply in replies:
            connection.outbox.put(reply)
        if tab.playing:
            connection.wake.set()


def _is_quick(data: str | bytes, max_bytes: int) -> bool:
    """Whether a message only flips the tab's flags (or is refused before it is applied), so
    that the event loop may apply it without waiting for the tab's running call."""
    try:
        return parse(data, max_bytes).type in QUICK_MESSAGES
    except MessageError:
        return True  # refused: Tab.handle only returns the error line


async def _trainer(connection: Connection) -> None:
    tab = connection.tab
    loop = asyncio.get_running_loop()
    while True:
        if not tab.playing:
            await connection.wake.wait()
            connection.wake.clear()
            continue
        started = loop.time()
        if tab.will_compile():
            connection.outbox.put({**tab.state_message(), "compiling": True})
        try:
            frame = await connection.call(lambda: tab.tick() if tab.playing else None)
        except Exception as e:  # noqa: BLE001
            log.exception("tab %s: error while training", tab.id)
            tab.playing = False
            connection.outbox.put(error(f"internal error ({type(e).__name__}) while training; "
                                        f"paused; the server log has the details"))
            connection.outbox.put(tab.state_message())
            continue
        if frame is not None:
            connection.outbox.put(frame)
        await asyncio.sleep(max(0.0, tab.frame_interval() - (loop.time() - started)))


async def _sender(connection: Connection) -> None:
    websocket = connection.websocket
    while True:
        for message in await connection.outbox.take():
            await websocket.send_text(_dumps(message))
            if message.get("type") == "closed":
                await websocket.close(code=connection.close_code)
                return


async def tab_socket(websocket: WebSocket) -> None:
    playground: Playground = websocket.app.state.playground
    options = playground.options
    if not _origin_allowed(websocket):
        await websocket.close(code=CLOSE_ORIGIN)
        return
    await websocket.accept()
    connection = Connection(websocket, playground.executor)
    sender = asyncio.create_task(_sender(connection))
    tasks = [sender]
    tab_id = secrets.token_hex(4)
    try:
        if len(playground.connections) >= options.max_tabs:
            connection.close(f"the playground holds {options.max_tabs} sessions already "
                             f"(--max_tabs); close another tab first", CLOSE_FULL)
            await sender
            return
        playground.connections[tab_id] = connection
        try:
            connection.tab = await connection.call(lambda: Tab(
                tab_id, options.setup(), export_dir=options.export_dir,
                max_message_bytes=options.max_message_bytes))
        except Exception as e:  # noqa: BLE001
            log.exception("tab %s: cannot build the first setup", tab_id)
            connection.close(f"cannot start a session ({type(e).__name__}: {e})", 1011)
            await sender
            return
        tab = connection.tab
        for message in (tab.hello(), tab.setup_message("ready"), await connection.call(tab.frame)):
            connection.outbox.put(message)
        tab.last_seen = time.monotonic()  # idle from now on, not from before the first frame
        receiver = asyncio.create_task(_receiver(connection, options.max_message_bytes))
        tasks += [receiver, asyncio.create_task(_trainer(connection))]
        done, _ = await asyncio.wait([receiver, sender], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                if not _is_disconnect(exc):
                    log.error("tab %s: socket task failed: %r", tab_id, exc)
    finally:  # nothing awaited here: the handler may be being cancelled (server shutdown)
        for task in tasks:
            task.cancel()
        playground.connections.pop(tab_id, None)
        if connection.tab is not None:
            _close_later(connection)


def _close_later(connection: Connection) -> None:
    """Closes the tab's sessions in a worker thread once its running call (if any) is done."""
    tab = connection.tab

    async def close() -> None:
        async with connection.lock:
            tab.playing = False
        tab.close()

    with contextlib.suppress(RuntimeError):  # no running loop any more: exiting
        task = asyncio.get_running_loop().create_task(close())
        _closing.add(task)  # a reference until it is done (the loop keeps only weak ones)
        task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task] = set()


def _is_disconnect(exc: BaseException) -> bool:
    from starlette.websockets import WebSocketDisconnect

    return isinstance(exc, (WebSocketDisconnect, RuntimeError, ConnectionError))


async def index(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def sessions(request: Request) -> JSONResponse:
    playground: Playground = request.app.state.playground
    out = []
    for connection in list(playground.connections.values()):
        if connection.tab is not None and connection.tab.panels:
            out.append(await connection.call(connection.tab.summary))
    return JSONResponse({"tabs": out})


def create_app(options: Options | None = None) -> Starlette:
    """The playground's ASGI app."""
    playground = Playground(options or Options())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        sweeper = asyncio.create_task(playground.sweeper())
        try:
            yield
        finally:
            sweeper.cancel()
            playground.shutdown()

    app = Starlette(routes=[
        Route("/", index),
        Route("/healthz", healthz),
        Route("/api/sessions", sessions),
        WebSocketRoute("/ws", tab_socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], lifespan=lifespan)
    app.state.playground = playground
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def serve(host: str = "127.0.0.1", port: int = 8080, options: Options | None = None,
          out=sys.stdout) -> None:
    """Serves the playground until Ctrl-C (SIGINT) or SIGTERM; then closes every tab."""
    import uvicorn

    options = options or Options()
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    if not is_loopback(host):
        print(f"ganjax playground: warning: listening on {host}, not on loopback: anyone who "
              f"can reach this address can start training on this machine", file=out, flush=True)
    config = uvicorn.Config(create_app(options), log_level="warning", lifespan="on",
                            ws_max_size=4 * options.max_message_bytes,
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    print(f"ganjax playground: serving on http://{shown}:{actual}/ (Ctrl-C stops)", file=out,
          flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the signal it handled once it has stopped
        pass
    finally:
        sock.close()
    print("ganjax playground: stopped", file=out, flush=True)
