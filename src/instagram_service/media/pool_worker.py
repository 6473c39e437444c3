"""Set-up of each image pool process: a lower CPU priority, and an end with its parent.

The pool's processes are forked by multiprocessing's forkserver, so their OS parent is not
the process that owns the pool. After a kill -9 of the owner they would live on (a resource
tracker, the forkserver and the workers, ~250 MB): each worker watches the owner's pid and
exits when it ends; the forkserver and the resource tracker then end on their own, once the
last worker holding their pipes is gone.
"""

from __future__ import annotations

import os
import select
import threading
import time

_POLL_S = 1.0


def _wait_for_exit(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except OSError:  # no pidfd (old kernel): poll the pid
        while _alive(pid):
            time.sleep(_POLL_S)
        return
    with select.epoll() as poller:
        poller.register(fd, select.EPOLLIN)
        while not poller.poll():
            pass
    os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exit_with(owner: int) -> None:
    _wait_for_exit(owner)
    os._exit(1)


def lower_this_thread(nice: int) -> None:
    """This thread's niceness to `nice` (Linux keeps one per thread, and processes and threads
    it starts inherit it). Never raises: a priority is a preference."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        if nice > current:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError:
        pass


def start_pool_worker(owner: int, nice: int) -> None:
    """The pool's initializer: runs once in each new worker process (at `nice`, absolute:
    the forkserver it is forked from may already run lower)."""
    lower_this_thread(nice)
    threading.Thread(target=_exit_with, args=(owner,), name="owner-watch", daemon=True).start()
