"""``tui-exports serve``: the Canvas-compatible REST API, with the job runner in-process."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from ..engine import ExportService, JobRunner
from ..engine.worker import ensure_worker
from ..paths import Home
from .app import create_app


def serve(home: Home, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the API until interrupted (Ctrl-C); exports run on an in-process JobRunner."""
    service = ExportService.open(home)
    runner = JobRunner(service).start()
    try:
        config = uvicorn.Config(create_app(service, runner), host=host, port=port, log_level="info")
        uvicorn.Server(config).run()
    finally:
        # unfinished jobs stop and go back to the queue before their connections close
        handed_back = runner.stop(wait=True)
        service.close()
        if handed_back:
            ensure_worker(home)  # which runs them to their end


class _StoppableServer(uvicorn.Server):
    """uvicorn's server that :meth:`stop` wakes at once: uvicorn looks at ``should_exit`` every
    0.1 s, then waits 0.1 s more for connections to close even when none is open."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            try:
                await asyncio.wait_for(self._wake.wait(), 0.1)
            except TimeoutError:
                pass

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    def stop(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # its loop has already closed
                pass


@contextmanager
def running_server(
    service: ExportService, runner: JobRunner | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Serve ``service`` on a thread (port 0: a free one); yields the base URL, stops on exit."""
    # proto must say TCP: asyncio only sets TCP_NODELAY on such sockets (else ~45 ms per request)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(create_app(service, runner), log_level="warning", lifespan="off")
    server = _StoppableServer(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="api-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the API server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.stop()
        thread.join(10)
        sock.close()


__all__ = ["create_app", "running_server", "serve"]
