"""Change batches as versions of Delta tables (``gen -f delta --batches N``).

After the base run (every table a Delta table, version 0: the run's Parquet parts), the batch
files are written as for ``-f parquet`` (``changes/batch-00000k/<table>.parquet``, with their
manifest: consumers of change sets read them), then applied batch by batch, one commit per batch
and table (``formats.delta.commit_batch``: a MERGE on the primary key, or an empty commit), so that
version k of every table is its state after batch k, ``--as-of k``'s rows.

A kill between commits leaves some tables a batch ahead of others; each commit is marked with its
batch, so ``--resume`` (or a rerun of this step) reads every table's log and commits only the
batches it lacks, in order: a batch is never applied twice. The batch files are reused when their
manifest matches and their bytes are unchanged. Last, the run's manifest records the batches and
each table's rows after the last one, which ``gengo verify`` checks the latest versions against.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from gengo.core.errors import GengoError
from gengo.engine.ledger import MANIFEST
from gengo.formats import checksum, delta
from gengo.formats.storage import Output


def write_delta(
    p, out: Path, batches: int, workers: int | None, history: bool, moving: dict | None, resume: bool
) -> dict:
    """Batches 1..``batches`` of plan ``p`` (format delta, its base run complete in ``out``) written as
    files and committed to the tables; returns the changes manifest."""
    from gengo.engine.change_blocks import write_files

    info = reusable(p, out, batches, history) if resume else None
    if info is None:
        info = write_files(p, out, batches, None, None, workers, history, moving)
    applied = apply(p, out, info, batches)
    info["delta"] = applied
    return info


def reusable(p, out: Path, batches: int, history: bool) -> dict | None:
    """The batch files an earlier (interrupted) run wrote, if they are this run's and unchanged."""
    from gengo.engine.change_blocks import ChangeJob
    from gengo.engine.worker import Job

    try:
        info = json.loads((out / "changes" / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("batches") != batches or info.get("change_format") != "rows":
        return None
    if info.get("complete") is False:  # the listing of a run stopped while it wrote them
        return None
    if bool(info.get("history")) != history:
        return None
    counts = ChangeJob(Job.of(p.model, p.fmt.name, p.seed, p.rows, p.options, {}), batches).changes().counts
    if info.get("counts") != json.loads(json.dumps(counts)):
        return None
    for entry in [*info.get("files", ()), *info.get("history", ())]:
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or ".." in name or not (out / name).is_file():
            return None
        if (out / name).stat().st_size != entry.get("bytes") or checksum.unchanged(out / name, entry) is None:
            return None
    return info


def apply(p, out: Path, info: dict, batches: int) -> dict:
    """Commit the batches each table lacks (its log's marks say which it has), then record them in
    the run's manifest. Returns per table its version and rows after the last batch."""
    o = Output.of(out)
    files = {(f["table"], f["batch"]): out / f["file"] for f in info.get("files", ())}
    have: dict[str, int] = {}
    for t in p.tables:
        delta.remove_unfinished(o, t.name)  # a commit a kill interrupted: its files go, the batch is redone
        commits = delta.batch_commits(o, t.name)
        last = max(commits, default=-1)
        odd = [v for v in range(1, last + 1) if commits.get(v, (None,))[0] != v]
        if last < 0 or odd or last > batches:
            why = "has no log" if last < 0 else f"has version {odd[0] if odd else last}, not gengo's change batch"
            raise GengoError(f"Delta table {t.name} {why}: use --force to write the run again")
        have[t.name] = last
    tables = [p.model.table(t.name) for t in p.tables]
    for b in range(1, batches + 1):
        for t in tables:
            if have[t.name] >= b:  # committed before an interruption
                continue
            events = pq.read_table(files[(t.name, b)]) if (t.name, b) in files else None
            done = delta.commit_batch(o, t.name, t.primary_key, [c.name for c in t.columns], events, b)
            wanted = _ops(events)
            if done != wanted:
                raise GengoError(
                    f"Delta table {t.name}: batch {b} changed {done}, the batch has {wanted} "
                    "(the table is not the state this batch follows; use --force to write the run again)"
                )
            have[t.name] = b
    deltalake = delta.import_deltalake()
    rows = {t.name: deltalake.DeltaTable(str(out / t.name)).to_pyarrow_dataset().count_rows() for t in p.tables}
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["changes"] = {"batches": batches, "rows": rows}
    o.write_text(MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return {t: {"version": have[t], "rows": rows[t]} for t in rows}


def _ops(events) -> dict[str, int]:
    """Rows a batch file deletes, updates and inserts."""
    found = dict.fromkeys(("delete", "update", "insert"), 0)
    if events is not None:
        for item in events.column("_op").value_counts().to_pylist():
            found[item["values"]] += item["counts"]
    return found
