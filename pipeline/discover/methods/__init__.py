"""The discovery methods, one module each, found here and run in their declared order.

A new method is one module in this package defining `METHOD = Method(field, order, run)`, plus the
`Source` field listing its URLs (declared with `_discovery(...)` in pipeline.models).
"""

from __future__ import annotations

import importlib
import pkgutil

from pipeline.discover.state import Method
from pipeline.models import Source


def _load() -> tuple[Method, ...]:
    methods = [importlib.import_module(f"{__name__}.{info.name}").METHOD for info in pkgutil.iter_modules(__path__)]
    fields = set(Source.discovery_fields())
    covered = {method.field for method in methods}
    if covered != fields:
        raise RuntimeError(f"discovery methods {sorted(covered)} do not match the Source fields {sorted(fields)}")
    return tuple(sorted(methods, key=lambda method: method.order))


METHODS = _load()

__all__ = ["METHODS", "Method"]
