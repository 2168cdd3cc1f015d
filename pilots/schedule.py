"""The beat schedule of the pilots app: a plain dict, like ``diagnostics.schedule`` (no Django
imports here: settings load before the apps). Times are in ``CELERY_TIMEZONE`` (Europe/Madrid).

``ris/settings.py`` merges it into ``CELERY_BEAT_SCHEDULE`` next to the diagnostics one. When
the task has not run yet, the evaluation pages freeze a closed period the first time it is read.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    "pilots-freeze-closed-periods": {
        "task": "pilots.freeze_closed_periods",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 3 * 60 * 60},
    },
}
