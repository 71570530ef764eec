"""Worker processes for CPU-bound work on received mail, driven from the event loop.

The junk check (DKIM's canonicalisation and hashing, in pure Python) must finish before SMTP
answers, yet it must not run on the event loop: every millisecond the loop spends there is a
millisecond every other session's commit waits. `concurrent.futures.ProcessPoolExecutor` moves
the work out, but hands each call over through two helper threads of its own that compete for
the interpreter lock with the loop; at hundreds of mails a second that hand-off cost more than
the check. Here each worker is a child process whose stdin and stdout are pipes the loop
itself reads and writes: a call is one pickled frame each way and no thread of ours wakes.

A worker is started as `python -m tempmail.inbound.worker_pool MODULE:FACTORY`; the first frame
it reads is the factory's argument, and the factory returns the function every later frame is
applied to. It exits when its stdin closes, so it never outlives the server, however the
server ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import logging
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

_LENGTH = struct.Struct(">I")
READY = "ready"
STOP_SECONDS = 5.0


class WorkerDied(Exception):
    """The worker process ended (killed, out of memory) before it answered."""


class WorkerError(Exception):
    """The function raised in the worker; the message is the worker's `repr` of the error."""


def _frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


class Worker:
    """One child process and the calls it has not answered yet."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, target: str, argument: Any, threads: int) -> Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            target,
            str(threads),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        worker = cls(process)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(_frame(argument))
        await process.stdin.drain()
        if await worker._read_frame() != READY:
            raise WorkerDied(f"worker {target} did not start")
        worker._reader = asyncio.get_running_loop().create_task(worker._answers())
        return worker

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and not (self._reader and self._reader.done())

    async def call(self, *args: Any) -> Any:
        assert self.process.stdin is not None
        call_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[call_id] = future
        try:
            self.process.stdin.write(_frame((call_id, args)))
            await self.process.stdin.drain()
        except (ConnectionError, RuntimeError) as exc:
            self.pending.pop(call_id, None)
            raise WorkerDied(str(exc)) from exc
        return await future

    async def _read_frame(self) -> Any:
        assert self.process.stdout is not None
        try:
            (length,) = _LENGTH.unpack(await self.process.stdout.readexactly(_LENGTH.size))
            return pickle.loads(await self.process.stdout.readexactly(length))
        except asyncio.IncompleteReadError as exc:
            raise WorkerDied(f"worker {self.process.pid} exited") from exc

    async def _answers(self) -> None:
        """Match each answer to its call; when the worker dies, fail every call still open."""
        try:
            while True:
                call_id, ok, value = await self._read_frame()
                future = self.pending.pop(call_id, None)
                if future is None or future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(WorkerError(value))
        except WorkerDied as exc:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(exc)
            self.pending.clear()

    async def stop(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class WorkerPool:
    """`size` workers running `target`; each call goes to the one with the fewest open calls,
    and a dead worker is replaced (its open calls are tried once more on the new one)."""

    def __init__(self, target: str, argument: Any, size: int, threads: int = 1) -> None:
        self.target = target
        self.argument = argument
        self.size = size
        self.threads = threads
        self._workers: list[Worker] = []
        self._starting: asyncio.Lock | None = None

    async def start(self) -> None:
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            alive = [w for w in self._workers if w.alive]
            dead = [w for w in self._workers if not w.alive]
            if dead:
                log.warning("%d %s worker(s) died; starting new ones", len(dead), self.target)
                await asyncio.gather(*(w.stop() for w in dead))
            starting = [
                Worker.start(self.target, self.argument, self.threads) for _ in range(self.size - len(alive))
            ]
            started = await asyncio.gather(*starting)
            self._workers = [*alive, *started]

    async def call(self, *args: Any) -> Any:
        for attempt in (1, 2):
            if len([w for w in self._workers if w.alive]) < self.size:
                await self.start()
            worker = min((w for w in self._workers if w.alive), key=lambda w: len(w.pending))
            try:
                return await worker.call(*args)
            except WorkerDied:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        workers, self._workers = self._workers, []
        await asyncio.gather(*(w.stop() for w in workers))


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _read(stream: BinaryIO) -> Any:
    """The next frame; EOFError once the server has closed the pipe."""
    (length,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    return pickle.loads(_read_exactly(stream, length))


def _answer(function: Callable[..., Any], call_id: int, args: tuple[Any, ...]) -> bytes:
    try:
        return _frame((call_id, True, function(*args)))
    except Exception as exc:
        return _frame((call_id, False, repr(exc)))


def serve(target: str, threads: int) -> None:
    """The worker's side: build the function, then answer frames until stdin closes.

    Calls run on `threads` threads, so one that waits (a DNS server that does not answer)
    does not hold up the others; answers go back in the order they are ready. A function that
    can tell, through a `may_block(*args)` attribute, that a call will not wait has that call
    run right on the thread that reads the pipe: handing each call to another thread cost the
    junk check several per cent of throughput.
    """
    # A terminal's Ctrl-C signals the whole process group, this worker too: the server stops
    # (and may still need the checks of the mails it drains), then closes our stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # Only our frames may go to the pipe: anything a library prints goes to stderr instead.
    sys.stdout = sys.stderr
    module_name, _, factory_name = target.partition(":")
    factory: Callable[[Any], Callable[..., Any]] = getattr(importlib.import_module(module_name), factory_name)
    writing = threading.Lock()

    def reply(function: Callable[..., Any], call_id: int, args: tuple[Any, ...]) -> None:
        frame = _answer(function, call_id, args)
        with writing:
            answers.write(frame)
            answers.flush()

    with ThreadPoolExecutor(threads) as calls, contextlib.suppress(EOFError):
        function = factory(_read(requests))
        may_block: Callable[..., bool] = getattr(function, "may_block", lambda *args: True)
        answers.write(_frame(READY))
        answers.flush()
        while True:
            call_id, args = _read(requests)
            try:
                blocking = may_block(*args)
            except Exception:
                blocking = True
            if blocking:
                calls.submit(reply, function, call_id, args)
            else:
                reply(function, call_id, args)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
