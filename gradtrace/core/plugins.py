"""Where the layers above the engine plug in, without the engine importing them.

Two things are filled from above: the op registry (by `gradtrace.ops`) and the renderers behind
`Trace.to_text`, `to_markdown`, `to_json`, `to_dot`, `to_svg` and Jupyter's display (by
`gradtrace.render`). The package root (`gradtrace/__init__.py`), which sits above every layer,
says here how to load each one; the engine calls `load(kind)` when it first needs it.
Nothing here imports numpy, so the root can set this up on every `import gradtrace`.
"""

from __future__ import annotations

# (no typing import: this module loads with every `import gradtrace`, so it stays tiny)
_loaders: dict = {}  # kind → a function of no arguments that loads it
_loaded: set[str] = set()
renderers: dict = {}  # "text", "markdown", "json", "dot", "svg", "html" → its function


def on_demand(kind: str, loader) -> None:
    """Call `loader` (once) the first time `kind` is needed."""
    _loaders[kind] = loader


def load(kind: str) -> None:
    """Run the loader of `kind` unless it ran already; a kind with no loader is left as it is."""
    if kind in _loaded or kind not in _loaders:
        return
    _loaded.add(kind)
    _loaders[kind]()


def renderer(kind: str):
    """The renderer registered for `kind` ("text", "svg", ...), loading the renderers first."""
    if kind not in renderers:
        load("render")
    if kind not in renderers:
        raise LookupError(f"no renderer for {kind!r}: import gradtrace.render to install them")
    return renderers[kind]
