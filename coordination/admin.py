"""The coordination tables in the admin (administrators only, like the rest of the site).

Referrals, requests for a link and information requests are only read here: their states move
through ``coordination.services`` (accepting a referral opens the receiver's enrolment), so an
edit in the admin would skip the rules. Compliance records are only added by the
organisation that checks the commitment. Plans, conferences and the resource catalogue
can be corrected here.
"""

from django.contrib import admin

from ris.accounts.admin import RISModelAdmin, RISTabularInline, ViewOnlyPermissions

from .models import (
    CaseConference,
    CommitmentCompliance,
    ConferenceAgreement,
    ConferenceAttendee,
    ConferenceCase,
    InformationRequest,
    JointPlan,
    LinkRequest,
    PlanAction,
    PlanCommitment,
    PlanGoal,
    Referral,
    Resource,
)

PERSON_SEARCH_FIELDS = (
    "person__first_name",
    "person__last_name_1",
    "person__last_name_2",
    "=person__document_number",
)


@admin.register(Referral)
class ReferralAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("id", "person", "from_organisation", "to_organisation", "state", "sent_at")
    list_filter = ("state", "purpose", "from_organisation__kind", "to_organisation__kind")
    list_select_related = ("person", "from_organisation", "to_organisation")
    search_fields = (*PERSON_SEARCH_FIELDS, "from_organisation__name", "to_organisation__name")
    date_hierarchy = "sent_at"


@admin.register(LinkRequest)
class LinkRequestAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("id", "person", "from_organisation", "state", "requested_at", "answered_at")
    list_filter = ("state", "from_organisation__kind")
    list_select_related = ("person", "from_organisation")
    search_fields = (*PERSON_SEARCH_FIELDS, "from_organisation__name")
    date_hierarchy = "requested_at"


@admin.register(InformationRequest)
class InformationRequestAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = (
        "id",
        "person",
        "from_organisation",
        "to_organisation",
        "asked_at",
        "answered_at",
    )
    list_filter = ("purpose", "from_organisation__kind", "to_organisation__kind")
    list_select_related = ("person", "from_organisation", "to_organisation")
    search_fields = (*PERSON_SEARCH_FIELDS, "from_organisation__name", "to_organisation__name")
    date_hierarchy = "asked_at"


@admin.register(Resource)
class ResourceAdmin(RISModelAdmin):
    list_display = (
        "name",
        "owner_organisation",
        "community",
        "province",
        "target_group",
        "funding_source",
        "is_active",
    )
    list_filter = ("is_active", "funding_source", "target_group", "community")
    list_select_related = ("owner_organisation", "community", "province")
    search_fields = ("name", "description", "owner_organisation__name")
    autocomplete_fields = ("owner_organisation", "province", "municipality")


class PlanActionInline(RISTabularInline):
    model = PlanAction
    extra = 0
    fields = (
        "owner_organisation",
        "owner_service",
        "action_type",
        "category",
        "state",
        "start_date",
        "end_date",
    )
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PlanCommitmentInline(RISTabularInline):
    model = PlanCommitment
    extra = 0
    fields = ("description", "category", "checked_by_organisation", "checked_by_service")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(JointPlan)
class JointPlanAdmin(RISModelAdmin):
    list_display = (
        "title",
        "person",
        "organising_organisation",
        "state",
        "start_date",
        "review_date",
    )
    list_filter = ("state", "person_agreed")
    list_select_related = ("person", "organising_organisation")
    search_fields = (*PERSON_SEARCH_FIELDS, "title")
    autocomplete_fields = ("person", "organising_organisation", "organisations", "created_by")
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = (PlanActionInline, PlanCommitmentInline)


