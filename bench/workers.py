"""Contenders in their own processes, run in turns: wall time per call and the run's peak memory.

A `Worker` is a spawned process that builds one contender (`setup`, not timed: imports, loading its input) and
then runs it on request. The peak RSS of a run (VmHWM, reset before the run) is therefore that contender's
alone, on top of the same interpreter and libraries and of what its setup keeps in memory. `alternate` runs
several workers in turns (A, B, A, B…) so that a change in the machine's load hits each of them alike, and keeps
the median.
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import resource
import signal
import statistics
import time
import traceback
from dataclasses import dataclass, field


def peak_rss_mb() -> float:
    """This process's peak RSS since the last reset_peak() (Linux VmHWM), else since it started."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start the peak RSS afresh from the current RSS (Linux: clear_refs 5), so a run's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: no orphan left running a long fit
    except (OSError, AttributeError):
        pass


def _serve(conn, target: str, kwargs: dict) -> None:
    _die_with_parent()
    try:
        module, name = target.split(":")
        fn = getattr(importlib.import_module(module), name)(**kwargs)
        conn.send(("ready", peak_rss_mb()))
    except BaseException:  # noqa: BLE001 - reported to the parent, which decides
        conn.send(("error", traceback.format_exc()))
        return
    while True:
        message = conn.recv()
        if message is None:
            return
        keep, args = message
        try:
            reset_peak()
            started = time.perf_counter()
            result = fn(*args)
            seconds = time.perf_counter() - started
            conn.send(("done", seconds, peak_rss_mb(), result if keep else None))
        except BaseException:  # noqa: BLE001
            conn.send(("error", traceback.format_exc()))


class WorkerError(RuntimeError):
    pass


class WorkerTimeout(Exception):
    """A call ran longer than its timeout and was stopped; args[0] is the timeout in seconds."""


class Worker:
    """`target` "module:function": function(**kwargs) runs once in the new process and returns the callable."""

    def __init__(self, target: str, **kwargs):
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, target, kwargs), daemon=True)
        self.process.start()
        child.close()
        self.target = target
        reply = self._receive()
        self.setup_peak_mb = reply[1]

    def _receive(self):
        try:
            reply = self.conn.recv()
        except EOFError:
            self.process.join(5)
            raise WorkerError(f"{self.target}: the worker died (exit code {self.process.exitcode})") from None
        if reply[0] == "error":
            raise WorkerError(f"{self.target} failed:\n{reply[1]}")
        return reply

    def call(self, *args, keep: bool = False, timeout: float | None = None) -> tuple[float, float, object]:
        """Run the contender once: (seconds, peak RSS of the process so far in MB, result if keep).
        A call still running after `timeout` seconds is stopped (the worker killed): WorkerTimeout."""
        self.conn.send((keep, args))
        if timeout is not None and not self.conn.poll(timeout):
            self.process.kill()
            self.process.join()
            raise WorkerTimeout(timeout)
        _, seconds, peak, result = self._receive()
        return seconds, peak, result

    def close(self) -> None:
        if self.process.is_alive():
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class Timing:
    times: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    result: object = None
    stopped: float | None = None  # the timeout, when a run was stopped

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def runs(self) -> int:
        return len(self.times)


def alternate(workers: dict[str, Worker], repeat: int, budget: float = float("inf"), keep: bool = True,
              args: tuple = (), timeout: float | None = None) -> dict[str, Timing]:
    """Call each worker in turns, `repeat` rounds; a contender whose runs add up to more than `budget` seconds
    stops early (at least one run), one running past `timeout` is stopped (Timing.stopped). The result (when
    `keep`) is the first run's; the peak memory the highest of the runs' own peaks."""
    out = {name: Timing() for name in workers}
    for _ in range(repeat):
        for name, worker in workers.items():
            timing = out[name]
            if timing.stopped or timing.times and sum(timing.times) >= budget:
                continue
            first = not timing.times
            try:
                seconds, peak, result = worker.call(*args, keep=keep and first, timeout=timeout)
            except WorkerTimeout:
                timing.stopped = timeout
                continue
            timing.times.append(seconds)
            timing.peak_mb = max(timing.peak_mb, peak)
            if first:
                timing.result = result
    return out
