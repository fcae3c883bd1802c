"""Sharing a machine between parallel workers: torch threads and GPUs.

Private helpers of the base estimator (pure Python and PyTorch; no skorch here).

Thread budget
-------------
While one of our estimators trains or predicts, torch's intra-op thread count is

    ``min(T, max(1, C // k))``

- ``T`` is ``torch.get_num_threads()`` when the fit or prediction starts: what the
  user set with ``torch.set_num_threads``, else what torch derived from
  ``OMP_NUM_THREADS``. Worker processes already get a share here: joblib's loky
  backend starts its workers with ``OMP_NUM_THREADS = cpu_count() // n_jobs`` (unless
  the variable is set in the parent), and a Dask nanny starts its workers with
  ``OMP_NUM_THREADS=1`` (``distributed.nanny.pre-spawn-environ``). The budget never
  raises the count above ``T``.
- ``C`` is :func:`joblib.cpu_count`: the cores this process may use (CPU affinity
  and cgroup quotas respected, unlike torch's own default, which counts the
  machine's cores).
- ``k`` is the number of tasks sharing the process: the number of threads currently
  inside a fit or prediction of this package (several under joblib's threading
  backend), and at least the worker's ``nthreads`` inside a Dask worker.

``k`` is re-read at every training batch, so fits that start while others run
are rebalanced. The previous value is restored when the fit or prediction ends, also
after an error. With an OpenMP build of torch (the Linux and Windows wheels) the
count is per thread: setting it in one thread does not change another thread's
running fit. Setting the environment variable ``SK_IMBALANCE_THREAD_CAP=0`` turns
the budget off (torch then runs with ``T`` threads).

GPU per worker
--------------
``device="auto"`` in a worker process (a child of a multiprocessing/loky/Dask
process, or a Dask task) claims one visible GPU for the lifetime of the process:
an exclusive, non-blocking ``flock`` on a lock file per GPU in the temporary
directory, released by the operating system when the process exits. When every
visible GPU is claimed, the worker trains on the CPU and says so once. GPUs are
named by their ``CUDA_VISIBLE_DEVICES`` entry, so workers pinned to different GPUs
by dask-cuda never compete.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sys
import tempfile
import threading
import warnings

import joblib
import torch

try:  # POSIX only; without it "auto" keeps using the first GPU in every process
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

logger = logging.getLogger("sk_imbalance")

# ----------------------------------------------------------------------------------
# Thread budget
# ----------------------------------------------------------------------------------
_active: dict[int, int] = {}  # thread ident -> nesting depth (each thread edits its own key)
_local = threading.local()  # .ceiling: T of this thread's outermost section
_cpu_count_cache: tuple[int, int] | None = None  # (pid, count)


def _cpu_count():
    """Cores usable by this process (joblib: affinity and cgroup quota), cached per pid."""
    global _cpu_count_cache
    pid = os.getpid()
    if _cpu_count_cache is None or _cpu_count_cache[0] != pid:
        _cpu_count_cache = (pid, max(1, int(joblib.cpu_count())))
    return _cpu_count_cache[1]


def _dask_worker_nthreads():
    """``nthreads`` of the Dask worker running the current task, else None."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return int(distributed.get_worker().state.nthreads)
    except (ValueError, AttributeError):
        return None


def _enabled():
    return os.environ.get("SK_IMBALANCE_THREAD_CAP", "1").strip().lower() not in _OFF


_OFF = ("0", "off", "false", "no")


