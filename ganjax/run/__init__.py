"""Running experiments: the session, the train loop, runners, checkpoints, reopening runs."""
