"""Torch threads per worker under a parallel search, with and without the thread budget.

Runs one ``GridSearchCV`` (4 candidates x 2 folds of ``LogitAdjustedClassifier``, an
MLP 64-256-256-10 on 20,000 x 64 float32 rows, 10 long-tailed classes, 3 epochs) per
scenario, each in a fresh Python process:

* ``loky``: ``GridSearchCV(n_jobs=2)`` with joblib's default process backend;
* ``threading``: the same under ``joblib.parallel_backend("threading")`` (two fits
  in one process);
* ``dask-2x1``: a ``LocalCluster`` of 2 worker processes x 1 thread,
  ``joblib.parallel_backend("dask")``;
* ``dask-1x2``: 1 worker process x 2 threads;
* ``dask-1x2-noenv``: the same with the nanny's ``OMP_NUM_THREADS=1`` removed
  (``distributed.nanny.pre-spawn-environ``), as one does to let a worker's torch use
  several cores.

Each runs with the budget on and off (``SK_IMBALANCE_THREAD_CAP=0``). For each
process that ran fits it prints the pid, how many fits ran there, the torch intra-op
thread count seen by each training batch (max, and mean over batches and fits), and
the peak number of its
OS threads in state R (running or runnable) sampled every 20 ms from
``/proc/<pid>/task/*/stat``; then the peak and mean of R threads over all processes
of the search (the main process and its descendants) and the share of samples with
more R threads than cores, against the cores
(``os.cpu_count()`` and ``joblib.cpu_count()``). The workers are started and have
imported the package before sampling begins. Linux only (``/proc``).

    python benchmarks/threads_under_search.py
    python benchmarks/threads_under_search.py --scenarios loky threading
    python benchmarks/threads_under_search.py --batch-size 2000   # bigger ops
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import warnings

import numpy as np

SCENARIOS = ["loky", "threading", "dask-2x1", "dask-1x2", "dask-1x2-noenv"]
HIDDEN = 256


def make_data(n=20_000, d=64, k=10, seed=0):
    rng = np.random.RandomState(seed)
    prior = 0.5 ** np.arange(k) + 0.01
    prior /= prior.sum()
    y = rng.choice(k, size=n, p=prior)
    centers = rng.randn(k, d) * 0.7
    return (centers[y] + rng.randn(n, d)).astype(np.float32), y


# --------------------------------------------------------------- sampling /proc
def _children(pid):
    """All descendants of ``pid`` (from /proc/*/stat parent ids)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parent[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                pass
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        frontier += kids
    return out


def _running_threads(pid, skip_tid=None):
    n = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        if skip_tid is not None and int(tid) == skip_tid:
            continue
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        n += state == "R"
    return n


class Sampler(threading.Thread):
    """Counts R threads of this process and its descendants every ``interval`` s."""

    def __init__(self, interval=0.02):
        super().__init__(daemon=True)
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak = {}
        self.totals = []

    def run(self):
        me, my_tid = os.getpid(), threading.get_native_id()
        pids, last_scan = [me], 0.0
        while not self.stop_event.is_set():
            now = time.monotonic()
            if now - last_scan > 0.5:  # new worker processes appear while starting
                pids, last_scan = [me] + _children(me), now
            total = 0
            for pid in pids:
                r = _running_threads(pid, skip_tid=my_tid if pid == me else None)
                self.peak[pid] = max(self.peak.get(pid, 0), r)
                total += r
            self.totals.append(total)
            time.sleep(self.interval)

    def stop(self):
        self.stop_event.set()
        self.join()


# --------------------------------------------------------------- one scenario
def _warm_up(pause):
    import sk_imbalance  # noqa: F401

    time.sleep(pause)


def run_scenario(name, batch_size):
    import joblib
    import torch
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from sk_imbalance import LogitAdjustedClassifier

    class ThreadProbe(torch.nn.Module):
        """MLP 64-256-256-10 recording the pid and torch's thread count in training."""

        def __init__(self, n_features, n_outputs):
            super().__init__()
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(n_features, HIDDEN),
                torch.nn.ReLU(),
                torch.nn.Linear(HIDDEN, HIDDEN),
                torch.nn.ReLU(),
                torch.nn.Linear(HIDDEN, n_outputs),
            )
            self.pid, self.max_threads, self.sum_threads, self.batches = os.getpid(), 0, 0, 0

        def forward(self, X):
            if self.training:
                n = torch.get_num_threads()
                self.pid = os.getpid()
                self.max_threads = max(self.max_threads, n)
                self.sum_threads, self.batches = self.sum_threads + n, self.batches + 1
            return self.layers(X)

    scoring = {
        "score": "balanced_accuracy",
        "threads": lambda est, X, y: est.module_.max_threads,
        "mean_threads": lambda est, X, y: est.module_.sum_threads / est.module_.batches,
        "pid": lambda est, X, y: est.module_.pid,
    }
    X, y = make_data()
    est = LogitAdjustedClassifier(
        module=ThreadProbe,
        max_iter=3,
        batch_size=batch_size,
        dtype="float32",
        random_state=0,
    )
    search = GridSearchCV(
        est,
        {"tau": [0.5, 1.0], "adjustment": ["loss", "post_hoc"]},
        scoring=scoring,
        refit=False,
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        n_jobs=2,
    )

    cluster = client = None
    if name.startswith("dask"):
        import dask
        from distributed import Client, LocalCluster

        if name.endswith("noenv"):
            dask.config.set({"distributed.nanny.pre-spawn-environ": {}})
        n_workers, n_threads = (2, 1) if name.startswith("dask-2x1") else (1, 2)
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=n_threads,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        )
        client = Client(cluster)
        client.wait_for_workers(n_workers)
        backend = joblib.parallel_backend("dask")
    elif name == "threading":
        backend = joblib.parallel_backend("threading", n_jobs=2)
    else:
        backend = joblib.parallel_backend("loky", n_jobs=2)

    # Start the workers and import the package there before measuring.
    if client is not None:
        client.run(_warm_up, 0.0)
    elif name == "loky":
        with backend:
            joblib.Parallel()(joblib.delayed(_warm_up)(0.5) for _ in range(4))

    sampler = Sampler()
    sampler.start()
    t0 = time.perf_counter()
    with backend:
        search.fit(X, y)
    wall = time.perf_counter() - t0
    sampler.stop()
    if client is not None:
        client.close()
        cluster.close()

    res = search.cv_results_
    fits = {}
    for i in range(2):
        for pid, threads, mean in zip(
            res[f"split{i}_test_pid"],
            res[f"split{i}_test_threads"],
            res[f"split{i}_test_mean_threads"],
            strict=True,
        ):
            entry = fits.setdefault(int(pid), {"fits": 0, "max_threads": 0, "mean_threads": []})
            entry["fits"] += 1
            entry["max_threads"] = max(entry["max_threads"], int(threads))
            entry["mean_threads"].append(float(mean))
    for pid, entry in fits.items():
        entry["peak_R"] = sampler.peak.get(pid, 0)
        entry["mean_threads"] = float(np.mean(entry["mean_threads"]))
    totals = np.array(sampler.totals)
    return {
        "scenario": name,
        "cap": os.environ.get("SK_IMBALANCE_THREAD_CAP", "1"),
        "os_cpu_count": os.cpu_count(),
        "joblib_cpu_count": joblib.cpu_count(),
        "main_pid": os.getpid(),
        "main_torch_threads": torch.get_num_threads(),
        "workers": fits,
        "peak_R_total": int(totals.max()),
        "mean_R_total": float(totals.mean()),
        "share_over_cores": float(np.mean(totals > joblib.cpu_count())),
        "wall_s": wall,
        "mean_score": float(np.mean(res["mean_test_score"])),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", nargs="+", default=SCENARIOS, choices=SCENARIOS)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--_run", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args._run:  # a child: one scenario, JSON on the last line
        warnings.filterwarnings("ignore")
        print(json.dumps(run_scenario(args._run, args.batch_size)))
        return

    print(f"os.cpu_count() = {os.cpu_count()}, batch_size = {args.batch_size}")
    for name in args.scenarios:
        for cap in ("1", "0"):
            env = dict(os.environ, SK_IMBALANCE_THREAD_CAP=cap)
            out = subprocess.run(
                [sys.executable, __file__, "--_run", name, "--batch-size", str(args.batch_size)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            label = "on " if cap == "1" else "off"
            print(
                f"\n{name:15s} budget {label}  wall {r['wall_s']:5.1f} s  "
                f"cores: os {r['os_cpu_count']}, joblib {r['joblib_cpu_count']}  "
                f"R threads over all processes: peak {r['peak_R_total']}, "
                f"mean {r['mean_R_total']:.2f}, more than cores in "
                f"{100 * r['share_over_cores']:.0f}% of samples"
            )
            for pid, w in sorted(r["workers"].items()):
                role = "main" if int(pid) == r["main_pid"] else "worker"
                print(
                    f"    pid {pid:>7} ({role:6s})  fits {w['fits']}  "
                    f"torch threads per batch: max {w['max_threads']}, mean "
                    f"{w['mean_threads']:.2f}  peak R threads {w['peak_R']}"
                )


if __name__ == "__main__":
    main()
