"""Property-based tests of the command line: whatever the arguments, an exit code and never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gengo.cli import main

FLAGS = [
    "-m",
    "--model",
    "-s",
    "--size",
    "-f",
    "--format",
    "--seed",
    "--rows",
    "--tables",
    "--compression",
    "--row-group-size",
    "--chunk-rows",
    "-o",
    "--output",
    "-w",
    "--workers",
    "--force",
    "--resume",
    "-q",
    "--no-keys",
    "-h",
    "--help",
    "-V",
    "--bogus",
    "--",
]
VALUES = [
    "ecommerce",
    "ecom",
    "eds",
    "fin",
    "med",
    "nosuch",
    "csv",
    "json",
    "parquet",
    "xml",
    "0.001",
    "0.0001",
    "1KB",
    "500MB",
    "1e30",
    "-1",
    "0",
    "nan",
    "inf",
    "1_000",
    "9" * 30,
    "dim_customers=10",
    "dim_customers=-5",
    "fact_order_items=0",
    "=",
    "dim_customers,fact_orders_header",
    ",",
    "gzip",
    "zstd",
    "snappy",
    "",
    " ",
    "\x00",
    "é",
    "%s",
    "[red]x[/red]",
]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
token = st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES), text)


@st.composite
def argv(draw) -> list[str]:
    command = draw(st.sampled_from(["gen", "plan", "verify", "models", "nosuch", "", "--version", "--help"]))
    args = [command] if command else []
    args += draw(st.lists(token, max_size=10))
    if command == "gen":
        args.append("--dry-run")  # plan and print, never generate
    return args


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=argv())
def test_any_arguments_give_an_exit_code_not_a_traceback(tmp_path, capsys, args):
    cwd = os.getcwd()
    os.chdir(tmp_path)  # relative -o / verify paths land here
    try:
        code = main(args)
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    assert isinstance(code, int) and 0 <= code <= 255
    assert "Traceback" not in captured.err + captured.out
    if code not in (0,):
        lines = [line for line in captured.err.splitlines() if line.strip()]
        assert len(lines) <= 2, captured.err  # one error line (click may add a blank line on abort)
    # Nothing but the dry run's plan: no dataset written anywhere under the working directory.
    assert not [p for p in Path(tmp_path).rglob("*") if p.suffix in (".csv", ".parquet", ".jsonl")]


def test_nul_byte_in_a_verify_path_is_a_usage_error(capsys):
    """Found by the fuzz test above: os.stat raised ValueError through click.Path."""
    assert main(["verify", "\x00"]) == 2
    err = capsys.readouterr().err
    assert "NUL byte" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
