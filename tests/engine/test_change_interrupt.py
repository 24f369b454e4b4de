"""An interruption after the base tables, while the batches or the as-of snapshot are written,
leaves a run that is not complete: ``verify`` refuses it, naming what is missing, and ``--resume``
finishes it to the bytes of an uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gengo import api
from gengo.core.errors import GengoError, Interrupted
from gengo.engine import change_blocks
from gengo.engine.ledger import MANIFEST, PROGRESS
from tests.engine.test_changes import SHOP

SEED = 7


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "shop.yaml").write_text(SHOP)
    return tmp_path / "model" / "shop.yaml"


def _run(shop: Path, out: Path, as_of: int | None, resume: bool = False) -> None:
    p = api.plan(str(shop), None, "csv", seed=SEED, rows=["orders=300"], workers=1)
    pending = f"the state after batch {as_of}" if as_of is not None else "3 change batches"
    with api.prepare(p, out, 1, resume=resume, changes=pending) as run:
        run.execute()
    api.write_changes(run.plan, out, 3, as_of, workers=1, moving=run.moving)


def _files(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*")) if f.is_file()}


@pytest.mark.parametrize("as_of", [2, None])
def test_interrupted_changes_are_not_complete_and_resume_finishes_them(
    shop: Path, tmp_path: Path, monkeypatch, as_of: int | None
) -> None:
    _run(shop, tmp_path / "whole", as_of)
    done = json.loads((tmp_path / "whole" / MANIFEST).read_text())
    assert done["complete"] is True and "pending" not in done

    if as_of is not None:  # stopped after the first table of the snapshot replaced its base file
        real = change_blocks.write_as_of

        def stopped(*args, **kwargs):
            it = real(*args, **kwargs)
            yield next(it)
            raise KeyboardInterrupt

        monkeypatch.setattr(change_blocks, "write_as_of", stopped)
    else:  # stopped while the batch files are written

        def stopped(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(change_blocks, "run_batches", stopped)
    with pytest.raises(Interrupted) as info:
        _run(shop, tmp_path / "cut", as_of)
    assert info.value.pending == (f"the state after batch {as_of}" if as_of else "3 change batches",)
    assert set(info.value.finished) == {"customers", "orders", "lines"}
    doc = json.loads((tmp_path / "cut" / MANIFEST).read_text())
    assert doc["complete"] is False and doc["pending"] == info.value.pending[0]
    assert (tmp_path / "cut" / PROGRESS).is_file()
    report = api.verify(tmp_path / "cut", keys=False)
    assert not report.ok and any("not written yet" in p for p in report.problems)
    with pytest.raises(GengoError, match="interrupted gengo run"):  # not taken for a finished one
        _run(shop, tmp_path / "cut", as_of)

    monkeypatch.undo()
    _run(shop, tmp_path / "cut", as_of, resume=True)
    assert _files(tmp_path / "cut") == _files(tmp_path / "whole")
    assert api.verify(tmp_path / "cut", keys=False).ok


def test_as_of_after_a_complete_run_marks_it_pending_first(shop: Path, tmp_path: Path, monkeypatch) -> None:
    """Through the API on a run that was complete (no ``changes=``): the manifest says pending
    before a table is replaced, so a stop half way is never taken for the base."""
    p = api.plan(str(shop), None, "csv", seed=SEED, rows=["orders=300"], workers=1)
    with api.prepare(p, tmp_path / "run", 1) as run:
        run.execute()
    seen = []
    real = change_blocks.write_as_of

    def watched(*args, **kwargs):
        for item in real(*args, **kwargs):
            seen.append(json.loads((tmp_path / "run" / MANIFEST).read_text())["complete"])
            yield item

    monkeypatch.setattr(change_blocks, "write_as_of", watched)
    api.write_changes(run.plan, tmp_path / "run", 3, 2, workers=1)
    assert seen and not any(seen)
    assert json.loads((tmp_path / "run" / MANIFEST).read_text())["complete"] is True
