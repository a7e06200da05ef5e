"""The core engine: ops as data, the graph, forward values, backprop, forward mode, the trace
and Tensor.

Holds `Op` and the registry every op is declared in (the op tables themselves live in
`gradtrace.ops`, which fills the registry), the computation graph (`graph`), the backward pass
(`backprop`), forward mode (`forward_mode`), the trace with its step records (`trace`,
`steps`), PyTorch-style tensors (`tensor`) and the error types (`errors`).

May import: nothing else from gradtrace. The layers above plug in through `plugins` (the op
tables, the renderers behind `Trace.to_text` and friends); the engine never imports them.
"""
