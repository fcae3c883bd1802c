"""Training and prediction speed against a hand-written PyTorch loop.

Reproduces, in one run, the throughput table of the speed issue: 200,000 x 64 float32
rows, 10 long-tailed classes, an MLP 64-256-256-10 trained with Adam for 5 epochs, and
training throughput relative to a hand-written loop over tensors with ``randperm`` index
slicing, for

* the hand-written loop (tensor slicing) and the same loop over
  ``DataLoader(TensorDataset)``;
* skorch's ``NeuralNetClassifier`` with its default iterators (shuffled);
* scikit-learn's ``MLPClassifier`` (adam);
* ``LogitAdjustedClassifier`` computing in float32 (and the float64 default on float64
  data), as one network (``n_members=1``, constant learning rate: the
  hand-written loop trains one network; the default ensemble of 8 is a different model).

Implementations are interleaved over repeats and medians are quoted. Then
``predict_proba`` on 1,000,000 rows (time and extra peak memory against a batched
``no_grad`` forward writing into a preallocated array), single-row ``predict`` latency,
and time per epoch at 50k/200k/800k rows (log-log slope).

    python benchmarks/throughput.py                    # CPU, 2 torch threads
    python benchmarks/throughput.py --device cuda      # GPU variant (data on the device)
    python benchmarks/throughput.py --quick            # a smaller smoke run
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import threading
import time
import warnings

import numpy as np
import torch
from torch import nn

warnings.filterwarnings("ignore")

HIDDEN = (256, 256)


# ------------------------------------------------------------------ data and helpers
def make_data(n, d=64, k=10, seed=0, dtype=np.float32):
    rng = np.random.RandomState(seed)
    prior = 0.5 ** np.arange(k) + 0.01
    prior /= prior.sum()
    y = rng.choice(k, size=n, p=prior)
    centers = rng.randn(k, d) * 0.7
    X = (centers[y] + rng.randn(n, d)).astype(dtype)
    return X, y.astype(np.int64)


def mlp(d, k, dtype=torch.float32):
    return nn.Sequential(
        nn.Linear(d, HIDDEN[0]),
        nn.ReLU(),
        nn.Linear(HIDDEN[0], HIDDEN[1]),
        nn.ReLU(),
        nn.Linear(HIDDEN[1], k),
    ).to(dtype)


def sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


class PeakRSS:
    """Extra peak resident memory (MiB) of a block, sampled every millisecond.

    Uses /proc's peak counter when it can be reset, else a sampling thread.
    """

    def __enter__(self):
        gc.collect()
        self.start = self._rss()
        self.peak = self.start
        self._stop = False
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.001)

    @staticmethod
    def _rss():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 2**20

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()
        self.peak = max(self.peak, self._rss())
        self.extra = self.peak - self.start


# ------------------------------------------------------------------ implementations
def train_hand_slicing(X, y, batch, epochs, device):
    torch.manual_seed(0)
    Xt = torch.as_tensor(X, device=device)
    yt = torch.as_tensor(y, device=device)
    model = mlp(X.shape[1], 10).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = len(Xt)
    sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, device=device)
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    sync(device)
    return time.perf_counter() - start, model


def train_hand_dataloader(X, y, batch, epochs, device):
    torch.manual_seed(0)
    ds = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True)
    model = mlp(X.shape[1], 10).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    sync(device)
    return time.perf_counter() - start, None


def train_skorch_default(X, y, batch, epochs, device):
    from skorch import NeuralNetClassifier

    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp(X.shape[1], 10)

        def forward(self, X):
            return self.net(X)

    net = NeuralNetClassifier(
        Net,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=epochs,
        batch_size=batch,
        train_split=None,
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
    )
    start = time.perf_counter()
    net.fit(X, y)
    sync(device)
    return time.perf_counter() - start, net


def train_sklearn_mlp(X, y, batch, epochs, device):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        HIDDEN,
        solver="adam",
        batch_size=batch,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**6,
        shuffle=True,
        random_state=0,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start, clf


def ours(batch, epochs, device, dtype="auto"):
    from sk_imbalance import LogitAdjustedClassifier

    return LogitAdjustedClassifier(
        adjustment="none",
        n_members=1,
        learning_rate_schedule="constant",
        hidden_layer_sizes=HIDDEN,
        learning_rate_init=1e-3,
        weight_decay=0.0,
        batch_size=batch,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**6,
        device=device,
        dtype=dtype,
        random_state=0,
    )


def train_ours(X, y, batch, epochs, device, dtype="auto"):
    clf = ours(batch, epochs, device, dtype)
    start = time.perf_counter()
    clf.fit(X, y)
    sync(device)
    return time.perf_counter() - start, clf


# ------------------------------------------------------------------ the measurements
def training_table(args):
    X, y = make_data(args.rows)
    X64 = X.astype(np.float64)
    device = args.device
    impls = {
        "hand-written loop, tensor slicing": lambda b: train_hand_slicing(
            X, y, b, args.epochs, device
        ),
        "hand-written loop, DataLoader(TensorDataset)": lambda b: train_hand_dataloader(
            X, y, b, args.epochs, device
        ),
        "skorch NeuralNetClassifier, default iterators": lambda b: train_skorch_default(
            X, y, b, args.epochs, device
        ),
        "LogitAdjustedClassifier, float32": lambda b: train_ours(X, y, b, args.epochs, device),
        "LogitAdjustedClassifier, float64 data, dtype='auto'": lambda b: train_ours(
            X64, y, b, args.epochs, device
        ),
    }
    if device == "cpu":
        impls["scikit-learn MLPClassifier (adam)"] = lambda b: train_sklearn_mlp(
            X, y, b, args.epochs, device
        )
    only_small = {
        "hand-written loop, DataLoader(TensorDataset)",
        "scikit-learn MLPClassifier (adam)",
    }
    if device != "cpu":  # float64 on a GPU is not a configuration anyone should use
        impls.pop("LogitAdjustedClassifier, float64 data, dtype='auto'")
    times = {(name, b): [] for name in impls for b in args.batches}
    for rep in range(args.repeats):
        for b in args.batches:
            for name, fn in impls.items():
                if name in only_small and b != args.batches[0]:
                    continue
                seconds, _ = fn(b)
                times[(name, b)].append(seconds)
                print(f"  repeat {rep} batch {b:5d} {name}: {seconds:.2f} s", flush=True)
    ref = {
        b: statistics.median(times[("hand-written loop, tensor slicing", b)]) for b in args.batches
    }
    print(
        f"\nTraining throughput relative to the hand-written slicing loop (median of {args.repeats}; "
        f"{args.rows:,} rows x 64, MLP 64-256-256-10, Adam, {args.epochs} epochs, device {device}, "
        f"{torch.get_num_threads()} threads)\n"
    )
    print("| implementation | " + " | ".join(f"batch {b}" for b in args.batches) + " |")
    print("|---|" + "---|" * len(args.batches))
    for name in impls:
        cells = []
        for b in args.batches:
            t = times[(name, b)]
            cells.append(
                f"{ref[b] / statistics.median(t):.2f} ({statistics.median(t):.2f} s)" if t else ""
            )
        print(f"| {name} | " + " | ".join(cells) + " |")
    return ref


def _predict_setup(args):
    n = args.predict_rows
    X, y = make_data(20_000)
    clf = ours(1024, 1, args.device)
    clf.fit(X, y)
    module = clf.module_
    Xp, _ = make_data(n, seed=1)
    return n, clf, module, Xp


def _predict_fns(args, n, clf, module, Xp):
    device = args.device

    def batched_forward():
        out = np.empty((n, 10), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, n, 8192):
                xb = torch.as_tensor(Xp[i : i + 8192], device=device)
                out[i : i + 8192] = torch.softmax(module(xb), dim=1).cpu().numpy()
        return out

    fns = {
        "batched no_grad forward (preallocated)": batched_forward,
        "LogitAdjustedClassifier.predict_proba": lambda: clf.predict_proba(Xp),
    }
    if device == "cpu":
        from skorch import NeuralNetClassifier

        skn = NeuralNetClassifier(module, criterion=nn.CrossEntropyLoss, device=device).initialize()
        fns["skorch predict_proba (default batch 128)"] = lambda: skn.predict_proba(Xp)
    return fns


def memory_probe(args):
    """Run one implementation once in this (fresh) process; print its extra peak RSS."""
    n, clf, module, Xp = _predict_setup(args)
    fn = _predict_fns(args, n, clf, module, Xp)[args.memory_probe]
    with PeakRSS() as mem:
        fn()
    print(f"{mem.extra:.1f}")


def prediction(args):
    import subprocess
    import sys

    n, clf, module, Xp = _predict_setup(args)
    device = args.device
    fns = _predict_fns(args, n, clf, module, Xp)
    results = {name: ([], []) for name in fns}
    for fn in fns.values():  # warm-up
        fn()
    for _ in range(args.repeats):
        for name, fn in fns.items():
            sync(device)
            start = time.perf_counter()
            out = fn()
            sync(device)
            results[name][0].append(time.perf_counter() - start)
            del out
    for name in fns:  # peak memory: each implementation alone in a fresh process
        cmd = [
            sys.executable,
            __file__,
            "--memory-probe",
            name,
            "--device",
            device,
            "--threads",
            str(args.threads),
            "--predict-rows",
            str(n),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        results[name][1].append(float(out.strip().splitlines()[-1]))
    ref = statistics.median(results["batched no_grad forward (preallocated)"][0])
    print(
        f"\npredict_proba on {n:,} rows x 64 (median of {args.repeats}; extra peak RSS of one call "
        f"in a fresh process; the float64 output alone is {n * 10 * 8 / 2**20:.0f} MiB)\n"
    )
    print("| implementation | seconds | throughput vs batched forward | extra peak MiB |")
    print("|---|---|---|---|")
    for name, (t, m) in results.items():
        med = statistics.median(t)
        print(f"| {name} | {med:.3f} | {ref / med:.2f} | {max(m):.0f} |")

    x1 = Xp[:1]
    x1t = torch.as_tensor(x1, device=device)
    lat = {"hand-written (tensor in, argmax)": [], "LogitAdjustedClassifier.predict": []}
    for _ in range(args.latency_calls):
        start = time.perf_counter()
        with torch.inference_mode():
            int(module(x1t).argmax())
        lat["hand-written (tensor in, argmax)"].append(time.perf_counter() - start)
        start = time.perf_counter()
        clf.predict(x1)
        lat["LogitAdjustedClassifier.predict"].append(time.perf_counter() - start)
    ref = statistics.median(lat["hand-written (tensor in, argmax)"])
    print(f"\nsingle-row predict latency (median of {args.latency_calls} calls)\n")
    print("| implementation | microseconds | x hand-written |")
    print("|---|---|---|")
    for name, t in lat.items():
        print(f"| {name} | {statistics.median(t) * 1e6:.0f} | {statistics.median(t) / ref:.2f} |")


def scaling(args):
    sizes = args.scaling_rows
    per_epoch = []
    for n in sizes:
        X, y = make_data(n)
        ts = []
        for _ in range(args.repeats):
            # 4 epochs minus 1 epoch: the fit's one-off set-up cancels out
            t4, _ = train_ours(X, y, 1024, 4, args.device)
            t1, _ = train_ours(X, y, 1024, 1, args.device)
            ts.append((t4 - t1) / 3)
        per_epoch.append(statistics.median(ts))
        print(f"  {n:>9,d} rows: {per_epoch[-1]:.3f} s per epoch", flush=True)
    slope = np.polyfit(np.log(sizes), np.log(per_epoch), 1)[0]
    print(f"\ntime per epoch (batch 1024, float32) vs rows: log-log slope {slope:.3f} (linear = 1)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--predict-rows", type=int, default=1_000_000)
    parser.add_argument("--latency-calls", type=int, default=300)
    parser.add_argument("--scaling-rows", type=int, nargs="+", default=[50_000, 200_000, 800_000])
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["training", "prediction", "scaling"]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        torch.set_num_threads(args.threads)
        return memory_probe(args)
    if args.quick:
        args.rows, args.repeats, args.predict_rows = 20_000, 1, 100_000
        args.scaling_rows, args.latency_calls = [10_000, 40_000], 50
    torch.set_num_threads(args.threads)
    print(
        f"{platform.platform()}, {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {args.device}"
        + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else "")
    )
    if "training" not in args.skip:
        training_table(args)
    if "prediction" not in args.skip:
        prediction(args)
    if "scaling" not in args.skip:
        scaling(args)


if __name__ == "__main__":
    main()
