#!/bin/bash
# Run harness configurations from a file (one "NAME key=val ..." per line) on P (default 2) workers.
# Usage: research/encoder/queue.sh FILE [LOG] [P]
set -u
FILE=$1; LOG=${2:-/tmp/enc/queue.log}; P=${3:-2}
. /work/venv-encoder/bin/activate
export PYTHONPATH=/work/wt-encoder
cd /work/wt-encoder
grep -v '^\s*#' "$FILE" | grep -v '^\s*$' | xargs -P $P -L 1 python -W ignore research/encoder/harness.py 2>&1 | grep --line-buffered -v -i "warn\|__import__" >> "$LOG"
