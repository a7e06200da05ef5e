"""Which module (or named block of code) is running: a stack kept per context, so each op the
Python API records can note where it was made, and big graphs are drawn grouped by module.

A scope is plain data: a tuple of (path, kind) pairs, outermost first, such as
(("net", "Sequential"), ("net.0", "Linear")). `path` is the module's dotted name as
`named_modules()` gives it, after the variable the calling code holds the outermost module in
("" when it has none); `kind` is the module's class name, or "" for a block named with
`scope(...)`. Module.__call__ enters and leaves a scope; recording an op reads `current()`.
"""

from __future__ import annotations

from contextvars import ContextVar

# ContextVars, not global lists: threads and asyncio tasks each see their own stack.
_scope: ContextVar[tuple] = ContextVar("gradtrace_scope", default=())
_modules: ContextVar[tuple] = ContextVar("gradtrace_scope_modules", default=())

current = _scope.get  # the scope an op recorded now belongs to: one C call, read per op


def enter(path: str, kind: str, module=None):
    """Open the scope `path` (its `kind`) inside the current one; pass the result to leave().
    `module` is the module whose scope this is, the parent of any module called inside it."""
    tokens = [_scope.set(_scope.get() + ((path, kind),))]
    if module is not None:
        tokens.append(_modules.set(_modules.get() + ((module, path),)))
    return tokens


def leave(tokens) -> None:
    for token in reversed(tokens):
        token.var.reset(token)


def enter_known(scope: tuple, modules: tuple) -> tuple:
    """Open a module's scope made already: the whole scope, and the calling modules with this
    one last ((module, path) pairs); pass the result to leave_known()."""
    return _scope.set(scope), _modules.set(modules)


def leave_known(tokens: tuple) -> None:
    scope_token, modules_token = tokens
    _modules.reset(modules_token)
    _scope.reset(scope_token)


calling_modules = _modules.get  # (module, path) of each module running, outermost first


def inner_path(name: str) -> str:
    """`name` under the current scope's path: "net.attention" inside "net"."""
    stack = _scope.get()
    outer = stack[-1][0] if stack else ""
    return join(outer, name)


def join(outer: str, name: str) -> str:
    return f"{outer}.{name}" if outer and name else (name or outer)


class scope:
    """Group the ops made inside a block under `name`, as a module's are:
    `with scope("attention"): ...`, or `@scope("attention")` on a function."""

    def __init__(self, name: str):
        self.name = str(name)
        self._tokens: list = []

    def __enter__(self):
        self._tokens.append(enter(inner_path(self.name), ""))
        return self

    def __exit__(self, *exc) -> None:
        leave(self._tokens.pop())

    def __call__(self, function):
        name = self.name

        def wrapped(*args, **kwargs):
            with scope(name):
                return function(*args, **kwargs)

        wrapped.__name__, wrapped.__doc__ = function.__name__, function.__doc__
        return wrapped
