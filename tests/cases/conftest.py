"""Fixtures shared by the tests of the household editor."""

from __future__ import annotations

import pytest

from diagnostics import tasks


@pytest.fixture
def published(monkeypatch, django_capture_on_commit_callbacks):
    """The person ids published to the broker by the callbacks of one committed block."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.evaluate_person, "apply_async", lambda args, **kw: sent.append(args[0]))

    class Capture:
        def __enter__(self):
            self._cm = django_capture_on_commit_callbacks(execute=True)
            self._cm.__enter__()
            sent.clear()
            return sent

        def __exit__(self, *exc):
            return self._cm.__exit__(*exc)

    return Capture()
