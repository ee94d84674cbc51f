"""One scheduler for the recognition work of every stream: ``num_workers`` threads, urgent work first.

Each stream has at most one piece of work waiting (its session coalesces the audio that arrives meanwhile).
Work that commits captions (a stream whose utterance is about to end, or that is outside speech and only needs
its voice detector) goes before work that only refreshes a partial; within each kind, the oldest first, so no
stream starves. ``backlog`` (work waiting per worker) is the load that streams stretch their decode cadence by.
"""

from __future__ import annotations

import atexit
import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class DecodeScheduler:
    def __init__(self, workers: int, name: str = "asr") -> None:
        self._workers = workers
        self._queue: list[tuple[int, int, Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}-{index}", daemon=True)
            for index in range(workers)
        ]
        for thread in self._threads:
            thread.start()
        # A decode still running while the interpreter exits dies inside CTranslate2 ("terminate called without
        # an active exception"): at exit, the threads finish their work first.
        atexit.register(self.shutdown)

    @property
    def backlog(self) -> float:
        """Work waiting for a thread, per thread (0: idle or just busy; 1: a full round queued)."""
        return len(self._queue) / self._workers

    def submit(self, work: Callable[..., T], *args: Any, urgent: bool = False) -> Future[T]:
        future: Future[T] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the scheduler is shut down")
            heapq.heappush(self._queue, (0 if urgent else 1, next(self._order), future, work, args))
            self._ready.notify()
        return future

    def shutdown(self) -> None:
        """Work waiting is cancelled; work running finishes, and the threads end."""
        with self._ready:
            self._closed = True
            for *_, future, _work, _args in self._queue:
                future.cancel()
            self._queue.clear()
            self._ready.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()
        atexit.unregister(self.shutdown)

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if self._closed:
                    return
                _, _, future, work, args = heapq.heappop(self._queue)
            if not future.set_running_or_notify_cancel():
                continue  # its stream gave up waiting (abandoned)
            try:
                future.set_result(work(*args))
            except BaseException as error:  # handed to the stream that waits for it
                future.set_exception(error)
