#!/usr/bin/env bash
# The GPU check: on a machine with a CUDA GPU, install what the package needs, run the
# tests marked `cuda` and `benchmarks/throughput.py --device cuda`, and write every
# figure to one file. About 4-6 minutes on one H100/H200.
#
#   benchmarks/gpu_check.sh [OUTPUT_FILE]        # default: gpu_check.txt
#
# PyTorch with CUDA must already be installed (the GPU image's python3 has it): this
# script never installs torch, so that pip cannot replace a CUDA build with another.
# With network access the rest comes from PyPI; offline, put the wheels of skorch,
# imbalanced-learn, hypothesis and pytest-timeout (and anything else missing) in a
# folder and pass it as WHEELS=folder. PYTHON selects the interpreter (python3).
set -uo pipefail
cd "$(dirname "$0")/.."
OUTPUT=${1:-gpu_check.txt}
PYTHON=${PYTHON:-python3}
SITE=${SITE:-/tmp/sk_imbalance-gpu-site}
: >"$OUTPUT"
say() { printf '%s\n' "$*" | tee -a "$OUTPUT"; }

say "# sk_imbalance GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$PYTHON" - <<'PY' 2>&1 | tee -a "$OUTPUT"
import platform, torch
print("python", platform.python_version(), "| torch", torch.__version__, "| CUDA", torch.version.cuda)
assert torch.cuda.is_available(), "no CUDA GPU visible: this check needs one"
print("GPU:", torch.cuda.get_device_name(0), f"({torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB)")
PY
[ "${PIPESTATUS[0]}" -eq 0 ] || { say "FAILED: no CUDA GPU"; exit 1; }

# The package and its non-torch dependencies, into a separate folder on PYTHONPATH (the
# image's own site-packages stay untouched).
mkdir -p "$SITE"
if [ -n "${WHEELS:-}" ]; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$WHEELS"/*.whl
else
  "$PYTHON" -m pip install -q --no-compile --target "$SITE" skorch imbalanced-learn hypothesis pytest-timeout tqdm
fi
export PYTHONPATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"
"$PYTHON" -c "import sk_imbalance, skorch, imblearn, sklearn; print('sk_imbalance', sk_imbalance.__version__, '| skorch', skorch.__version__, '| imbalanced-learn', imblearn.__version__, '| scikit-learn', sklearn.__version__)" 2>&1 | tee -a "$OUTPUT"

say ""
say "## tests marked cuda"
PYTHONUNBUFFERED=1 timeout 240 "$PYTHON" -m pytest -m cuda -q -p no:cacheprovider -o addopts="" tests 2>&1 | tail -25 | tee -a "$OUTPUT"
tests=${PIPESTATUS[0]}

say ""
say "## benchmarks/throughput.py --device cuda"
PYTHONUNBUFFERED=1 timeout 300 "$PYTHON" benchmarks/throughput.py --device cuda --repeats 2 \
  --predict-rows 1000000 --latency-calls 200 --scaling-rows 50000 200000 800000 2>&1 | tee -a "$OUTPUT"
bench=${PIPESTATUS[0]}

say ""
say "exit status: tests $tests, throughput $bench"
[ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]
