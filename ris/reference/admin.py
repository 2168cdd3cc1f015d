"""Reference data in the admin: lists to look things up, not to edit.

The tables are loaded from the CSV files in ``ris/reference/data`` (``manage.py
load_reference_data``); a change made here would be overwritten by the next load, so
the source file is the place to correct them.
"""

from django.contrib import admin

from ris.accounts.admin import RISModelAdmin, ViewOnlyPermissions

from .models import (
    AutonomousCommunity,
    BasicSocialService,
    DeprivationItem,
    EducationLevel,
    MinimumIncomeThreshold,
    Municipality,
    Occupation,
    PovertyThreshold,
    Province,
)


class ReferenceAdmin(ViewOnlyPermissions, RISModelAdmin):
    list_per_page = 100


@admin.register(AutonomousCommunity)
class AutonomousCommunityAdmin(ReferenceAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Province)
class ProvinceAdmin(ReferenceAdmin):
    list_display = ("code", "name", "community")
    list_filter = ("community",)
    list_select_related = ("community",)
    search_fields = ("code", "name")


@admin.register(Municipality)
class MunicipalityAdmin(ReferenceAdmin):
    list_display = ("code", "name", "province")
    list_filter = ("province__community",)
    list_select_related = ("province",)
    search_fields = ("=code", "name")


@admin.register(Occupation)
class OccupationAdmin(ReferenceAdmin):
    list_display = ("code", "label", "major_group")
    list_filter = ("major_group",)
    search_fields = ("code", "label")


@admin.register(EducationLevel)
class EducationLevelAdmin(ReferenceAdmin):
    list_display = ("code", "isced_level", "label", "verified")
    list_filter = ("isced_level", "verified")
    search_fields = ("code", "label")


@admin.register(DeprivationItem)
class DeprivationItemAdmin(ReferenceAdmin):
    list_display = ("code", "level", "label")
    list_filter = ("level",)
    search_fields = ("code", "label")


@admin.register(BasicSocialService)
class BasicSocialServiceAdmin(ReferenceAdmin):
    list_display = ("code", "label")
    search_fields = ("label", "description")


@admin.register(PovertyThreshold)
class PovertyThresholdAdmin(ReferenceAdmin):
    list_display = (
        "survey_year",
        "income_year",
        "one_person_eur_year",
        "two_adults_two_children_eur_year",
        "is_estimate",
    )
    list_filter = ("is_estimate",)
    search_fields = ("survey_year__exact",)


@admin.register(MinimumIncomeThreshold)
class MinimumIncomeThresholdAdmin(ReferenceAdmin):
    list_display = ("year", "members", "monthly_eur")
    list_filter = ("year",)
    search_fields = ("year__exact",)
