"""Worker processes spoken to over pipes: answers matched to calls, errors, dead workers.

The functions below run in real child processes (`python -m tempmail.inbound.worker_pool
tests.inbound.test_worker_pool:FACTORY`), started from the repository root like the suite.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

from tempmail.inbound.worker_pool import WorkerError, WorkerPool
from tests.support import run_async

TARGET = f"{__name__}:scaled"


def scaled(factor: int) -> Callable[..., tuple[int, int]]:
    """A worker function: multiplies, sleeps when asked, prints (to prove stdout is not the
    pipe), raises on request, and tells its pid."""

    def work(value: int, sleep: float = 0.0, fail: bool = False) -> tuple[int, int]:
        print("noise on stdout")
        if sleep:
            time.sleep(sleep)
        if fail:
            raise ValueError(f"no good: {value}")
        return (value * factor, os.getpid())

    return work


def test_answers_are_matched_to_their_calls() -> None:
    async def scenario() -> list[tuple[int, int]]:
        pool = WorkerPool(TARGET, 3, size=2)
        try:
            await pool.start()
            return list(await asyncio.gather(*(pool.call(n, 0.01 * (n % 3)) for n in range(20))))
        finally:
            await pool.close()

    answers = run_async(scenario())
    assert [value for value, _ in answers] == [n * 3 for n in range(20)]
    assert len({pid for _, pid in answers}) == 2


def test_an_error_in_the_function_fails_only_that_call() -> None:
    async def scenario() -> tuple[str, tuple[int, int]]:
        pool = WorkerPool(TARGET, 2, size=1)
        try:
            with pytest.raises(WorkerError) as failed:
                await pool.call(5, 0.0, True)
            return str(failed.value), await pool.call(5)
        finally:
            await pool.close()

    error, after = run_async(scenario())
    assert "ValueError" in error and "no good: 5" in error
    assert after[0] == 10


def test_a_killed_worker_is_replaced_and_its_open_call_retried() -> None:
    async def scenario() -> tuple[int, tuple[int, int], tuple[int, int]]:
        pool = WorkerPool(TARGET, 2, size=1)
        try:
            first_pid: int = (await pool.call(1))[1]
            slow = asyncio.ensure_future(pool.call(7, 0.5))
            await asyncio.sleep(0.2)
            os.kill(first_pid, signal.SIGKILL)
            return first_pid, await slow, await pool.call(8)
        finally:
            await pool.close()

    first_pid, retried, later = run_async(scenario())
    assert retried[0] == 14 and retried[1] != first_pid
    assert later[0] == 16


def test_close_ends_the_workers() -> None:
    async def scenario() -> int:
        pool = WorkerPool(TARGET, 1, size=1)
        pid: int = (await pool.call(1))[1]
        await pool.close()
        return pid

    pid = run_async(scenario())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_slow_call_does_not_hold_up_the_others() -> None:
    """Like a check waiting on a DNS server that does not answer."""

    async def scenario() -> list[int]:
        pool = WorkerPool(TARGET, 1, size=1, threads=2)
        finished: list[int] = []

        async def call(value: int, sleep: float) -> None:
            await pool.call(value, sleep)
            finished.append(value)

        try:
            await pool.start()
            await asyncio.gather(call(1, 1.0), call(2, 0.0))
            return finished
        finally:
            await pool.close()

    assert run_async(scenario()) == [2, 1]


class Threaded:
    """A worker function that tells which thread ran it; calls with `wait` may block."""

    def __init__(self, _argument: object) -> None:
        pass

    def __call__(self, value: int, wait: float = 0.0) -> tuple[int, str]:
        time.sleep(wait)
        return value, threading.current_thread().name

    def may_block(self, value: int, wait: float = 0.0) -> bool:
        return wait > 0


def test_calls_that_cannot_block_run_without_a_hand_off() -> None:
    async def scenario() -> list[tuple[int, str]]:
        pool = WorkerPool(f"{__name__}:Threaded", None, size=1, threads=2)
        finished: list[tuple[int, str]] = []

        async def call(value: int, wait: float) -> None:
            finished.append(await pool.call(value, wait))

        try:
            await pool.start()
            await asyncio.gather(call(1, 1.0), call(2, 0.0), call(3, 0.0))
            return finished
        finally:
            await pool.close()

    finished = run_async(scenario())
    assert [value for value, _ in finished] == [2, 3, 1]  # the waiting call held up no other
    threads = dict(finished)
    assert threads[2] == threads[3] == "MainThread"
    assert threads[1] != "MainThread"
