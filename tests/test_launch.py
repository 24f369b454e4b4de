from gengo.launch import _needs_workers


def test_fork_server_starts_early_only_for_runs_that_use_workers():
    assert _needs_workers(["gen", "-m", "ecommerce", "-s", "1"])
    assert _needs_workers(["gen", "--workers", "2"])
    for args in (
        [],
        ["plan", "-m", "ecommerce"],
        ["gen", "--help"],
        ["gen", "--dry-run", "-s", "1"],
        ["gen", "--workers", "1"],
        ["gen", "-w", "1"],
        ["gen", "--workers=1"],
        ["gen", "--engine", "dask"],
    ):
        assert not _needs_workers(args), args
