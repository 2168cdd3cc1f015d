"""Staff workspace (/espacio/). Several developers add routes here: keep one line per route,
grouped by the module that owns the view."""

from django.urls import path

from consent import views as consent_views
from sharing import views as sharing_views

from . import views

app_name = "workspace"

urlpatterns = [
    # cases.views: start pages, search, registration
    path("", views.workspace_home, name="home"),
    path("coordinacion/", views.coordinator_home, name="coordinator"),
    # record pages
    path("personas/<int:person_id>/", views.person_record, name="person_record"),
    path("personas/<int:person_id>/historial/", views.person_history, name="person_history"),
    # consent
    path("personas/<int:person_id>/consentimientos/<int:consent_id>/justificante/",
         consent_views.consent_receipt, name="consent_receipt"),
    # sharing
    path("emergencia/", sharing_views.break_glass, name="break_glass"),
]
