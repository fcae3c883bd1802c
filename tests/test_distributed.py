"""Parallel and distributed search: Dask cluster, torch thread budget, GPU per worker."""

import os
import subprocess
import sys
import textwrap
import threading
import warnings

import distributed
import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sk_imbalance import LogitAdjustedClassifier, _parallel
from sk_imbalance._engine import resolve_device
from sk_imbalance.datasets import make_long_tailed


class ThreadProbe(torch.nn.Module):
    """A one-hidden-layer MLP that records torch's thread count while it trains."""

    def __init__(self, n_features, n_outputs):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_features, 16), torch.nn.ReLU(), torch.nn.Linear(16, n_outputs)
        )
        self.pid = os.getpid()
        self.max_threads = 0

    def forward(self, X):
        if self.training:
            self.pid = os.getpid()
            self.max_threads = max(self.max_threads, torch.get_num_threads())
        return self.layers(X)


def _threads(est, X, y):
    return est.module_.max_threads


def _pid(est, X, y):
    return est.module_.pid


SCORING = {"score": "balanced_accuracy", "threads": _threads, "pid": _pid}
GRID = {"tau": [0.5, 1.5], "adjustment": ["loss", "post_hoc"]}
N_SPLITS = 3


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(900, 10, n_informative=6, n_classes=3, class_sep=0.8, random_state=0)
    return make_long_tailed(X, y, imbalance_ratio=10, random_state=0)


def _search(**kwargs):
    est = LogitAdjustedClassifier(
        module=ThreadProbe, n_members=1, max_iter=15, learning_rate_init=1e-2, random_state=0
    )
    cv = StratifiedKFold(N_SPLITS, shuffle=True, random_state=0)
    return GridSearchCV(est, GRID, scoring=SCORING, refit="score", cv=cv, **kwargs)


def _recorded(search, name):
    res = search.cv_results_
    return np.concatenate([res[f"split{i}_test_{name}"] for i in range(N_SPLITS)])


@pytest.fixture(scope="module")
def local_search(data):
    return _search(n_jobs=1).fit(*data)


@pytest.fixture(scope="module")
def dask_search(data):
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    try:
        with distributed.Client(cluster) as client:
            client.wait_for_workers(2, timeout=120)
            with joblib.parallel_backend("dask"):
                search = _search().fit(*data)
    finally:
        cluster.close()
    return search


