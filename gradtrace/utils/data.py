"""torch.utils.data's names (DataLoader, TensorDataset, random_split...): gradtrace trains on
whole tensors and batches by slicing, so each of these raises NotInGradtrace with the slicing
that does the same work, at the line that first uses it. They exist as names, so that
`from gradtrace.utils.data import DataLoader` imports (Python turns a missing name into a bare
ImportError that could not say this).

May import: gradtrace.core.
"""

from __future__ import annotations

from ..core.i18n import _
from ..core.tensor.errors import NotInGradtrace

# the names course code imports from torch.utils.data
NAMES = ("DataLoader", "Dataset", "IterableDataset", "TensorDataset", "Subset",
         "ConcatDataset", "random_split", "Sampler", "RandomSampler", "SequentialSampler",
         "BatchSampler", "WeightedRandomSampler", "default_collate", "get_worker_info")


def _refusal(name: str) -> NotInGradtrace:
    return NotInGradtrace(_("gradtrace has no torch.utils.data ({name}): batch by slicing "
                            "instead, shuffled each epoch: order = gradtrace.randperm(len(X)); "
                            "then for each start in range(0, len(X), 64): batch = "
                            "order[start:start + 64]; xb, yb = X[batch], y[batch]",
                            name=name))


def _not_offered(name: str) -> type:
    """A class (a subclass of it too) that raises the refusal when made or called."""

    def __init__(self, *args, **kwargs):
        raise _refusal(name)

    return type(name, (), {"__init__": __init__, "__module__": __name__,
                           "__doc__": f"torch.utils.data.{name}: not in gradtrace (it raises)."})


globals().update({name: _not_offered(name) for name in NAMES})
__all__ = list(NAMES)


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)  # copy, pickle and help look for these
    raise _refusal(name)
