"""The beat schedule of the diagnostics app: a plain dict, imported by ``ris/settings.py``
(no Django imports here: settings load before the apps). Times are in ``CELERY_TIMEZONE``
(Europe/Madrid)."""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    "diagnostics-nightly-sweep": {
        "task": "diagnostics.nightly_sweep",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 3 * 60 * 60},
    },
}
