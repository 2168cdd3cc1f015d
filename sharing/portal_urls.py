"""NGO restricted portal (/portal/): NGO technicians only, and no other route answers them.

Besides its own pages (home, carpeta social entries), the portal serves the workspace's views
under ``portal:`` with the same rules: the record, its printouts and the documents of the
sections the NGO records (upload, download); the consent workflow (record it with the signed
form, print the receipt, see what each organisation now gets, revoke it); the coordination
pages (referrals, information requests, joint plans, case conferences, the resource map) and
the alert inbox. Templates reverse through the area's namespace while a technician is here
(``ris.accounts.context_processors.areas``). ``ris.middleware.AreaBoundaryMiddleware``
keeps technicians out of /espacio/ and everyone else out of /portal/.
"""

from django.urls import path

from cases import record_views
from consent import views as consent_views
from coordination.urls import urlpatterns as coordination_patterns
from diagnostics import views as alert_views  # alerts and the basic screening

from . import portal_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.portal_home, name="home"),
    # record pages (cases.record_views, consent.views): the same views as the workspace; the carpeta
    # social's entries are the portal's own pages
    path("personas/<int:person_id>/", record_views.portal_person_record, name="person_record"),
    path("personas/<int:person_id>/historial/", record_views.person_history, name="person_history"),
    path(
        "personas/<int:person_id>/documentos/nuevo/",
        record_views.attachment_create,
        name="attachment_create",
    ),
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
        "personas/<int:person_id>/derivaciones/<int:referral_id>/resumen.pdf",
        record_views.referral_summary_pdf,
        name="referral_summary_pdf",
    ),
    path(
        "personas/<int:person_id>/itinerarios/<int:plan_id>/itinerario.pdf",
        record_views.joint_plan_pdf,
        name="joint_plan_pdf",
    ),
    path(
        "personas/<int:person_id>/consentimientos/nuevo/",
        consent_views.consent_create,
        name="consent_create",
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
        "personas/<int:person_id>/consentimientos/<int:consent_id>/revocar/",
        consent_views.consent_revoke,
        name="consent_revoke",
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
        "personas/<int:person_id>/consentimientos/<int:consent_id>/documento/adjuntar/",
        consent_views.consent_attach_document,
        name="consent_attach_document",
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
    path(
        "personas/<int:person_id>/diagnosticos/cribado/nuevo/",
        alert_views.screening_create,
        name="screening_create",
    ),
    path(
        "personas/<int:person_id>/diagnosticos/cribado/<int:entry_id>/",
        alert_views.screening_update,
        name="screening_update",
    ),
    # alerts routed to the technician or the entity's queue
    path("alertas/", alert_views.portal_alert_inbox, name="alert_inbox"),
    path(
        "alertas/<int:delivery_id>/vista/",
        alert_views.portal_alert_acknowledge,
        name="alert_acknowledge",
    ),
    path(
        "alertas/<int:delivery_id>/resolver/",
        alert_views.portal_alert_resolve,
        name="alert_resolve",
    ),
    # derivaciones, consultas, itinerarios, comisiones, recursos
    *coordination_patterns,
]
