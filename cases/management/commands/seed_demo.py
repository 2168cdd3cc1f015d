"""``manage.py seed_demo``: build the demo world (idempotent) and print its accounts.

``--persons N`` also adds N synthetic persons for benchmarks (see ``cases.demo``).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cases.demo import DemoWorldError, account_rows, add_synthetic_persons, ensure_demo_world


class Command(BaseCommand):
    help = (
        "Crea el mundo de demostración (Toledo y Valladolid, sus servicios, entidades, cuentas y unas sesenta "
        "personas) si no existe, y muestra las cuentas. Con --persons N añade N personas sintéticas."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--persons", type=int, default=0, metavar="N",
            help="Añade N personas sintéticas más (pruebas de rendimiento); no es idempotente.",
        )

    def handle(self, *args, persons: int, **options) -> None:
        if persons < 0:
            raise CommandError("--persons debe ser un número positivo.")
        started = time.monotonic()
        try:
            with transaction.atomic():
                built = ensure_demo_world()
                from pilots.demo import ensure_demo_pilots

                ensure_demo_pilots()
                result = add_synthetic_persons(count=persons) if persons else None
        except (DemoWorldError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started  # including the commit, where deferred checks run
        if built:
            self.stdout.write(self.style.SUCCESS("Mundo de demostración creado."))
        else:
            self.stdout.write("El mundo de demostración ya existía: no se ha cambiado nada.")
        if result is not None:
            self.stdout.write(self.style.SUCCESS(
                f"{result.persons} personas sintéticas añadidas ({result.first_document} a "
                f"{result.last_document}) en {result.households} unidades de convivencia, con "
                f"{result.enrolments} atenciones, {result.section_entries} anotaciones y "
                f"{result.consents} consentimientos"
                + ("." if result.foreign_keys_checked else " (sin comprobar claves ajenas fila a fila).")
            ))
            self.stdout.write(f"Tiempo total, confirmación incluida: {elapsed:.1f} s.")
        self._print_accounts()

    def _print_accounts(self) -> None:
        header = ("Usuario", "Contraseña", "Rol", "Organización")
        rows = [header, *account_rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        self.stdout.write("")
        self.stdout.write("Cuentas de demostración:")
        for username, password, role, organisations in rows:
            cells = (username.ljust(widths[0]), password.ljust(widths[1]), role.ljust(widths[2]), organisations)
            self.stdout.write("  ".join(cells))
