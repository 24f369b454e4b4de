"""gengo: fast, deterministic synthetic relational datasets."""

from gengo._version import __version__
from gengo.errors import GengoError

__all__ = ["GengoError", "Summary", "__version__", "generate", "plan", "run"]
_API = ("Summary", "generate", "plan", "run")


def __getattr__(name: str):
    # The library API loads NumPy, Arrow and polars: only when first used, so that the
    # command line can start its worker processes before paying for those imports.
    if name in _API:
        from gengo import api

        return getattr(api, name)
    raise AttributeError(f"module 'gengo' has no attribute {name!r}")
