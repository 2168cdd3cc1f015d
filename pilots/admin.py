"""Pilots, their dimension follow-ups and their frozen periods in the admin (administrators
only, like every RIS admin).

A frozen period is read here, never changed or deleted (the database refuses it too). To
correct one, an administrator *adds* a correction: the pilot, the period and the reason;
``services.period_correct`` stores the new version of that period and of the frozen periods
that hold it or that it holds."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ris.accounts.admin import RISModelAdmin, RISTabularInline

from . import services
from .forms import PeriodCorrectionForm, PilotAdminForm
from .models import DimensionFollowUp, FrozenPeriod, Pilot


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
        (_("Participación y fechas"), {"fields": ("organisations", ("start_date", "end_date"), "freeze_after_days")}),
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


@admin.register(FrozenPeriod)
class FrozenPeriodAdmin(RISModelAdmin):
    list_display = ("pilot", "start", "end", "version", "origin", "frozen_at", "recorded_by")
    list_filter = ("origin", "pilot")
    list_select_related = ("pilot", "recorded_by")
    search_fields = ("pilot__name", "pilot__code", "reason")
    date_hierarchy = "frozen_at"
    VIEW_FIELDS = ("pilot", "start", "end", "version", "origin", "reason", "recorded_by", "frozen_at", "figures")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        return ["pilot", "periodo", "reason"] if obj is None else list(self.VIEW_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.VIEW_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PeriodCorrectionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_form(self, request, form, change):
        """A correction is not this form's row: the service writes the new versions."""
        data = form.cleaned_data
        corrected, *_related = services.period_correct(
            pilot_id=data["pilot"].pk, span=data["span"], reason=data["reason"], recorded_by_id=request.user.pk,
        )
        return corrected

    def save_model(self, request, obj, form, change) -> None:
        pass  # written by ``save_form``

    def save_related(self, request, form, formsets, change) -> None:
        pass
