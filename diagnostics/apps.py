from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiagnosticsConfig(AppConfig):
    name = "diagnostics"
    verbose_name = _("Diagnósticos y alertas")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import (
            BasicEmployabilityScreening,
            EmployabilityAssessment,
            ExclusionAssessment,
        )

        for model in (ExclusionAssessment, EmployabilityAssessment, BasicEmployabilityScreening):
            auditlog.register(model, exclude_fields=["created_at", "updated_at", "version"])
