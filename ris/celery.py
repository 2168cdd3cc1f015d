import os

from celery import Celery
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ris.settings")

app = Celery("ris")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

#: How every task that works on the database is retried: a lost connection or a database
#: that is briefly down is retried with growing, jittered waits; tasks are idempotent, so
#: they are acknowledged only once done.
DATABASE_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@app.task(name="ris.ping")
def ping() -> str:
    """Round trip used by health checks and the worker integration test."""
    return "pong"
