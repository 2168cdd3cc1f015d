"""Pilots and their dimension follow-ups in the admin (administrators only, like every RIS admin)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ris.accounts.admin import RISModelAdmin, RISTabularInline

from .forms import PilotAdminForm
from .models import DimensionFollowUp, Pilot


class DimensionFollowUpInline(RISTabularInline):
    model = DimensionFollowUp
    extra = 0
    fields = ("dimension", "date", "state", "obstacles", "success_factors", "next_steps", "recorded_by",
              "recorded_by_org")
    autocomplete_fields = ("recorded_by", "recorded_by_org")


@admin.register(Pilot)
class PilotAdmin(RISModelAdmin):
    form = PilotAdminForm
    list_display = ("name", "community", "start_date", "end_date", "funding")
    list_filter = ("community",)
    search_fields = ("name", "code", "objectives")
    prepopulated_fields = {"code": ("name",)}
    autocomplete_fields = ("community", "provinces", "municipalities", "organisations")
    readonly_fields = ("created_at", "updated_at")
    inlines = [DimensionFollowUpInline]
    fieldsets = (
        (None, {"fields": ("name", "code", "objectives")}),
        (_("Territorio"), {"fields": ("community", "provinces", "municipalities")}),
        (_("Participación y fechas"), {"fields": ("organisations", ("start_date", "end_date"))}),
        (_("Financiación"), {"fields": ("funding_lines", "funding_reference")}),
        (_("Registro"), {"fields": (("created_at", "updated_at"),)}),
    )

    @admin.display(description=_("financiación"))
    def funding(self, obj: Pilot) -> str:
        return ", ".join(obj.funding_labels)


@admin.register(DimensionFollowUp)
class DimensionFollowUpAdmin(RISModelAdmin):
    list_display = ("pilot", "dimension", "date", "state", "recorded_by_org")
    list_filter = ("dimension", "state", "pilot")
    list_select_related = ("pilot", "recorded_by_org")
    search_fields = ("pilot__name", "obstacles", "success_factors", "next_steps")
    autocomplete_fields = ("pilot", "recorded_by", "recorded_by_org")
    date_hierarchy = "date"
    readonly_fields = ("created_at",)
