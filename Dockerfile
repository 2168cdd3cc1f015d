# RIS production image: web (gunicorn), worker and beat (celery) all run from it.
# Configured only by environment variables at run time: see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media

WORKDIR /app

# The lock pins every dependency (it also holds the dev tools; see docs/decisions/0002).
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .

# Static files are collected at build time; settings need no real database or secret for that.
RUN SECRET_KEY=build-only-not-secret \
    DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    DEBUG=0 \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin ris \
    && mkdir -p /data/media \
    && chown ris:ris /data/media
USER ris

EXPOSE 8000
CMD ["gunicorn", "ris.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--no-control-socket", "--access-logfile", "-"]