def _assert_thread_rule(search, n_concurrent):
    """Each fit ran on at most max(1, cores // n_concurrent) threads, in <= n_concurrent pids."""
    cores = joblib.cpu_count()
    threads = _recorded(search, "threads")
    pids = set(_recorded(search, "pid").astype(int))
    assert len(pids) <= n_concurrent
    assert os.getpid() not in pids  # the fits ran in the workers
    assert 1 <= threads.max() <= max(1, cores // n_concurrent)
    if cores >= n_concurrent:
        assert threads.max() * n_concurrent <= cores


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_dask_search_matches_local_search(local_search, dask_search):
    assert dask_search.best_params_ == local_search.best_params_
    assert dask_search.cv_results_["params"] == local_search.cv_results_["params"]
    np.testing.assert_allclose(
        dask_search.cv_results_["mean_test_score"],
        local_search.cv_results_["mean_test_score"],
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_dask_workers_do_not_oversubscribe(dask_search):
    _assert_thread_rule(dask_search, n_concurrent=2)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_loky_search_threads_per_worker(data, local_search):
    search = _search(n_jobs=2).fit(*data)
    _assert_thread_rule(search, n_concurrent=2)
    assert search.best_params_ == local_search.best_params_


# ----------------------------------------------------------------------------------
# The thread budget itself
# ----------------------------------------------------------------------------------
@pytest.fixture
def two_threads():
    """Torch on 2 threads for the test (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_budget_caps_training_and_restores(monkeypatch, data, two_threads):
    monkeypatch.setattr(_parallel, "_cpu_count", lambda: 1)
    X, y = data
    clf = LogitAdjustedClassifier(module=ThreadProbe, n_members=1, max_iter=3, random_state=0).fit(
        X, y
    )
    assert clf.module_.max_threads == 1
    assert torch.get_num_threads() == 2


def test_budget_restores_after_an_error(monkeypatch, data, two_threads):
    monkeypatch.setattr(_parallel, "_cpu_count", lambda: 1)
    seen = []

    class Failing(ThreadProbe):
        def forward(self, X):
            seen.append(torch.get_num_threads())
            raise RuntimeError("boom")

    X, y = data
    with pytest.raises(RuntimeError, match="boom"):
        LogitAdjustedClassifier(module=Failing, max_iter=3, random_state=0).fit(X, y)
    assert seen == [1]
    assert torch.get_num_threads() == 2


def test_budget_never_raises_the_user_setting(monkeypatch):
    monkeypatch.setattr(_parallel, "_cpu_count", lambda: 64)
    before = torch.get_num_threads()
    with _parallel.limit_torch_threads():
        assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before


def test_budget_can_be_turned_off(monkeypatch, two_threads):
    monkeypatch.setattr(_parallel, "_cpu_count", lambda: 1)
    monkeypatch.setenv("SK_IMBALANCE_THREAD_CAP", "0")
    with _parallel.limit_torch_threads():
        assert torch.get_num_threads() == 2


@pytest.fixture
def restore_default_threads():
    """Threads started by a test change the count that new threads start with: reset it."""
    yield
    torch.set_num_threads(torch.get_num_threads())


def test_budget_is_split_between_concurrent_threads(monkeypatch, restore_default_threads):
    """Two threads inside fits at once (joblib's threading backend) share the cores."""
    monkeypatch.setattr(_parallel, "_cpu_count", lambda: 4)
    barrier = threading.Barrier(2)
    seen = {}

    def task(name):
        torch.set_num_threads(4)  # the user's setting in this thread
        with _parallel.limit_torch_threads():
            alone_or_not = torch.get_num_threads()
            barrier.wait()  # both are inside now
            _parallel.rebalance_torch_threads()
            seen[name] = (alone_or_not, torch.get_num_threads())
            barrier.wait()
        seen[name] += (torch.get_num_threads(),)

    workers = [threading.Thread(target=task, args=(n,)) for n in "ab"]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for first, shared, after in seen.values():
        assert first in (2, 4)
        assert shared == 2  # 4 cores // 2 concurrent fits
        assert after == 4  # the thread's own setting is back


def test_budget_in_a_dask_worker_splits_its_threads(monkeypatch):
    monkeypatch.setattr(_parallel, "_cpu_count", lambda: 8)
    monkeypatch.setattr(_parallel, "_dask_worker_nthreads", lambda: 4)
    assert _parallel.thread_budget() == 2


# ----------------------------------------------------------------------------------
# GPU per worker
# ----------------------------------------------------------------------------------
def test_gpu_claims_are_exclusive(tmp_path):
    first, second, third = (_parallel.GpuClaim(tmp_path) for _ in range(3))
    assert first.claim(2) == 0
    assert first.claim(2) == 0  # kept for the process's lifetime
    assert second.claim(2) == 1
    assert third.claim(2) is None  # every GPU is claimed
    first.release()
    assert third.claim(2) == 0
    for claim in (second, third):
        claim.release()


def test_gpu_claims_follow_cuda_visible_devices(tmp_path, monkeypatch):
    """Workers pinned to different GPUs (dask-cuda) each get their first visible GPU."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    a = _parallel.GpuClaim(tmp_path)
    assert a.claim(2) == 0  # physical GPU 0
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
    b = _parallel.GpuClaim(tmp_path)
    assert b.claim(2) == 0  # its index 0 is physical GPU 1: no conflict
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    c = _parallel.GpuClaim(tmp_path)
    assert c.claim(2) is None  # both physical GPUs are taken
    b.release()
    assert c.claim(2) == 1  # physical GPU 1 is free again
    a.release()
    c.release()


_CLAIM_IN_CHILD = textwrap.dedent(
    """
    import sys
    from sk_imbalance._parallel import GpuClaim
    print(GpuClaim(sys.argv[1]).claim(1), GpuClaim(sys.argv[2]).claim(1))
    """
)


@pytest.mark.timeout(240)
def test_gpu_claim_between_processes(tmp_path):
    """One GPU, two processes: the second gets None (the CPU); a claim ends with its process."""
    held, free = tmp_path / "held", tmp_path / "free"
    here = _parallel.GpuClaim(held)
    assert here.claim(1) == 0
    out = subprocess.run(
        [sys.executable, "-c", _CLAIM_IN_CHILD, str(held), str(free)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
        check=True,
        timeout=120,
    )
    assert out.stdout.split() == ["None", "0"]
    after = _parallel.GpuClaim(free)
    assert after.claim(1) == 0  # released when the child exited
    here.release()
    after.release()


@pytest.fixture
def fake_gpu(monkeypatch, tmp_path):
    """One fake GPU, a worker process, and the GPU held by another worker."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr("sk_imbalance._engine.in_worker_process", lambda: True)
    monkeypatch.setattr(_parallel, "_PROCESS_CLAIM", _parallel.GpuClaim(tmp_path))
    monkeypatch.setattr(_parallel, "_warned_pid", None)
    other_worker = _parallel.GpuClaim(tmp_path)
    yield other_worker
    other_worker.release()


def test_auto_device_in_a_worker_claims_a_free_gpu(fake_gpu):
    assert resolve_device("auto") == "cuda:0"
    assert fake_gpu.claim(1) is None  # the other worker finds it taken


def test_auto_device_falls_back_to_cpu_when_all_gpus_are_claimed(fake_gpu):
    assert fake_gpu.claim(1) == 0
    with pytest.warns(RuntimeWarning, match="claimed by other worker processes"):
        assert resolve_device("auto") == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per process
        assert resolve_device("auto") == "cpu"


def test_explicit_cuda_shares_a_gpu_on_purpose(fake_gpu):
    assert fake_gpu.claim(1) == 0
    assert resolve_device("cuda") == "cuda"
    assert resolve_device("cuda:0") == "cuda:0"


def test_auto_device_in_the_main_process_is_unchanged(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr("sk_imbalance._engine.in_worker_process", lambda: False)
    assert resolve_device("auto") == "cuda"


def _device_index(est, X, y):
    return -1 if est.device_ == "cpu" else torch.device(est.device_).index


@pytest.mark.cuda
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_loky_workers_do_not_share_a_gpu(data):
    """One more worker than GPUs: each GPU has one worker process, the extra one the CPU."""
    n_gpus = torch.cuda.device_count()
    est = LogitAdjustedClassifier(module=ThreadProbe, n_members=1, max_iter=5, random_state=0)
    n_splits = 2 * (n_gpus + 1)
    search = GridSearchCV(
        est,
        {"tau": [0.5, 1.0]},
        scoring={"score": "balanced_accuracy", "device": _device_index, "pid": _pid},
        refit="score",
        cv=StratifiedKFold(n_splits, shuffle=True, random_state=0),
        n_jobs=n_gpus + 1,
    ).fit(*data)
    res = search.cv_results_
    pairs = {
        (int(res[f"split{i}_test_device"][j]), int(res[f"split{i}_test_pid"][j]))
        for i in range(n_splits)
        for j in range(2)
    }
    for index in range(n_gpus):
        assert len({pid for dev, pid in pairs if dev == index}) <= 1
    assert {dev for dev, _ in pairs} <= set(range(-1, n_gpus))
