"""Imported once by the fork server: its environment is tuned before the heavy imports, then the
libraries and vocabularies are loaded, so every worker starts warm and shares those pages
copy-on-write."""

from gengo.engine import tuning

tuning.worker_environment()  # before polars and Arrow are imported (their allocators read it)

from gengo.core import vocab  # noqa: E402
from gengo.engine import worker  # noqa: E402, F401

vocab.warm_up()
