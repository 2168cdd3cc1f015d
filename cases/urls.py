"""Staff workspace (/espacio/). Several developers add routes here: keep one line per route,
grouped by the module that owns the view."""

from django.urls import path

from consent import views as consent_views
from diagnostics import views as diagnostics_views
from sharing import views as sharing_views

from . import household_views, record_views, views

app_name = "workspace"

urlpatterns = [
    # cases.views: start pages, search, registration
    path("", views.workspace_home, name="home"),
    path("coordinacion/", views.coordinator_home, name="coordinator"),
    path("buscar/", views.person_search, name="person_search"),
    path("personas/nueva/", views.person_register, name="person_register"),
    path("personas/vincular/", views.person_link_request, name="person_link_request"),
    path("personas/fusionar/", views.person_merge, name="person_merge"),
    # record pages (cases.record_views)
    path("personas/<int:person_id>/", record_views.person_record, name="person_record"),
    path("personas/<int:person_id>/historial/", record_views.person_history, name="person_history"),
    path("personas/<int:person_id>/ficha/", record_views.person_update, name="person_update"),
    path("personas/<int:person_id>/secciones/<slug:section>/nueva/", record_views.entry_create,
         name="entry_create"),
    path("personas/<int:person_id>/secciones/<slug:section>/<int:entry_id>/", record_views.entry_update,
         name="entry_update"),
    path("personas/<int:person_id>/documentos/nuevo/", record_views.attachment_create, name="attachment_create"),
    path("personas/<int:person_id>/documentos/<int:attachment_id>/", record_views.attachment_download,
         name="attachment_download"),
    path("personas/<int:person_id>/informe-social.pdf", record_views.social_report_pdf, name="social_report_pdf"),
    path("personas/<int:person_id>/derivaciones/<int:referral_id>/resumen.pdf", record_views.referral_summary_pdf,
         name="referral_summary_pdf"),
    path("personas/<int:person_id>/itinerarios/<int:plan_id>/itinerario.pdf", record_views.joint_plan_pdf,
         name="joint_plan_pdf"),
    # household (cases.household_views): composition and economy, edited by social services
    path("personas/<int:person_id>/unidad-convivencia/", household_views.household_composition,
         name="household_composition"),
    path("personas/<int:person_id>/unidad-convivencia/nueva/", household_views.household_create,
         name="household_create"),
    path("personas/<int:person_id>/unidad-convivencia/alta/", household_views.household_member_add,
         name="household_member_add"),
    path("personas/<int:person_id>/unidad-convivencia/alta-sin-documento/", household_views.household_member_register,
         name="household_member_register"),
    path("personas/<int:person_id>/unidad-convivencia/baja/", household_views.household_member_end,
         name="household_member_end"),
    path("personas/<int:person_id>/unidad-convivencia/economia/", household_views.household_economy,
         name="household_economy"),
    # consent
    path("personas/<int:person_id>/consentimientos/nuevo/", consent_views.consent_create, name="consent_create"),
    path("personas/<int:person_id>/consentimientos/<int:consent_id>/justificante/",
         consent_views.consent_receipt, name="consent_receipt"),
    path("personas/<int:person_id>/consentimientos/<int:consent_id>/justificante.pdf",
         consent_views.consent_receipt_pdf, name="consent_receipt_pdf"),
    path("personas/<int:person_id>/consentimientos/<int:consent_id>/revocar/", consent_views.consent_revoke,
         name="consent_revoke"),
    path("personas/<int:person_id>/consentimientos/<int:consent_id>/corregir/", consent_views.consent_correct,
         name="consent_correct"),
    path("personas/<int:person_id>/consentimientos/<int:consent_id>/alcance/", consent_views.consent_scope,
         name="consent_scope"),
    path("personas/<int:person_id>/consentimientos/<int:consent_id>/documento/", consent_views.consent_document,
         name="consent_document"),
    path("personas/<int:person_id>/consentimientos/<int:consent_id>/documento/adjuntar/",
         consent_views.consent_attach_document, name="consent_attach_document"),
    # diagnostics.views: assessments recorded from the record
    path("personas/<int:person_id>/diagnosticos/empleabilidad/nuevo/",
         diagnostics_views.employability_assessment_create, name="employability_assessment_create"),
    path("personas/<int:person_id>/diagnosticos/cribado/nuevo/", diagnostics_views.screening_create,
         name="screening_create"),
    path("personas/<int:person_id>/diagnosticos/exclusion/nueva/", diagnostics_views.exclusion_assessment_create,
         name="exclusion_assessment_create"),
    path("personas/<int:person_id>/diagnosticos/empleabilidad/<int:entry_id>/",
         diagnostics_views.employability_assessment_update, name="employability_assessment_update"),
    path("personas/<int:person_id>/diagnosticos/cribado/<int:entry_id>/", diagnostics_views.screening_update,
         name="screening_update"),
    path("personas/<int:person_id>/diagnosticos/exclusion/<int:entry_id>/",
         diagnostics_views.exclusion_assessment_update, name="exclusion_assessment_update"),
    # sharing
    path("emergencia/", sharing_views.break_glass, name="break_glass"),
]
