"""Pilot projects and their evaluation (aggregates only)."""
