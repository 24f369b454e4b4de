"""Imported once by the fork server: its environment is tuned before the heavy imports, then the
libraries and vocabularies are loaded, so every worker starts warm and shares those pages
copy-on-write.

The fork server exits (normally, running ``atexit``) once its parent and every worker are gone;
it then removes the parent's spool directories, which a parent killed by SIGKILL leaves behind.
"""

import atexit
import os
import sys

from gengo.engine import tuning

tuning.worker_environment()  # before polars and Arrow are imported (their allocators read it)
tuning.skip_pandas_probe()


def _excepthook(kind, value, tb) -> None:
    """A worker whose parent stopped while it was starting finds its pipe closed: nothing to say."""
    if issubclass(kind, EOFError | BrokenPipeError | ConnectionResetError):
        return
    sys.__excepthook__(kind, value, tb)


sys.excepthook = _excepthook  # the fork server's and its workers' (forked from it) only

from gengo.core import vocab  # noqa: E402
from gengo.engine import forkserver, spool, worker  # noqa: E402, F401

atexit.register(spool.remove_spools_of, os.getppid())  # workers leave with os._exit: only the server runs it

vocab.warm_up()
_model_file = os.environ.pop(forkserver.MODEL_FILE, None)
if _model_file:  # compiled once here, not in every worker: they find it in the cache (fork)
    from gengo.models import file as _file

    _file.prime_workers(_model_file)
# polars (the text encoders' fallback, for column types the C codec does not take: no built-in
# model has one) is left to the first worker that needs it: importing it here put 40 ms on the
# critical path of every 2-worker start (the command waits for this server to be ready).
tuning.freeze_loaded(worker=True)
