"""``python -m sk_imbalance.benchmark``."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m sk_imbalance.benchmark"))
