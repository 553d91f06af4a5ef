"""Simulated department sources for simulated mode and tests (one machine, loopback HTTP)."""
