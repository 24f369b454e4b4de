"""Session set-up shared by every test."""

from __future__ import annotations

import compileall
from pathlib import Path

import gengo


def pytest_sessionstart(session) -> None:
    """Bytecode for gengo's own modules, once: the tests start hundreds of `gengo` processes, and where
    PYTHONDONTWRITEBYTECODE is set (CI images often set it) each one compiled all ~50 modules from
    source again, 0.1-0.16 s per process. An installed gengo has bytecode from pip; a checkout gets it here."""
    compileall.compile_dir(str(Path(gengo.__file__).parent), quiet=1)
