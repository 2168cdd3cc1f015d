"""NGO restricted portal (/portal/): NGO technicians only, and no other route answers them."""

from django.urls import path

from cases import record_views
from consent import views as consent_views

from . import portal_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.portal_home, name="home"),
    # record pages (cases.record_views, consent.views): reading and printing; NGO writes are the
    # portal's own
    path("personas/<int:person_id>/", record_views.portal_person_record, name="person_record"),
    path("personas/<int:person_id>/historial/", record_views.person_history, name="person_history"),
    path(
        "personas/<int:person_id>/documentos/<int:attachment_id>/",
        record_views.attachment_download,
        name="attachment_download",
    ),
    path(
        "personas/<int:person_id>/informe-social.pdf",
        record_views.social_report_pdf,
        name="social_report_pdf",
    ),
    path(
        "personas/<int:person_id>/consentimientos/<int:consent_id>/justificante/",
        consent_views.consent_receipt,
        name="consent_receipt",
    ),
    path(
        "personas/<int:person_id>/consentimientos/<int:consent_id>/justificante.pdf",
        consent_views.consent_receipt_pdf,
        name="consent_receipt_pdf",
    ),
    path(
        "personas/<int:person_id>/consentimientos/<int:consent_id>/alcance/",
        consent_views.consent_scope,
        name="consent_scope",
    ),
    path(
        "personas/<int:person_id>/consentimientos/<int:consent_id>/documento/",
        consent_views.consent_document,
        name="consent_document",
    ),
    path(
        "personas/<int:person_id>/intervenciones/nueva/",
        portal_views.intervention_new,
        name="intervention_new",
    ),
    path(
        "personas/<int:person_id>/pobreza-infantil/nueva/",
        portal_views.child_poverty_new,
        name="child_poverty_new",
    ),
]
