"""gengo: fast, deterministic synthetic relational datasets.

``import gengo`` changes nothing in the importing process (no environment variable, no
allocator setting); the library API (``gengo.generate``, ``gengo.plan``, ``gengo.run``, ...) is
loaded on first use, so that the command line can start its worker processes first.
"""

from gengo._version import __version__
from gengo.core.errors import GengoError

__all__ = ["GengoError", "Summary", "__version__", "generate", "plan", "prepare", "run", "stream", "verify"]
_API = ("Summary", "generate", "plan", "prepare", "run", "stream", "verify")


def __getattr__(name: str):
    if name in _API:
        from gengo import api  # NumPy, Arrow and polars: only when the library is first used

        return getattr(api, name)
    raise AttributeError(f"module 'gengo' has no attribute {name!r}")