def thread_budget(dask_nthreads=None):
    """``max(1, C // k)``: the threads one task of this process may use.

    ``dask_nthreads`` is the Dask worker's ``nthreads`` (looked up when None).
    """
    if dask_nthreads is None:
        dask_nthreads = _dask_worker_nthreads() or 1
    k = max(len(_active), dask_nthreads, 1)
    return max(1, _cpu_count() // k)


def _apply(ceiling):
    # The Dask worker (if any) cannot change during a section: looked up once at its
    # start, not at every batch.
    n = min(ceiling, thread_budget(_local.dask_nthreads))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


class limit_torch_threads:
    """Context manager: torch's intra-op threads at ``min(T, max(1, C // k))`` inside.

    See the module docstring for ``T``, ``C`` and ``k``. Re-entrant; the previous
    count of the calling thread is restored on exit, also after an exception.
    """

    __slots__ = ("ident", "depth", "previous")

    def __enter__(self):
        self.depth = None
        if not _enabled():
            return self
        self.ident = ident = threading.get_ident()
        self.previous = previous = torch.get_num_threads()
        self.depth = depth = _active.get(ident, 0)
        _active[ident] = depth + 1
        if depth == 0:
            _local.ceiling = previous
            _local.dask_nthreads = _dask_worker_nthreads() or 1
        try:
            _apply(min(previous, _local.ceiling))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info):
        if self.depth is None:
            return
        if self.depth == 0:
            del _active[self.ident]
        else:
            _active[self.ident] = self.depth
        if torch.get_num_threads() != self.previous:
            torch.set_num_threads(self.previous)


def rebalance_torch_threads():
    """Re-apply the budget inside a running section (called at every batch)."""
    if threading.get_ident() in _active:
        _apply(_local.ceiling)


# ----------------------------------------------------------------------------------
# GPU per worker process
# ----------------------------------------------------------------------------------
def in_worker_process():
    """True in a child process of multiprocessing/loky/a Dask nanny, or in a Dask task."""
    if multiprocessing.parent_process() is not None:
        return True
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            distributed.get_worker()
            return True
        except ValueError:
            pass
    return False


def _gpu_keys(n_gpus):
    """A name per visible GPU: its ``CUDA_VISIBLE_DEVICES`` entry, else its index."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    entries = [e.strip() for e in visible.split(",")] if visible else []
    keys = [entries[i] if i < len(entries) and entries[i] else str(i) for i in range(n_gpus)]
    return [re.sub(r"[^A-Za-z0-9_.-]", "_", key) for key in keys]


def _default_lock_dir():
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return os.path.join(tempfile.gettempdir(), f"sk_imbalance-gpu-claims-{user}")


class GpuClaim:
    """One process's claim on a GPU, held through an exclusive ``flock``.

    ``claim(n_gpus)`` returns the index of the first of the ``n_gpus`` visible GPUs
    that no other claim holds (keeping the claim until :meth:`release` or the end of
    the process) or ``None`` when all are held. Claims conflict between processes
    and between two ``GpuClaim`` objects of one process (each opens its own lock
    file descriptions), which is what the tests use.
    """

    def __init__(self, lock_dir=None):
        self.lock_dir = lock_dir
        self.pid = self.index = self.fd = None

    def claim(self, n_gpus, keys=None):
        if self.pid != os.getpid():  # a forked child does not inherit the claim
            self.pid, self.index, self.fd = os.getpid(), None, None
        if self.index is not None and self.index < n_gpus:
            return self.index
        self.release()
        if fcntl is None:  # pragma: no cover - no flock: no coordination possible
            return 0 if n_gpus > 0 else None
        keys = _gpu_keys(n_gpus) if keys is None else list(keys)
        lock_dir = self.lock_dir or _default_lock_dir()
        os.makedirs(lock_dir, exist_ok=True)
        for index, key in enumerate(keys[:n_gpus]):
            fd = os.open(os.path.join(lock_dir, f"gpu-{key}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.index, self.fd = index, fd
            return index
        return None

    def release(self):
        if self.fd is not None and self.pid == os.getpid():
            os.close(self.fd)  # closing the descriptor drops the lock
        self.index = self.fd = None


_PROCESS_CLAIM = GpuClaim()
_warned_pid = None


def worker_cuda_device():
    """The device ``"auto"`` means in a worker process: a claimed GPU, else ``"cpu"``."""
    global _warned_pid
    n_gpus = torch.cuda.device_count()
    index = _PROCESS_CLAIM.claim(n_gpus)
    if index is not None:
        return f"cuda:{index}"
    reason = (
        f"device='auto' in worker process {os.getpid()}: all {n_gpus} visible GPU(s) "
        "are claimed by other worker processes, so this one trains on the CPU. Run as "
        "many workers as GPUs, or pass device='cuda' to share a GPU on purpose."
    )
    logger.debug(reason)
    if _warned_pid != os.getpid():
        _warned_pid = os.getpid()
        warnings.warn(reason, RuntimeWarning, stacklevel=3)
    return "cpu"
