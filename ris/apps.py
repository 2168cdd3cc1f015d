from django.contrib.admin.apps import AdminConfig


class RISAdminConfig(AdminConfig):
    default_site = "ris.admin_site.RISAdminSite"
