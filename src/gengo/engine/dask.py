"""The Dask engine: the same parts, written by the workers of a ``dask.distributed`` cluster.

The client plans, submits one task per part (``parts.write_part``, the function the local
engine runs), tracks them with ``as_completed`` and writes the manifest from what the tasks
return (rows, bytes, checksum). Workers write their parts themselves, so the output must be
reachable from every worker under the same name: a shared file system or an object store.

Without a scheduler address (``--scheduler`` or ``DASK_SCHEDULER_ADDRESS``) a
``LocalCluster`` of worker processes, one thread each, is started for the run. Dask is an
optional extra, imported only here.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

from gengo.core.errors import GengoError
from gengo.engine.parts import Part, describe_failure, write_part
from gengo.engine.results import PartResult
from gengo.formats.storage import Output

ENV_ADDRESS = "DASK_SCHEDULER_ADDRESS"
CONNECT_TIMEOUT = 10  # seconds for a scheduler to answer (Dask's default is 30)


def _distributed():
    try:
        import distributed
    except ImportError:
        raise GengoError("--engine dask needs Dask: pip install 'gengo-datagen[dask]'") from None
    return distributed


def check_reachable(address: str) -> None:
    """Fail in a moment when nothing listens at a ``tcp://`` or ``tls://`` scheduler address:
    Dask's client retries a refused connection for its whole connect timeout (30 s by default)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is no number: Dask says what is wrong with the address
        return
    if parts.scheme not in ("tcp", "tls") or not host or port is None:
        return
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc)).lower()
        raise GengoError(f"cannot connect to the Dask scheduler at {address}: {reason}") from None


def scheduler_address(scheduler: str | None) -> str | None:
    address = scheduler if scheduler else os.environ.get(ENV_ADDRESS)
    return address.strip() if address and address.strip() else None


class Cluster:
    """A client connected to ``address``, or to a LocalCluster started (and stopped) here."""

    def __init__(self, address: str | None, workers: int) -> None:
        distributed = _distributed()
        self.cluster = None
        self.address = address
        try:
            if address:
                check_reachable(address)
                self.client = distributed.Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
            else:
                self.cluster = distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,  # logging.ERROR
                )
                self.client = distributed.Client(self.cluster, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = f"the Dask scheduler at {address}" if address else "a local Dask cluster"
            raise GengoError(f"cannot connect to {where}: {exc}") from None

    def run(self, job, output: Output, parts: list[Part]) -> Iterator[tuple[Part, tuple[PartResult, ...]]]:
        distributed = _distributed()
        futures = {}
        token = uuid.uuid4().hex[:12]
        for p in parts:
            # pure=False: a task's key never matches another run's result cached on the cluster
            future = self.client.submit(write_part, job, output, p, pure=False, key=f"gengo-{p.name}-{token}")
            futures[future] = p
        ok = False
        try:
            for future in distributed.as_completed(futures, loop=self.client.loop):
                part = futures[future]
                try:
                    result = future.result()
                except Exception as exc:
                    raise describe_failure(part, output, exc) from exc
                yield part, result
            ok = True
        finally:
            if not ok:
                with contextlib.suppress(Exception):
                    self.client.cancel(list(futures), force=True)

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
