"""Executors that run a plan's (table, chunk) tasks and hand results to the writers."""

__all__ = ["TableResult", "execute"]


def __getattr__(name: str):
    if name in __all__:  # loaded on first use (see gengo/__init__.py)
        from gengo.engine import local

        return getattr(local, name)
    raise AttributeError(f"module 'gengo.engine' has no attribute {name!r}")
