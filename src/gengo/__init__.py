"""gengo: fast, deterministic synthetic relational datasets."""

from gengo._version import __version__
from gengo.api import Summary, generate, plan, run
from gengo.errors import GengoError

__all__ = ["GengoError", "Summary", "__version__", "generate", "plan", "run"]
