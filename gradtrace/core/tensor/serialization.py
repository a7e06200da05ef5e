"""torch.save and torch.load, for files gradtrace writes: d2l's "读写文件" runs as written.

    torch.save(net.state_dict(), "mlp.params")
    clone.load_state_dict(torch.load("mlp.params"))

What is saved: tensors (their numbers, float type, requires_grad and name; a Parameter stays a
Parameter, as in PyTorch, so a whole module saved and loaded holds Parameters), numpy arrays,
numbers, strings and the usual containers (dicts, OrderedDicts, lists, tuples): a state_dict,
an optimizer's state_dict, a checkpoint dict of both. The file is a pickle behind a header
line of its own that holds the pickle's SHA-256: a file changed or cut off after it was written
is refused as damaged, never loaded with other numbers (files from before the checksum, with
the plain header, are still read).

Loading reads only those (weights_only=True, PyTorch's default since 2.6): any other class in
the file stops the load with pickle.UnpicklingError, before it is made, so loading a file runs
no code from it. weights_only=False unpickles anything, as in PyTorch: only for files you
trust.

Deliberately different: the files are gradtrace's own. PyTorch's zip files are refused with
DiffersFromPyTorch (rather than misread), and PyTorch cannot read gradtrace's.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import zipfile

import numpy as np

from ..i18n import _
from .base import Tensor
from .errors import DiffersFromPyTorch, PyTorchError

HEADER = b"gradtrace.save/1\n"  # files from before checksums: still read
CHECKED_HEADER = b"gradtrace.save/2 sha256="  # then the body's SHA-256 in hex and a newline


class _Refused(pickle.UnpicklingError):
    """What a load refuses to make (a class outside the weights-only list, a tensor of text):
    said as it is, never taken for damage."""


# Tensor subclasses a file may hold, by the kind saved with them. nn registers Parameter here
# (this layer may not import nn); a kind not registered stops the load.
SAVED_KINDS: dict[str, type] = {}


def _rebuild_tensor(array, requires_grad: bool, name=None, kind=None) -> Tensor:
    """A saved tensor made anew (files written before names and kinds were saved pass two
    arguments)."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise _Refused(_("a saved tensor holds {dtype} elements, not numbers",
                                       dtype=array.dtype))
    if kind is not None and kind not in SAVED_KINDS:
        raise _Refused(_("a saved tensor is a {kind}, which this gradtrace "
                                       "does not know", kind=repr(kind)))
    made = SAVED_KINDS[kind](array) if kind is not None else Tensor(array)
    made.requires_grad = bool(requires_grad) and array.dtype.kind == "f"
    if name is not None:
        try:
            made.name = name
        except (TypeError, ValueError) as error:
            raise _Refused(str(error)) from None
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
        raise _Refused(_(
            "{pytorch}: the file holds {name}, which gradtrace does not load with "
            "weights_only=True (tensors, arrays, numbers, strings and containers only). Pass "
            "weights_only=False only if you trust where the file came from.",
            pytorch="Weights only load failed", name=f"{module}.{name}"))


def save(obj, f, pickle_module=None, pickle_protocol: int = pickle.DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Write `obj` (a state_dict, a tensor, a dict of them...) to a path or a binary file,
    behind a header holding the SHA-256 of what follows, so that `load` knows a damaged or
    cut-off file for one."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle_protocol).dump(obj)
    body = buffer.getvalue()
    data = CHECKED_HEADER + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        raise PyTorchError(f"Parent directory {folder} does not exist.")
    temporary = f"{path}.partial"
    try:  # written whole, then renamed: never half a file, nor a stray partial one
        with open(temporary, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


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
    if data.startswith(HEADER):  # from before checksums: damage shows as what pickle hits
        try:
            return _unpickle(data[len(HEADER):], weights_only)
        except _Refused:
            raise
        except Exception as error:
            raise pickle.UnpicklingError(_(
                "load: the file could not be read ({error}); it may be damaged or cut off (it "
                "was written by an older gradtrace, without a checksum)",
                error=f"{type(error).__name__}: {error}")) from None
    return _unpickle(_checked_body(data), weights_only)


def _unpickle(body: bytes, weights_only: bool | None):
    stream = io.BytesIO(body)
    if weights_only is False:
        return pickle.load(stream)
    return _WeightsOnly(stream).load()


def _checked_body(data: bytes) -> bytes:
    """What follows the header, once its checksum is found to match."""
    if data.startswith(CHECKED_HEADER):
        line, newline, body = data[len(CHECKED_HEADER):].partition(b"\n")
        if newline and line == hashlib.sha256(body).hexdigest().encode():
            return body
        raise pickle.UnpicklingError(_("load: the file is damaged or cut off: its contents do "
                                       "not match the checksum gradtrace.save wrote with them; "
                                       "save it again"))
    if data.startswith(b"gradtrace.save/"):
        raise pickle.UnpicklingError(_("load: the file is damaged, or written by a newer "
                                       "gradtrace: its first line is not one this version "
                                       "reads"))
    raise pickle.UnpicklingError(_("load: not a file written by gradtrace.save"))