@admin.register(PlanAction)
class PlanActionAdmin(RISModelAdmin):
    list_display = ("plan", "owner_organisation", "action_type", "category", "state", "start_date")
    list_filter = ("state", "action_type", "owner_service", "category")
    list_select_related = ("plan", "owner_organisation")
    search_fields = (
        "plan__title",
        "description",
        "plan__person__last_name_1",
        "=plan__person__document_number",
    )
    autocomplete_fields = ("plan", "owner_organisation", "resource", "goal", "created_by")
    readonly_fields = ("version", "created_at", "updated_at")


@admin.register(PlanGoal)
class PlanGoalAdmin(RISModelAdmin):
    list_display = ("plan", "owner_organisation", "category", "state", "start_date", "target_date")
    list_filter = ("state", "owner_service", "category")
    list_select_related = ("plan", "owner_organisation")
    search_fields = (
        "plan__title",
        "description",
        "plan__person__last_name_1",
        "=plan__person__document_number",
    )
    autocomplete_fields = ("plan", "owner_organisation", "created_by")
    readonly_fields = ("version", "created_at", "updated_at")


@admin.register(PlanCommitment)
class PlanCommitmentAdmin(RISModelAdmin):
    list_display = ("__str__", "plan", "category", "checked_by_organisation")
    list_filter = ("category", "checked_by_service")
    list_select_related = ("plan", "checked_by_organisation")
    search_fields = ("description", "plan__title", "=plan__person__document_number")
    autocomplete_fields = ("plan", "checked_by_organisation", "created_by")


@admin.register(CommitmentCompliance)
class CommitmentComplianceAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_display = ("commitment", "date", "complied", "recorded_by_org", "recorded_by")
    list_filter = ("complied",)
    list_select_related = ("commitment", "recorded_by_org", "recorded_by")
    search_fields = ("commitment__description", "note")


class ConferenceAttendeeInline(RISTabularInline):
    model = ConferenceAttendee
    extra = 0
    autocomplete_fields = ("user", "organisation")


class ConferenceCaseInline(RISTabularInline):
    model = ConferenceCase
    extra = 0
    fields = ("person", "presented_by_organisation", "presented_by")
    autocomplete_fields = ("person", "presented_by_organisation", "presented_by")
    show_change_link = True


@admin.register(CaseConference)
class CaseConferenceAdmin(RISModelAdmin):
    list_display = ("title", "kind", "date", "community", "organising_organisation")
    list_filter = ("kind", "community")
    list_select_related = ("community", "organising_organisation")
    search_fields = ("title", "territory", "organising_organisation__name")
    autocomplete_fields = ("organising_organisation", "created_by")
    date_hierarchy = "date"
    inlines = (ConferenceAttendeeInline, ConferenceCaseInline)


@admin.register(ConferenceAttendee)
class ConferenceAttendeeAdmin(RISModelAdmin):
    list_display = ("conference", "user", "organisation")
    list_select_related = ("conference", "user", "organisation")
    search_fields = ("conference__title", "user__username", "user__last_name", "organisation__name")
    autocomplete_fields = ("conference", "user", "organisation")


@admin.register(ConferenceCase)
class ConferenceCaseAdmin(RISModelAdmin):
    list_display = ("conference", "person", "presented_by_organisation", "added_at")
    list_select_related = ("conference", "person", "presented_by_organisation")
    search_fields = (*PERSON_SEARCH_FIELDS, "conference__title")
    autocomplete_fields = ("conference", "person", "presented_by_organisation", "presented_by")


@admin.register(ConferenceAgreement)
class ConferenceAgreementAdmin(RISModelAdmin):
    list_display = (
        "__str__",
        "case",
        "category",
        "recorded_by_service",
        "recorded_by_org",
        "recorded_at",
        "plan_action",
    )
    list_filter = ("category", "recorded_by_service")
    list_select_related = (
        "case__conference",
        "case__presented_by_organisation",
        "recorded_by_org",
        "plan_action",
        "plan_action__owner_organisation",
    )
    search_fields = ("text", "case__conference__title")
    autocomplete_fields = ("case", "recorded_by", "recorded_by_org")
    raw_id_fields = ("plan_action",)
