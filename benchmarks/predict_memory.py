"""Peak memory of ``predict_proba`` on 5,000,000 x 50 rows: chunked, against one forward.

A small float32 ``LogitAdjustedClassifier`` (50 features, 10 classes, one hidden layer
of 100 units) predicts on 5,000,000 rows given as float32 and as float64. Each
measurement runs alone in a fresh process: the input is built first (block by block,
so that building it leaves no larger peak behind), then the extra resident memory of
one call over that baseline is measured, both by sampling (``PeakRSS`` of
``throughput.py``) and, where Linux allows resetting it, by the kernel's high-water
mark (``VmHWM``). The reference is what the prediction would cost without chunking:
one ``no_grad`` forward of the whole array, then the softmax.

    python benchmarks/predict_memory.py                 # 5,000,000 rows, 1 thread
    python benchmarks/predict_memory.py --rows 500000   # a quicker run
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from throughput import PeakRSS  # noqa: E402

warnings.filterwarnings("ignore")

D, K, HIDDEN = 50, 10, (100,)
MODES = {
    "predict_proba (chunked)": "chunked",
    "one forward of all rows (unchunked)": "unchunked",
}


def _status_kib(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _reset_hwm():
    """Reset the kernel's peak-RSS counter (``VmHWM``); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def make_X(n, dtype, seed=1):
    """``n`` x ``D`` rows around the training class centres, built in blocks."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).standard_normal((K, D)) * 0.7
    X = np.empty((n, D), dtype=dtype)
    for start in range(0, n, 100_000):
        block = X[start : start + 100_000]
        labels = rng.integers(0, K, block.shape[0])
        block[:] = centres[labels] + rng.standard_normal(block.shape)
    return X


def fitted_classifier():
    from sk_imbalance import LogitAdjustedClassifier

    X = make_X(20_000, np.float32, seed=0)
    centres = np.random.default_rng(0).standard_normal((K, D)) * 0.7
    y = np.argmin(((X[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    clf = LogitAdjustedClassifier(
        hidden_layer_sizes=HIDDEN, max_iter=3, batch_size=1024, dtype="float32", random_state=0
    )
    return clf.fit(X, y)


def probe(args):
    """One measurement in this (fresh) process; prints 'sampled_mib hwm_mib'."""
    torch.set_num_threads(args.threads)
    clf = fitted_classifier()
    X = make_X(args.rows, np.dtype(args.dtype))
    module = clf.module_

    def unchunked():
        with torch.inference_mode():
            logits = module(torch.as_tensor(X).to(torch.float32))
            return torch.softmax(logits, dim=1).numpy()

    fn = (lambda: clf.predict_proba(X)) if args.probe == "chunked" else unchunked
    clf.predict_proba(X[:1000])  # warm up (kernels, allocator)
    hwm_ok = _reset_hwm()
    base_kib = _status_kib("VmRSS")
    with PeakRSS() as mem:
        out = fn()
    hwm = (_status_kib("VmHWM") - base_kib) / 1024 if hwm_ok else float("nan")
    assert out.shape == (args.rows, K) and np.isfinite(out).all()
    print(f"{mem.extra:.1f} {hwm:.1f} {out.nbytes / 2**20:.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--probe", choices=sorted(set(MODES.values())), help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        return probe(args)

    n = args.rows
    print(
        f"predict_proba of a float32 LogitAdjustedClassifier ({D}-{HIDDEN[0]}-{K}) on "
        f"{n:,} x {D} rows; extra peak resident memory of one call, each in a fresh "
        f"process ({args.threads} torch thread(s))\n"
    )
    print("| input | implementation | input MiB | output MiB | extra peak MiB (sampled) | extra peak MiB (VmHWM) | extra beyond the output |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for dtype in args.dtypes:
        x_mib = n * D * np.dtype(dtype).itemsize / 2**20
        for label, mode in MODES.items():
            cmd = [sys.executable, __file__, "--probe", mode, "--dtype", dtype]
            cmd += ["--rows", str(n), "--threads", str(args.threads)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            sampled, hwm, out_mib = map(float, done.stdout.split()[-3:])
            peak = np.nanmax([sampled, hwm])
            print(
                f"| {dtype} | {label} | {x_mib:.0f} | {out_mib:.0f} | {sampled:.0f} | "
                f"{hwm:.0f} | {peak - out_mib:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
