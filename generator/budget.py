"""Run per-document work in worker processes under a time budget, so that a document built to make a parser backtrack is stopped and reported instead of hanging the build.

A thread cannot be interrupted in Python, so the work runs in forked worker processes
(one per core, at most one per item); a worker whose item overruns its budget is killed
and replaced. Where `fork` is not available (Windows, macOS) the work runs in this
process without a budget; docs/safety.md says so.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
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
    """Work on the indexes that arrive, send back (index, ok, result or exception); stop on None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills the workers
    while True:
        try:
            index = conn.recv()
        except EOFError:
            return
        if index is None:
            return
        try:
            reply = (index, True, fn(items[index]))
        except Exception as exc:  # handed to the parent, which raises it
            reply = (index, False, RuntimeError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result
            conn.send((index, False, RuntimeError(f"cannot return the result of item {index}: {exc}")))
