"""Evaluation: the field's metrics over held-out data, one report per run."""
