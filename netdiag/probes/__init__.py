"""Probes gather facts, read-only, each step bounded by a timeout. They never decide."""
