"""Executors that run a plan's (table, chunk) tasks and hand results to the writers."""

from gengo.engine.local import TableResult, execute

__all__ = ["TableResult", "execute"]
