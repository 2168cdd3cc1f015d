from django.core.management.base import BaseCommand

from ris.reference.loader import load_reference_data


class Command(BaseCommand):
    help = "Carga (o actualiza) los datos de referencia desde ris/reference/data."

    def handle(self, *args, **options):
        load_reference_data()
        self.stdout.write(self.style.SUCCESS("Datos de referencia cargados."))
