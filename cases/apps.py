from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Historia social única")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import SECTION_MODELS, Household, HouseholdMember, Person

        skip = ["created_at", "updated_at", "version"]
        for model in (Person, Household, HouseholdMember, *SECTION_MODELS):
            auditlog.register(model, exclude_fields=skip, m2m_fields={"deprivation_items"} if model is Household
                              else None)
