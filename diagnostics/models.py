"""Diagnostics, profiling and risk alerts (instruments land with the alerts issue)."""
