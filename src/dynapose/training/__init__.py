"""Training: one harness (run folder, state, metrics, resume, distributed) and a loop per model
family."""
