"""Imported once by the fork server: libraries and vocabularies are loaded before workers fork,
so every worker starts warm and shares those pages copy-on-write."""

from gengo.core import vocab
from gengo.engine.tables import worker  # noqa: F401

vocab.warm_up()
