"""Small SymPy helpers the layer tables share: applying a rule to every element of an object
array, and a float written into SymPy exactly as numpy holds it."""

from __future__ import annotations

import numpy as np


def on_each(sp_rule):
    """An elementwise SymPy rule applied to every element of an object array."""
    return lambda *arrays: np.frompyfunc(sp_rule, len(arrays), 1)(*arrays)


def exact_float(sp, value):
    return sp.Float(float(value), 30)  # the exact binary value numpy computes with
