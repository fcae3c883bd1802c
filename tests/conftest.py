import os

import pytest
import torch

# One torch thread keeps the check battery fast on small CI machines (see README).
torch.set_num_threads(int(os.environ.get("SK_IMBALANCE_TEST_THREADS", "1")))


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; none is available on this machine")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
