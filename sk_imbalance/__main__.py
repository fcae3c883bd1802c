"""The ``sk-imbalance`` command: ``sk-imbalance benchmark [options]``."""

from __future__ import annotations

import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    commands = {"benchmark": "compare the estimators with resampling and class weights"}
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: sk-imbalance COMMAND [options]\n\ncommands:")
        for name, text in commands.items():
            print(f"  {name:<12s}{text}")
        print("\nRun 'sk-imbalance COMMAND --help' for a command's options.")
        return 0 if argv else 2
    if argv[0] != "benchmark":
        print(
            f"sk-imbalance: error: unknown command {argv[0]!r}; try 'sk-imbalance --help'",
            file=sys.stderr,
        )
        return 2
    from .benchmark._cli import main as benchmark_main

    return benchmark_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
