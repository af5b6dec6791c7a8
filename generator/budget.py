"""Run per-document work in worker processes under a time budget, so that a document built to make a parser backtrack is stopped and reported instead of hanging the build.

A thread cannot be interrupted in Python, so the work runs in forked worker processes
(one per core, at most one per item); a worker whose item overruns its budget is killed
and replaced. Where `fork` is not available (Windows, macOS) the work runs in this
process without a budget; docs/safety.md says so.
"""

from __future__ import annotations

import gc
import importlib
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Overrun:
    """An item whose work was stopped: it ran past its budget, or its worker died."""

    reason: str


@dataclass
class _Slot:
    process: Any  # multiprocessing.Process
    conn: Connection
    item: int | None = None
    started: float = 0.0


def can_enforce() -> bool:
    """Return whether this platform can run work in forked workers (and so enforce a budget)."""
    return sys.platform.startswith(("linux", "freebsd")) and "fork" in multiprocessing.get_all_start_methods()


def map_bounded(fn: Callable[[T], R], items: Sequence[T], seconds: float | None, workers: int | None = None) -> list[R | Overrun]:
    """Return fn(item) for each item, in order; an item that takes longer than seconds gives an Overrun.

    fn and items reach the workers by fork, so they need not be picklable; the results
    must be. An exception fn raises is raised here. With seconds None (or no fork) the
    work runs in this process, unbounded.
    """
    if not items:
        return []
    if seconds is None or not can_enforce():
        return [fn(item) for item in items]
    context = multiprocessing.get_context("fork")
    count = max(1, min(workers or os.cpu_count() or 1, len(items)))
    results: list[Any] = [None] * len(items)
    todo = deque(range(len(items)))
    slots: list[_Slot] = []
    try:
        slots = [_start(context, fn, items) for _ in range(count)]
        while True:
            for slot in slots:
                if slot.item is None and todo:
                    slot.item, slot.started = todo.popleft(), time.monotonic()
                    slot.conn.send(slot.item)
            busy = [s for s in slots if s.item is not None]
            if not busy:
                break
            deadline = min(s.started for s in busy) + seconds
            ready = wait([s.conn for s in busy], timeout=max(0.0, deadline - time.monotonic()))
            keep: list[_Slot] = []
            for slot in slots:
                if slot.item is None:
                    keep.append(slot)
                    continue
                if slot.conn in ready:
                    try:
                        index, ok, value = slot.conn.recv()
                    except (EOFError, OSError):
                        results[slot.item] = Overrun("its worker process died (out of memory?)")
                    else:
                        if not ok:
                            raise value
                        results[index] = value
                        slot.item = None
                        keep.append(slot)
                        continue
                elif time.monotonic() - slot.started < seconds:
                    keep.append(slot)
                    continue
                else:
                    results[slot.item] = Overrun(f"took longer than {seconds:g} s")
                _stop(slot)  # overran or died: kill it, and start another if work is left
                if todo:
                    keep.append(_start(context, fn, items))
            slots = keep
    finally:
        for slot in slots:
            _stop(slot)
    return results


def _start(context: Any, fn: Callable[[Any], Any], items: Sequence[Any]) -> _Slot:
    """Fork a worker that holds fn and items and works on the indexes it is sent."""
    parent, child = context.Pipe()
    process = context.Process(target=_work, args=(fn, items, child), daemon=True)
    process.start()
    child.close()
    return _Slot(process, parent)


def _stop(slot: _Slot) -> None:
    """End a worker: ask it to stop when idle, kill it when busy."""
    if slot.item is None and slot.process.is_alive():
        try:
            slot.conn.send(None)
        except OSError:
            pass
        slot.process.join(timeout=1.0)
    if slot.process.is_alive():
        slot.process.kill()
    slot.process.join()
    slot.conn.close()


def _work(fn: Callable[[Any], Any], items: Sequence[Any], conn: Connection) -> None:
    """Work on the indexes that arrive, send back (index, ok, result or exception); stop on None.

    The objects this process was forked with are frozen first (gc.freeze), and the cycle
    collector is on (the build forks with it off, pipeline._collector_paused), so that
    the cycles the work makes are collected, and only those are visited. A full collection
    would otherwise walk the whole model inherited from the parent (~0.5 s at 10,000
    briefings), writing to every object, so that the pages holding them are copied.
    """
    gc.freeze()
    gc.enable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills the workers
    while True:
        try:
            index = conn.recv()
        except EOFError:
            return
        if index is None:
            return
        _reply(conn, index, fn, items[index])


