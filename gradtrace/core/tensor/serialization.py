"""torch.save and torch.load, for files gradtrace writes: d2l's "读写文件" runs as written.

    torch.save(net.state_dict(), "mlp.params")
    clone.load_state_dict(torch.load("mlp.params"))

What is saved: tensors (their numbers, float type, requires_grad and name; a Parameter stays a
Parameter, as in PyTorch, so a whole module saved and loaded holds Parameters), numpy arrays,
numbers, strings and the usual containers (dicts, OrderedDicts, lists, tuples): a state_dict,
an optimizer's state_dict, a checkpoint dict of both. The file is a pickle behind a header line of its own.

Loading reads only those (weights_only=True, PyTorch's default since 2.6): any other class in
the file stops the load with pickle.UnpicklingError, before it is made, so loading a file runs
no code from it. weights_only=False unpickles anything, as in PyTorch: only for files you
trust.

Deliberately different: the files are gradtrace's own. PyTorch's zip files are refused with
DiffersFromPyTorch (rather than misread), and PyTorch cannot read gradtrace's.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np

from ..i18n import _
from .base import Tensor
from .errors import DiffersFromPyTorch

HEADER = b"gradtrace.save/1\n"


# Tensor subclasses a file may hold, by the kind saved with them. nn registers Parameter here
# (this layer may not import nn); a kind not registered stops the load.
SAVED_KINDS: dict[str, type] = {}


def _rebuild_tensor(array, requires_grad: bool, name=None, kind=None) -> Tensor:
    """A saved tensor made anew (files written before names and kinds were saved pass two
    arguments)."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise pickle.UnpicklingError(_("a saved tensor holds {dtype} elements, not numbers",
                                       dtype=array.dtype))
    if kind is not None and kind not in SAVED_KINDS:
        raise pickle.UnpicklingError(_("a saved tensor is a {kind}, which this gradtrace "
                                       "does not know", kind=repr(kind)))
    made = SAVED_KINDS[kind](array) if kind is not None else Tensor(array)
    made.requires_grad = bool(requires_grad) and array.dtype.kind == "f"
    if name is not None:
        try:
            made.name = name
        except (TypeError, ValueError) as error:
            raise pickle.UnpicklingError(str(error)) from None
    return made


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Tensor):  # the numbers only: never the graph or the trace
            kind = next((kind for kind, cls in SAVED_KINDS.items() if type(obj) is cls), None)
            return _rebuild_tensor, (np.array(obj._value), bool(obj.requires_grad), obj._name,
                                     kind)
        return NotImplemented


# what a weights-only load may make: (module, name)
_ALLOWED = {
    ("collections", "OrderedDict"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    (__name__, "_rebuild_tensor"),
}
_NUMPY_DTYPES = ("numpy.dtypes",)  # numpy ≥ 1.25 pickles dtypes as numpy.dtypes.Float64DType


class _WeightsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED or (module in _NUMPY_DTYPES and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(_(
            "{pytorch}: the file holds {name}, which gradtrace does not load with "
            "weights_only=True (tensors, arrays, numbers, strings and containers only). Pass "
            "weights_only=False only if you trust where the file came from.",
            pytorch="Weights only load failed", name=f"{module}.{name}"))


def save(obj, f, pickle_module=None, pickle_protocol: int = pickle.DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Write `obj` (a state_dict, a tensor, a dict of them...) to a path or a binary file."""
    buffer = io.BytesIO()
    buffer.write(HEADER)
    _Pickler(buffer, protocol=pickle_protocol).dump(obj)
    data = buffer.getvalue()
    if hasattr(f, "write"):
        f.write(data)
        return
    temporary = f"{os.fspath(f)}.partial"
    with open(temporary, "wb") as out:  # written whole, then renamed: never half a file
        out.write(data)
    os.replace(temporary, f)


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap=None, **pickle_load_args):
    """Read what `save` wrote, from a path or a binary file (on the CPU, whatever
    map_location says, as long as it names the CPU)."""
    if map_location is not None and not callable(map_location) and not isinstance(
            map_location, dict):
        from .methods import _check_device

        _check_device(map_location)
    if hasattr(f, "read"):
        data = f.read()
    else:
        with open(f, "rb") as stream:
            data = stream.read()
    if zipfile.is_zipfile(io.BytesIO(data)):
        raise DiffersFromPyTorch(_("load: this file was written by PyTorch's torch.save (a "
                                   "zip archive); gradtrace reads the files gradtrace.save "
                                   "writes. Load it with PyTorch and pass the numbers on "
                                   "(gradtrace.tensor(t.numpy())) instead"))
    if not data.startswith(HEADER):
        raise pickle.UnpicklingError(_("load: not a file written by gradtrace.save"))
    stream = io.BytesIO(data[len(HEADER):])
    if weights_only is False:
        return pickle.load(stream)
    return _WeightsOnly(stream).load()
