"""The record in the admin: persons, households and every service-owned section.

This is the administrators' tool for corrections; professionals work in the
workspace and the portal, where ``sharing`` decides what each viewer sees.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ris.accounts.admin import RISModelAdmin, RISTabularInline

from .identity import normalise_document
from .models import (
    SECTION_MODELS,
    Attachment,
    Household,
    HouseholdMember,
    Person,
    PersonMerge,
    ReferenceProfessional,
)

PERSON_SEARCH_FIELDS = (
    "person__first_name",
    "person__last_name_1",
    "person__last_name_2",
    "=person__document_number",
)


class HouseholdMembershipInline(RISTabularInline):
    """On the person's page: the households the person has lived in."""

    model = HouseholdMember
    fk_name = "person"
    extra = 0
    fields = ("household", "relationship", "start_date", "end_date", "months_worked_last_year")
    autocomplete_fields = ("household",)
    verbose_name_plural = _("unidades de convivencia de la persona")


class ReferenceProfessionalInline(RISTabularInline):
    model = ReferenceProfessional
    extra = 0
    autocomplete_fields = ("organisation", "professional")


@admin.register(Person)
class PersonAdmin(RISModelAdmin):
    list_display = (
        "last_name_1",
        "last_name_2",
        "first_name",
        "document_type",
        "document_number",
        "birth_date",
        "municipality",
    )
    list_display_links = ("last_name_1", "first_name")
    list_filter = ("document_type", "sex")
    list_select_related = ("municipality",)
    search_fields = ("first_name", "last_name_1", "last_name_2", "=document_number")
    autocomplete_fields = ("municipality", "education_level")
    readonly_fields = ("version", "created_at", "updated_at")
    fieldsets = (
        (
            _("Identificación"),
            {
                "fields": (
                    ("first_name", "last_name_1", "last_name_2"),
                    ("document_type", "document_number", "no_document_reason"),
                    ("birth_date", "sex", "nationality"),
                )
            },
        ),
        (
            _("Domicilio y contacto"),
            {
                "fields": (
                    "address_line",
                    ("postal_code", "municipality"),
                    ("phone", "email"),
                )
            },
        ),
        (_("Formación e idiomas"), {"fields": ("education_level", "languages")}),
        (_("Registro"), {"fields": (("created_at", "updated_at", "version"),)}),
    )
    inlines = (HouseholdMembershipInline, ReferenceProfessionalInline)

    def get_search_results(self, request, queryset, search_term):
        """A document is found however it was typed: ``12.345.678-z`` finds ``12345678Z``."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        document = normalise_document(search_term)
        if document and document != search_term:
            found = found | queryset.filter(document_number=document)
        return found, may_have_duplicates


class HouseholdMemberInline(RISTabularInline):
    """On the household's page: who lives or lived there."""

    model = HouseholdMember
    fk_name = "household"
    extra = 0
    fields = ("person", "relationship", "start_date", "end_date")
    autocomplete_fields = ("person",)


@admin.register(Household)
class HouseholdAdmin(RISModelAdmin):
    # The household's economy is social services' data, read only through sharing.
    list_display = ("__str__", "address_line", "municipality")
    exclude = ("housing_tenure", "monthly_income", "monthly_expenses", "deprivation_items", "economy_recorded_on")
    list_select_related = ("municipality",)
    search_fields = (
        "address_line",
        "members__person__first_name",
        "members__person__last_name_1",
        "=members__person__document_number",
    )
    autocomplete_fields = ("municipality",)
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = (HouseholdMemberInline,)


@admin.register(HouseholdMember)
class HouseholdMemberAdmin(RISModelAdmin):
    list_display = ("person", "household", "relationship", "start_date", "end_date")
    list_filter = ("relationship",)
    list_select_related = ("person", "household")
    search_fields = PERSON_SEARCH_FIELDS
    autocomplete_fields = ("household", "person")
    exclude = ("months_worked_last_year",)  # economy data, read only through sharing


@admin.register(ReferenceProfessional)
class ReferenceProfessionalAdmin(RISModelAdmin):
    list_display = ("person", "organisation", "professional", "since")
    list_filter = ("organisation__kind", "organisation__community")
    list_select_related = ("person", "organisation", "professional")
    search_fields = (*PERSON_SEARCH_FIELDS, "professional__username", "organisation__name")
    autocomplete_fields = ("person", "organisation", "professional")


ENTRY_METADATA_FIELDS = (
    "person", "recorded_by_service", "recorded_by_org", "recorded_by", "restricted", "version",
    "created_at", "updated_at",
)


class ServiceEntryAdmin(RISModelAdmin):
    """Sections in admin show who recorded what and when, never the content.

    The content of a section is read only through ``sharing`` (the record page,
    the API, documents): the admin is not a back door to it. Entries are written
    by the owning service in the workspace, so the admin cannot add or change them.
    """

    list_display = ("person", "recorded_by_org", "recorded_by_service", "restricted", "created_at")
    list_filter = ("recorded_by_service", "restricted", "recorded_by_org__community")
    list_select_related = ("person", "recorded_by_org")
    search_fields = (*PERSON_SEARCH_FIELDS, "recorded_by_org__name")
    fields = ENTRY_METADATA_FIELDS
    readonly_fields = ENTRY_METADATA_FIELDS

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


for section_model in SECTION_MODELS:
    admin.site.register(section_model, ServiceEntryAdmin)


class AttachmentAdmin(ServiceEntryAdmin):
    """Attachments are listed by their metadata; the file is opened only through the record."""

    list_display = ("person", "category", "kind", "recorded_by_org", "size", "created_at")
    list_filter = ("category", "kind", "recorded_by_service")
    fields = (*ENTRY_METADATA_FIELDS, "category", "kind", "size", "sha256")
    readonly_fields = fields


admin.site.register(Attachment, AttachmentAdmin)


@admin.register(PersonMerge)
class PersonMergeAdmin(RISModelAdmin):
    """The account of each merge: evidence, so it is read here and never changed (the database
    refuses it too). Merges are made from the merge page, not here."""

    list_display = ("merged_at", "surviving", "merged", "merged_by")
    readonly_fields = ("surviving", "merged", "merged_by", "merged_at", "reason", "moved")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
