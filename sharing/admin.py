"""The sharing tables in the admin.

The categories and the field catalogue are synced from code (``manage.py
sync_catalogue``) and only shown here. The visibility matrix is the administrators'
main tool: its level is edited right in the list. Enrolments are opened and closed
through ``sharing.caseload`` so that the organisation's permission on the person
follows them. The disclosure log and the emergency accesses are only read here (the
DPO reviews emergencies in the DPO pages). The change history (django-auditlog) is
not shown in the admin: it is shown only through ``sharing.history``, filtered like
the record (decision 0005).
"""

from auditlog.models import LogEntry as ChangeHistoryEntry
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consent.models import CATEGORY_CHOICES
from ris.accounts.admin import (
    EvidenceForm,
    RISModelAdmin,
    ViewOnlyPermissions,
    choice_array_formfield,
)

from .caseload import enrolment_close, enrolment_open
from .models import (
    BreakGlassAccess,
    CatalogueField,
    DataCategory,
    DisclosureLogEntry,
    Enrolment,
    PersonGroupObjectPermission,
    PersonUserObjectPermission,
    SharingAgreement,
    VisibilityRule,
)

PERSON_SEARCH_FIELDS = (
    "person__first_name",
    "person__last_name_1",
    "person__last_name_2",
    "=person__document_number",
)


@admin.register(DataCategory)
class DataCategoryAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("code", "label", "owner_service", "sensitivity", "position")
    list_filter = ("owner_service", "sensitivity")
    search_fields = ("code", "label", "definition")


@admin.register(CatalogueField)
class CatalogueFieldAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("model", "field", "category")
    list_filter = ("category", "model")
    list_select_related = ("category",)
    search_fields = ("model", "field")


@admin.register(Enrolment)
class EnrolmentAdmin(RISModelAdmin):
    list_display = ("person", "organisation", "origin", "start_date", "end_date")
    list_filter = ("origin", "organisation__kind", "organisation__community")
    list_select_related = ("person", "organisation")
    search_fields = (*PERSON_SEARCH_FIELDS, "organisation__name")
    autocomplete_fields = ("person", "organisation")
    fields = ("organisation", "person", "origin", "start_date", "end_date", "created_by")
    actions = ("close_enrolments",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("start_date", "end_date", "created_by")
        return self.fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        opened = enrolment_open(
            organisation=obj.organisation, person=obj.person, origin=obj.origin, by=request.user
        )
        # The admin goes on with ``obj`` (message, log entry, redirect).
        obj.pk, obj.start_date, obj.created_by = opened.pk, opened.start_date, opened.created_by
        obj._state.adding = False

    @admin.action(description=_("Cerrar las atenciones seleccionadas"))
    def close_enrolments(self, request, queryset) -> None:
        open_enrolments = list(
            queryset.filter(end_date__isnull=True).select_related("organisation", "person")
        )
        for enrolment in open_enrolments:
            enrolment_close(enrolment=enrolment)
        self.message_user(
            request,
            ngettext(
                "Se ha cerrado %(n)d atención.",
                "Se han cerrado %(n)d atenciones.",
                len(open_enrolments),
            )
            % {"n": len(open_enrolments)},
            messages.SUCCESS,
        )


@admin.register(VisibilityRule)
class VisibilityRuleAdmin(RISModelAdmin):
    list_display = ("role", "category", "community", "level")
    list_display_links = ("role",)
    list_editable = ("level",)
    list_filter = ("role", "category", "community")
    list_select_related = ("category", "community")
    search_fields = ("category__label", "category__code")
    list_per_page = 200


@admin.register(SharingAgreement)
class SharingAgreementAdmin(RISModelAdmin):
    list_display = ("title", "organisation", "community", "valid_from", "valid_until")
    list_filter = ("community", "organisation__kind")
    list_select_related = ("organisation", "community")
    search_fields = ("title", "organisation__name")
    autocomplete_fields = ("organisation", "parties")
    form = EvidenceForm
    readonly_fields = ("document_sha256",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "categories":
            return choice_array_formfield(db_field, CATEGORY_CHOICES)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(DisclosureLogEntry)
class DisclosureLogEntryAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = (
        "at",
        "event",
        "user",
        "organisation",
        "role",
        "person",
        "category",
        "level",
        "channel",
    )
    list_filter = ("event", "channel", "role", "category")
    list_select_related = ("user", "organisation", "person")
    search_fields = (*PERSON_SEARCH_FIELDS, "user__username", "request_id")
    date_hierarchy = "at"


@admin.register(PersonGroupObjectPermission)
class PersonGroupObjectPermissionAdmin(ViewOnlyPermissions, RISModelAdmin):
    """Written with each enrolment (``sharing.caseload``): the organisation may view the person."""

    list_display = ("content_object", "group", "permission")
    list_select_related = ("content_object", "group", "permission__content_type")
    search_fields = (
        "group__name",
        "content_object__last_name_1",
        "=content_object__document_number",
    )


@admin.register(PersonUserObjectPermission)
class PersonUserObjectPermissionAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("content_object", "user", "permission")
    list_select_related = ("content_object", "user", "permission__content_type")
    search_fields = (
        "user__username",
        "content_object__last_name_1",
        "=content_object__document_number",
    )


@admin.register(BreakGlassAccess)
class BreakGlassAccessAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = (
        "started_at",
        "user",
        "organisation",
        "person",
        "expires_at",
        "outcome",
        "reviewed_by",
    )
    list_filter = ("outcome", "organisation__kind", "organisation__community")
    list_select_related = ("user", "organisation", "person", "reviewed_by")
    search_fields = (*PERSON_SEARCH_FIELDS, "user__username", "organisation__name")
    date_hierarchy = "started_at"


admin.site.unregister(ChangeHistoryEntry)
