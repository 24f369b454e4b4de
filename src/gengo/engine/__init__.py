"""The engine, one run pipeline: request checks, plan and sizing, ledger, executors, process tuning."""
