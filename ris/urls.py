from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.i18n import set_language

from ris.accounts import views as account_views
from ris.accounts.access import public
from sharing import api as sharing_api
from sharing import views as sharing_views


@public
def health(request):
    return JsonResponse({"status": "ok"})


api_patterns = (
    [path("persons/<int:person_id>/record/", sharing_api.person_record_api, name="person_record")],
    "api",
)
dpo_patterns = (
    [
        path("", sharing_views.dpo_home, name="home"),
        path("personas/<int:person_id>/accesos/", sharing_views.dpo_access_report, name="access_report"),
        path("personas/<int:person_id>/accesos.csv", sharing_views.dpo_access_report_csv,
             name="access_report_csv"),
        path("emergencias/<int:access_id>/revisar/", sharing_views.dpo_break_glass_review,
             name="break_glass_review"),
    ],
    "dpo",
)

urlpatterns = [
    path("", account_views.home, name="home"),
    path("entrar/", account_views.login_view, name="login"),
    path("salir/", account_views.logout_view, name="logout"),
    path("cambiar-perfil/", account_views.switch_membership, name="switch_membership"),
    path("idioma/", public(set_language), name="set_language"),
    path("salud/", health, name="health"),
    path("espacio/", include("cases.urls")),
    path("espacio/", include("coordination.urls")),
    path("espacio/alertas/", include("diagnostics.urls")),
    path("portal/", include("sharing.portal_urls")),
    path("evaluacion/", include("pilots.urls")),
    path("dpd/", include(dpo_patterns)),
    path("api/v1/", include(api_patterns)),
    path("admin/", admin.site.urls),
]
