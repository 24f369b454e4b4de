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


def test_library_api_is_loaded_on_first_use():
    import gengo
    import gengo.api
    import gengo.engine.plan  # noqa: F401 - no submodule may shadow the functions

    assert callable(gengo.plan) and callable(gengo.run) and callable(gengo.generate)
    assert gengo.plan is gengo.api.plan and isinstance(gengo.Summary, type)
