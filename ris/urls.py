from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.i18n import set_language

from cases import views as case_views
from ris.accounts import views as account_views
from ris.accounts.access import public
from sharing import api as sharing_api
from sharing import portal_views
from sharing import views as sharing_views
from consent import views as consent_views


@public
def health(request):
    return JsonResponse({"status": "ok"})


workspace_patterns = (
    [
        path("", case_views.workspace_home, name="home"),
        path("coordinacion/", case_views.coordinator_home, name="coordinator"),
        path("personas/<int:person_id>/", case_views.person_record, name="person_record"),
        path("personas/<int:person_id>/consentimientos/<int:consent_id>/justificante/",
             consent_views.consent_receipt, name="consent_receipt"),
        path("personas/<int:person_id>/historial/", case_views.person_history, name="person_history"),
        path("emergencia/", sharing_views.break_glass, name="break_glass"),
    ],
    "workspace",
)
portal_patterns = (
    [
        path("", portal_views.portal_home, name="home"),
        path("personas/<int:person_id>/", case_views.portal_person_record, name="person_record"),
    ],
    "portal",
)
api_patterns = (
    [path("persons/<int:person_id>/record/", sharing_api.person_record_api, name="person_record")],
    "api",
)
evaluation_patterns = ([path("", account_views.evaluation_home, name="home")], "evaluation")
dpo_patterns = (
    [
        path("", sharing_views.dpo_home, name="home"),
        path("personas/<int:person_id>/accesos/", sharing_views.dpo_access_report, name="access_report"),
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
    path("espacio/", include(workspace_patterns)),
    path("portal/", include(portal_patterns)),
    path("evaluacion/", include(evaluation_patterns)),
    path("dpd/", include(dpo_patterns)),
    path("api/v1/", include(api_patterns)),
    path("admin/", admin.site.urls),
]
