from django.core.management.base import BaseCommand, CommandError

from sharing.disclosure import verify_chain


class Command(BaseCommand):
    help = "Comprueba la cadena de huellas del registro de accesos: detecta filas alteradas o eliminadas."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            problem = {"altered": "alterada", "missing_or_reordered": "falta una fila anterior o están desordenadas"}
            raise CommandError(
                f"Registro de accesos manipulado: fila {report.first_broken_id} "
                f"({problem.get(report.problem, report.problem)}) tras {report.rows_checked} filas correctas."
            )
        self.stdout.write(self.style.SUCCESS(f"Registro de accesos íntegro: {report.rows_checked} filas comprobadas."))