def _reply(conn: Connection, index: int, fn: Callable[[Any], Any], item: Any) -> None:
    """Send back (index, ok, fn(item) or the exception it raised)."""
    try:
        reply = (index, True, fn(item))
    except Exception as exc:  # handed to the parent, which raises it
        reply = (index, False, RuntimeError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    try:
        conn.send(reply)
    except Exception as exc:  # an unpicklable result
        conn.send((index, False, RuntimeError(f"cannot return the result of item {index}: {exc}")))


class Resident:
    """One worker process kept from call to call, for a few items at a time under the budget: a rebuild's one or two articles.

    Forking a large process costs tens of milliseconds (~35 ms for a serve process
    holding 1,000 briefings), several times the work of one article; a resident worker
    pays its start once. It is a new Python process (`python -c`), not a fork: a process
    that lives on must not hold copies of this one's sockets and pipes (serve's listening
    socket and connections, a child's output pipe), which a fork would give it, nor run
    this program's main module again, as multiprocessing's spawn and fork server do. So
    its jobs reach it pickled over a socket pair: fn must be a module-level function,
    items and results picklable. It imports `preload` when it starts. An item that
    overruns kills the worker; the next call starts another. close() ends it (serve
    does when it stops).
    """

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        self.preload = preload
        self.process: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self.pending: Callable[[], object] | None = None  # the results of the last submit, not yet waited for

    def start(self) -> None:
        """Start the worker now if it is not running (serve does after its first build, so the first edit does not wait for it)."""
        if not can_enforce() or (self.process is not None and self.process.poll() is None):
            return
        self.close()
        ours, theirs = socket.socketpair()
        path = json.dumps([str(Path(__file__).resolve().parent.parent)] + [p for p in sys.path if p])  # this process's module path: fn's module must import there
        code = "import json, sys; sys.path[:0] = json.loads(sys.argv[2]); from generator.budget import _resident; _resident(int(sys.argv[1]), sys.argv[3:])"
        with ours, theirs:
            self.process = subprocess.Popen([sys.executable, "-c", code, str(theirs.fileno()), path, *self.preload], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
            self.conn = Connection(os.dup(ours.fileno()))

    def map(self, fn: Callable[[T], R], items: Sequence[T], seconds: float | None) -> list[R | Overrun]:
        """Return fn(item) for each item, in order, as map_bounded does."""
        return self.submit(fn, items, seconds)()

    def submit(self, fn: Callable[[T], R], items: Sequence[T], seconds: float | None) -> Callable[[], list[R | Overrun]]:
        """Hand the items to the worker and return what waits for fn(item) of each, in order (what map returns): the caller works meanwhile.

        The items go in one message, and the worker answers each in turn, so neither
        side waits on the other. Each item has `seconds` from the answer before it (the
        first from now); one that overruns them, or whose worker dies, is an Overrun, and
        the items after it go to a new worker. A submission nobody waited for is waited
        for (and dropped) by the next one.
        """
        if self.pending is not None:
            self.pending()
        if seconds is None or not can_enforce():
            done: list[R | Overrun] = [fn(item) for item in items]
            return lambda: done
        budget = seconds
        items = list(items)
        since = time.monotonic()
        self.start()
        sent = self._send((fn, items))

        def collect() -> list[R | Overrun]:
            self.pending = None
            results: list[R | Overrun] = []
            nonlocal since, sent
            while len(results) < len(items):
                if not sent:  # the last worker overran or died: the rest go to a new one
                    self.start()
                    sent = self._send((fn, items[len(results) :]))
                    since = time.monotonic()
                try:
                    if self.conn is None or not sent or not self.conn.poll(max(0.0, since + budget - time.monotonic())):
                        results.append(Overrun(f"took longer than {budget:g} s") if sent else Overrun("its worker process died (out of memory?)"))
                        self.close()
                        sent = False
                        continue
                    _, ok, value = self.conn.recv()
                except (EOFError, OSError):
                    results.append(Overrun("its worker process died (out of memory?)"))
                    self.close()
                    sent = False
                    continue
                if not ok:
                    self.close()  # the answers to the items after it would follow: start afresh
                    raise value
                results.append(value)
                since = time.monotonic()
            return results

        self.pending = collect
        return collect

    def _send(self, job: object) -> bool:
        """Send a job to the worker; False if it is gone."""
        try:
            assert self.conn is not None
            self.conn.send(job)
            return True
        except (OSError, AssertionError):
            self.close()
            return False

    def close(self) -> None:
        """Stop the worker (killed: it may be in the middle of an item) and wait for it."""
        self.pending = None
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _resident(fd: int, preload: list[str]) -> None:
    """The resident worker's main: import what it will need, then do the jobs that arrive on the socket fd."""
    for module in preload:
        importlib.import_module(module)
    _jobs(Connection(fd))


def _jobs(conn: Connection) -> None:
    """The resident worker: do the (fn, items) jobs that arrive, one reply per item; stop on None or at the end of the connection."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills the worker
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        fn, items = job
        for index, item in enumerate(items):
            _reply(conn, index, fn, item)
