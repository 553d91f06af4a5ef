"""Submissions of the merged form: re-check, validate, store encrypted, split into the original
department forms (拆分还原) and deliver each through an outbox to the unified acceptance platform."""
