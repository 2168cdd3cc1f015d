"""Consents, revocations, legal bases and objections in the admin.

A consent and its revocation are append-only (the database refuses UPDATE and
DELETE): the admin lets administrators record and read them, never change or
delete them. A correction is a new consent that supersedes the old one.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ris.accounts.admin import EvidenceForm, RISModelAdmin

from .models import Consent, ConsentRevocation, ConsentState, LegalBasis, Objection

PERSON_SEARCH_FIELDS = (
    "person__first_name",
    "person__last_name_1",
    "person__last_name_2",
    "=person__document_number",
)


class AppendOnlyAdmin(RISModelAdmin):
    """Add and view; the rows never change once written."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(AppendOnlyAdmin):
    list_display = (
        "__str__",
        "person",
        "valid_from",
        "valid_until",
        "state",
        "signed_form",
        "recorded_by_org",
        "recorded_at",
    )
    list_filter = ("grantor", "all_categories", "recorded_by_org__community")
    # The reverse one-to-ones let ``state`` be computed without a query per row.
    list_select_related = ("person", "recorded_by_org", "revocation", "superseded_by")
    search_fields = PERSON_SEARCH_FIELDS
    date_hierarchy = "recorded_at"
    autocomplete_fields = ("person", "grantee_organisations", "supersedes", "recorded_by_org")
    form = EvidenceForm
    exclude = ("recorded_by",)
    readonly_fields = (
        "recorded_at", "document_sha256", "document_content_type", "document_added_at", "document_added_by",
    )

    @admin.display(description=_("estado"))
    def state(self, obj: Consent) -> str:
        return ConsentState(obj.state_at()).label

    @admin.display(description=_("documento firmado"), boolean=True)
    def signed_form(self, obj: Consent) -> bool:
        return obj.has_document

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.recorded_by = request.user
            if obj.document:
                obj.document_added_by = request.user
                obj.document_added_at = obj.recorded_at
        super().save_model(request, obj, form, change)


@admin.register(ConsentRevocation)
class ConsentRevocationAdmin(AppendOnlyAdmin):
    list_display = ("consent", "revoked_at", "channel", "revoked_by")
    list_filter = ("channel",)
    list_select_related = ("consent__person", "revoked_by")
    search_fields = (
        "consent__person__first_name",
        "consent__person__last_name_1",
        "consent__person__last_name_2",
        "=consent__person__document_number",
    )
    autocomplete_fields = ("consent",)
    exclude = ("revoked_by",)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.revoked_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(LegalBasis)
class LegalBasisAdmin(RISModelAdmin):
    list_display = (
        "name",
        "reference",
        "community",
        "from_service",
        "to_service",
        "mode",
        "condition",
        "is_active",
    )
    list_filter = ("community", "mode", "from_service", "to_service", "is_active")
    list_select_related = ("community",)
    search_fields = ("name", "reference")


@admin.register(Objection)
class ObjectionAdmin(RISModelAdmin):
    list_display = ("person", "legal_basis", "recorded_at", "recorded_by")
    list_filter = ("legal_basis__community",)
    list_select_related = ("person", "legal_basis", "recorded_by")
    search_fields = PERSON_SEARCH_FIELDS
    autocomplete_fields = ("person", "legal_basis")
    exclude = ("recorded_by",)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
