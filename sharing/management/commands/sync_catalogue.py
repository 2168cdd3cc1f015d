from django.core.management.base import BaseCommand

from sharing.defaults import sync_catalogue


class Command(BaseCommand):
    help = "Sincroniza el catálogo de datos y añade las reglas de visibilidad que falten."

    def handle(self, *args, **options):
        sync_catalogue()
        self.stdout.write(self.style.SUCCESS("Catálogo sincronizado."))
