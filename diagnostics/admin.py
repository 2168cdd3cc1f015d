"""Diagnostics in the admin: instruments and alert rules are configured here.

Instruments (areas, items, cut-offs) and alert rules (thresholds, description, whether
they run) are edited by administrators. An instrument version that has been used is
not edited any more: "Duplicar como nueva versión" copies it for the changes.
Assessments are the record: corrected here like the sections of ``cases``. Alerts and
their deliveries are written by the sweep and only read here, without their texts:
what a delivery says is for its recipient (decision 0007).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ris.accounts.admin import (
    RISModelAdmin,
    RISTabularInline,
    ViewOnlyPermissions,
    choice_array_formfield,
)

from .models import (
    CATEGORY_CHOICES,
    Alert,
    AlertDelivery,
    AlertRule,
    Area,
    BasicEmployabilityScreening,
    CutOff,
    EmployabilityAssessment,
    ExclusionAnswer,
    ExclusionAreaResult,
    ExclusionAssessment,
    Instrument,
    Item,
)
from .rules import RULES

PERSON_SEARCH_FIELDS = (
    "person__first_name",
    "person__last_name_1",
    "person__last_name_2",
    "=person__document_number",
)


class UsedInstrumentIsReadOnly:
    """An instrument version with assessments is not changed: duplicate it instead."""

    def _instrument_of(self, obj):
        if obj is None:
            return None
        if isinstance(obj, Instrument):
            return obj
        return getattr(obj, "instrument", None)

    def has_change_permission(self, request, obj=None) -> bool:
        instrument = self._instrument_of(obj)
        if instrument is not None and instrument.pk and instrument.assessments.exists():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        instrument = self._instrument_of(obj)
        if instrument is not None and instrument.pk and instrument.assessments.exists():
            return False
        return super().has_delete_permission(request, obj)


class AreaInline(UsedInstrumentIsReadOnly, RISTabularInline):
    model = Area
    extra = 0
    fields = ("kind", "label", "position")


class CutOffInline(UsedInstrumentIsReadOnly, RISTabularInline):
    model = CutOff
    extra = 0
    fields = ("area", "level", "min_score", "from_source")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "area":
            instrument_id = (
                request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            )
            kwargs["queryset"] = (
                Area.objects.filter(instrument_id=instrument_id)
                if instrument_id
                else Area.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Instrument)
class InstrumentAdmin(UsedInstrumentIsReadOnly, RISModelAdmin):
    list_display = ("name", "code", "version", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "code", "version")
    readonly_fields = ("created_at",)
    inlines = (AreaInline, CutOffInline)
    actions = ("duplicate_as_new_version",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "source_url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.action(description=_("Duplicar como nueva versión"))
    def duplicate_as_new_version(self, request, queryset) -> None:
        for instrument in queryset:
            copy = instrument_duplicate(instrument)
            messages.success(
                request,
                _("Creada la versión %(v)s de %(name)s.") % {"v": copy.version, "name": copy.name},
            )


@transaction.atomic
def instrument_duplicate(instrument: Instrument) -> Instrument:
    """A new, editable version with the same areas, items and cut-offs."""
    version = f"{instrument.version}-{timezone.localdate():%Y%m%d}"
    suffix = 1
    while Instrument.objects.filter(code=instrument.code, version=version).exists():
        suffix += 1
        version = f"{instrument.version}-{timezone.localdate():%Y%m%d}-{suffix}"
    copy = Instrument.objects.create(
        code=instrument.code,
        version=version,
        name=instrument.name,
        source=instrument.source,
        source_url=instrument.source_url,
        unverified=instrument.unverified,
        is_active=False,
    )
    area_map = {}
    for area in instrument.areas.all():
        area_map[area.pk] = Area.objects.create(
            instrument=copy, kind=area.kind, label=area.label, position=area.position
        )
    Item.objects.bulk_create(
        Item(
            area=area_map[i.area_id],
            code=i.code,
            text=i.text,
            source_dimension=i.source_dimension,
            score=i.score,
            verified=i.verified,
            position=i.position,
        )
        for i in Item.objects.filter(area__instrument=instrument)
    )
    CutOff.objects.bulk_create(
        CutOff(
            instrument=copy,
            area=area_map.get(c.area_id),
            level=c.level,
            min_score=c.min_score,
            from_source=c.from_source,
        )
        for c in instrument.cutoffs.all()
    )
    return copy


class ItemInline(RISTabularInline):
    model = Item
    extra = 0
    fields = ("code", "text", "source_dimension", "score", "verified", "position")

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.instrument.assessments.exists():
            return False
        return super().has_change_permission(request, obj)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(Area)
class AreaAdmin(UsedInstrumentIsReadOnly, RISModelAdmin):
    list_display = ("kind", "label", "instrument", "position")
    list_filter = ("kind", "instrument")
    list_select_related = ("instrument",)
    search_fields = ("label", "instrument__name")
    inlines = (ItemInline,)


@admin.register(Item)
class ItemAdmin(RISModelAdmin):
    list_display = ("code", "text", "area", "score", "verified")
    list_filter = ("area__instrument", "area__kind", "verified")
    list_select_related = ("area__instrument",)
    search_fields = ("code", "text")

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.area.instrument.assessments.exists():
            return False
        return super().has_change_permission(request, obj)

    has_delete_permission = has_change_permission


@admin.register(CutOff)
class CutOffAdmin(UsedInstrumentIsReadOnly, RISModelAdmin):
    list_display = ("instrument", "area", "level", "min_score", "from_source")
    list_filter = ("instrument", "level", "from_source")
    list_select_related = ("instrument", "area__instrument")
    search_fields = ("instrument__name",)


class AnswerInline(RISTabularInline):
    model = ExclusionAnswer
    extra = 0
    fields = ("item", "present", "score")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class AreaResultInline(RISTabularInline):
    model = ExclusionAreaResult
    extra = 0
    fields = ("area", "score", "level")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class EntryAdmin(RISModelAdmin):
    list_display = ("person", "recorded_by_org", "recorded_by_service", "restricted", "created_at")
    list_filter = ("recorded_by_service", "restricted", "recorded_by_org__community")
    list_select_related = ("person", "recorded_by_org")
    search_fields = (*PERSON_SEARCH_FIELDS, "recorded_by_org__name")
    autocomplete_fields = ("person", "recorded_by_org", "recorded_by")
    readonly_fields = ("version", "created_at", "updated_at")


@admin.register(ExclusionAssessment)
class ExclusionAssessmentAdmin(EntryAdmin):
    list_display = (
        "person",
        "assessed_on",
        "level",
        "total_score",
        "instrument",
        "recorded_by_org",
    )
    list_filter = ("level", "instrument", "restricted")
    list_select_related = ("person", "recorded_by_org", "instrument")
    readonly_fields = ("version", "created_at", "updated_at", "total_score", "level", "instrument")
    inlines = (AreaResultInline, AnswerInline)

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # scored by diagnostics.services.exclusion_assessment_record


@admin.register(ExclusionAnswer)
class ExclusionAnswerAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("assessment", "item", "present", "score")
    list_select_related = ("assessment__person", "item")
    search_fields = ("assessment__person__last_name_1", "item__code")


@admin.register(ExclusionAreaResult)
class ExclusionAreaResultAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("assessment", "area", "score", "level")
    list_select_related = ("assessment__person", "area__instrument")
    search_fields = ("assessment__person__last_name_1",)


@admin.register(EmployabilityAssessment)
class EmployabilityAssessmentAdmin(EntryAdmin):
    list_display = ("person", "assessed_on", "level", "suggested_level", "recorded_by_org")
    list_filter = ("level", "suggested_level", "restricted")
    autocomplete_fields = (
        "person",
        "recorded_by_org",
        "recorded_by",
        "education_level",
        "occupation",
    )


@admin.register(BasicEmployabilityScreening)
class BasicEmployabilityScreeningAdmin(EntryAdmin):
    list_display = ("person", "screened_on", "result", "recorded_by_service", "recorded_by_org")
    list_filter = ("result", "recorded_by_service", "restricted")


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ("code", "description", "thresholds", "categories", "is_active")


@admin.register(AlertRule)
class AlertRuleAdmin(RISModelAdmin):
    form = AlertRuleForm
    list_display = ("code", "short_description", "is_active")
    list_editable = ("is_active",)
    list_filter = ("is_active",)
    search_fields = ("code", "description")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "categories":
            return choice_array_formfield(db_field, CATEGORY_CHOICES)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("code", "categories") if obj is not None else ()

    @admin.display(description=_("descripción"))
    def short_description(self, obj: AlertRule) -> str:
        return obj.description[:100]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate a rule instead: its alerts keep pointing at it

    def has_add_permission(self, request, obj=None) -> bool:
        # A rule needs its SQL in diagnostics.rules: rows exist for every programmed rule.
        return super().has_add_permission(request, obj) and AlertRule.objects.count() < len(RULES)


@admin.register(Alert)
class AlertAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("rule", "person_id", "state", "created_at", "resolved_at")
    list_filter = ("state", "rule")
    list_select_related = ("rule",)
    search_fields = ("=person__id", "rule__code")
    # "seen" is each delivery's; acknowledged_* keep who saw an alert before it was (no note:
    # the resolution note is for the organisation that wrote it)
    fields = (
        "rule",
        "person",
        "state",
        "created_at",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "resolved_by_organisation",
    )


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("alert", "organisation", "recipient", "delivered_at", "seen_at")
    list_filter = ("organisation__kind",)
    list_select_related = ("alert__rule", "organisation", "recipient")
    search_fields = ("organisation__name", "recipient__username")
    fields = ("alert", "organisation", "recipient", "delivered_at", "seen_at", "seen_by")
