"""Prefect tasks that wire the pure stages (read, normalize, validate, evaluate) to the edges (files, warehouse)."""
