import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ris.settings")

app = Celery("ris")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="ris.ping")
def ping() -> str:
    """Round trip used by health checks and the worker integration test."""
    return "pong"
