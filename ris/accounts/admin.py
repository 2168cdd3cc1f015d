"""Admin for users, organisations and memberships, and the base every RIS admin uses.

``RISAdminSite`` (``ris/admin_site.py``) lets in administrators and superusers only.
Inside it, ``AdministratorPermissions`` gives them the model permissions Django would
otherwise ask to be assigned one by one; a model admin that must refuse an action
(append-only tables, synced catalogues, reference data) overrides the method and
returns ``False``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.contrib.postgres.fields import ArrayField
from django.core.files.uploadedfile import UploadedFile

from ris.uploads import check_upload

from .models import Membership, Organisation, User

_ALLOWED_ATTR = "_ris_admin_allowed"


class AdministratorPermissions:
    """Model permissions in the admin follow the site's: administrators may act."""

    admin_site: admin.AdminSite

    def _is_administrator(self, request) -> bool:
        allowed = getattr(request, _ALLOWED_ATTR, None)
        if allowed is None:
            allowed = self.admin_site.has_permission(request)
            setattr(request, _ALLOWED_ATTR, allowed)
        return allowed

    def has_module_permission(self, request) -> bool:
        return self._is_administrator(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._is_administrator(request)

    # ModelAdmin calls has_add_permission(request); inlines add the parent object.
    def has_add_permission(self, request, obj=None) -> bool:
        return self._is_administrator(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._is_administrator(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._is_administrator(request)


class ViewOnlyPermissions(AdministratorPermissions):
    """Rows written by the platform (synced, loaded or append-only): look, do not touch."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RISModelAdmin(AdministratorPermissions, admin.ModelAdmin):
    """Plain model admin; array fields with choices are edited as checkboxes."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, ArrayField) and db_field.base_field.choices:
            return choice_array_formfield(db_field, db_field.base_field.choices)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class RISTabularInline(AdministratorPermissions, admin.TabularInline):
    pass


def choice_array_formfield(db_field: ArrayField, choices) -> forms.Field:
    return forms.TypedMultipleChoiceField(
        choices=choices,
        required=not db_field.blank,
        label=db_field.verbose_name[:1].upper() + db_field.verbose_name[1:],
        help_text=db_field.help_text,
        widget=forms.CheckboxSelectMultiple,
    )


class EvidenceForm(forms.ModelForm):
    """A signed document uploaded in the admin is checked and fingerprinted like anywhere else."""

    def clean_document(self):
        document = self.cleaned_data.get("document")
        if isinstance(document, UploadedFile):
            checked = check_upload(document)
            self.instance.document_sha256 = checked.sha256
            if hasattr(self.instance, "document_content_type"):
                self.instance.document_content_type = checked.content_type
        return document


class MembershipInline(RISTabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("organisation", "role", "is_active", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("organisation",)


@admin.register(User)
class RISUserAdmin(AdministratorPermissions, UserAdmin):
    inlines = (MembershipInline,)
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "is_superuser", "memberships__role")

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser makes superusers or hands out raw permissions.
            readonly += ("is_superuser", "user_permissions")
        return readonly


admin.site.unregister(Group)


@admin.register(Group)
class RISGroupAdmin(AdministratorPermissions, GroupAdmin):
    """Each organisation has its permission group ``org:<code>``."""


@admin.register(Organisation)
class OrganisationAdmin(RISModelAdmin):
    list_display = ("name", "code", "kind", "level", "community", "municipality", "is_active")
    list_filter = ("kind", "level", "community", "is_active")
    list_select_related = ("community", "municipality")
    search_fields = ("name", "code")
    autocomplete_fields = ("province", "municipality")
    prepopulated_fields = {"code": ("name",)}


@admin.register(Membership)
class MembershipAdmin(RISModelAdmin):
    list_display = ("user", "organisation", "role", "is_active", "created_at")
    list_filter = ("role", "is_active", "organisation__kind", "organisation__community")
    list_select_related = ("user", "organisation")
    search_fields = ("user__username", "user__first_name", "user__last_name", "organisation__name")
    autocomplete_fields = ("user", "organisation")
    readonly_fields = ("created_at",)
