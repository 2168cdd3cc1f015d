from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class RISAdminSite(admin.AdminSite):
    """Django admin for administrators only: being staff is not enough."""

    site_header = _("RIS · Administración")
    site_title = _("RIS")
    index_title = _("Administración de la plataforma")

    def has_permission(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        from ris.accounts.models import Role

        return user.has_role(Role.ADMINISTRATOR)
