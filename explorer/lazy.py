"""Package attributes imported on first use (PEP 562): a package names its public API and the
module each name lives in, and a name's module is imported only when the name is first read —
so the app's first page does not pay for scipy's optimisers or figure builders it never uses."""

from __future__ import annotations

import importlib


def lazy_attributes(package: str, where: dict[str, str], namespace: dict):
    """``(__getattr__, __dir__)`` for ``package``: ``where`` maps each public name to its module
    (relative to the package); a name read is imported and kept in ``namespace``."""

    def __getattr__(name: str):
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
