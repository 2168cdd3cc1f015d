"""Databases of the benchmarks, on the server of DATABASE_URL."""

from __future__ import annotations

import os
from contextlib import contextmanager


def _admin_connection():
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def create_database(name: str) -> None:
    """Create database ``name`` on the server of DATABASE_URL unless it exists."""
    with _admin_connection() as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def switch_database(name: str) -> str:
    """Point Django's default connection at database ``name``; returns the one it left."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    previous = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    ContentType.objects.clear_cache()  # its ids belong to the database it was read from
    return previous


@contextmanager
def database(name: str):
    """Django's default connection on database ``name`` for a while."""
    previous = switch_database(name)
    try:
        yield
    finally:
        switch_database(previous)


def copy_database(source: str, target: str) -> None:
    """A fresh ``target`` with everything ``source`` holds (nobody may be connected to ``source``)."""
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{target}"')
        connection.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


def drop_database(name: str) -> None:
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(persons: int) -> int:
    """Bring the current database up to date: migrations, the demo world, and synthetic persons
    up to ``persons`` (``manage.py seed_demo --persons``). Returns how many persons it holds."""
    import time

    from django.core.management import call_command

    from cases.models import Person

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    missing = persons - Person.objects.count()
    if missing > 0:
        started = time.perf_counter()
        call_command("seed_demo", persons=missing, verbosity=0)
        print(f"seed_demo --persons {missing}: {time.perf_counter() - started:.1f} s")
    return Person.objects.count()
