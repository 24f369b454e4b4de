"""gengo: fast, deterministic synthetic relational datasets."""

import os

# polars' allocator (its own jemalloc) returns every block of 8 MB or more to the OS as soon as
# it is freed in processes forked after polars was loaded, as the workers are: each chunk's
# encoded text then lands in fresh pages (ecommerce-ds JSON at 1 GB, 2 workers: 327k page
# faults, 153k with this setting). Serving those blocks from the ordinary arenas keeps them for
# reuse. Set before polars is imported (here, or in the fork server that inherits the environment).
os.environ.setdefault("_RJEM_MALLOC_CONF", "oversize_threshold:0")
# Arrow's allocator (mimalloc) hands freed memory back 10 ms after it is freed, between one
# chunk and the next: the next chunk's arrays then fault their pages in again. 500 ms outlasts
# those gaps (12 chunks of ecommerce Parquet: 38k -> 12k page faults; medical Parquet with 2
# workers 6.19 -> 5.72 s for peak RSS 762 -> 842 MB).
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "500")

from gengo._version import __version__  # noqa: E402
from gengo.core.errors import GengoError  # noqa: E402

__all__ = ["GengoError", "Summary", "__version__", "generate", "plan", "run"]
_API = ("Summary", "generate", "plan", "run")


def __getattr__(name: str):
    # The library API loads NumPy, Arrow and polars: only when first used, so that the
    # command line can start its worker processes before paying for those imports.
    if name in _API:
        from gengo import api

        return getattr(api, name)
    raise AttributeError(f"module 'gengo' has no attribute {name!r}")
