"""Referrals, information requests, joint plans, case conferences and the resource catalogue.

Included at /espacio/ (namespace "coordination"). The routes under personas/<id>/ start
from a person's record.
"""

from django.urls import path

from . import views

app_name = "coordination"

urlpatterns = [
    # derivaciones
    path("derivaciones/", views.referral_list, name="referral_list"),
    path("derivaciones/<int:referral_id>/", views.referral_detail, name="referral_detail"),
    path("derivaciones/<int:referral_id>/aceptar/", views.referral_accept, name="referral_accept"),
    path("derivaciones/<int:referral_id>/rechazar/", views.referral_reject, name="referral_reject"),
    path(
        "derivaciones/<int:referral_id>/finalizar/",
        views.referral_complete,
        name="referral_complete",
    ),
    path("derivaciones/<int:referral_id>/anular/", views.referral_cancel, name="referral_cancel"),
    path("personas/<int:person_id>/derivar/", views.referral_create, name="referral_create"),
    # solicitudes de vinculación (after "esta persona ya consta en el sistema")
    path("derivaciones/vincular/", views.referral_link_request, name="referral_link_request"),
    path("derivaciones/vinculaciones/", views.link_request_list, name="link_request_list"),
    path(
        "derivaciones/vinculaciones/<int:link_request_id>/descartar/",
        views.link_request_decline,
        name="link_request_decline",
    ),
    # consultas sin derivación
    path("consultas/", views.request_list, name="request_list"),
    path("consultas/<int:request_id>/", views.request_detail, name="request_detail"),
    path("consultas/<int:request_id>/responder/", views.request_answer, name="request_answer"),
    path("personas/<int:person_id>/consultar/", views.request_create, name="request_create"),
    # itinerarios conjuntos
    path("itinerarios/", views.plan_list, name="plan_list"),
    path("itinerarios/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("itinerarios/<int:plan_id>/editar/", views.plan_edit, name="plan_edit"),
    path("itinerarios/<int:plan_id>/acciones/nueva/", views.action_create, name="action_create"),
    path("itinerarios/<int:plan_id>/objetivos/nuevo/", views.goal_create, name="goal_create"),
    path("itinerarios/objetivos/<int:goal_id>/", views.goal_edit, name="goal_edit"),
    path(
        "itinerarios/<int:plan_id>/compromisos/nuevo/",
        views.commitment_create,
        name="commitment_create",
    ),
    path("itinerarios/acciones/<int:action_id>/", views.action_edit, name="action_edit"),
    path("itinerarios/acciones/<int:action_id>/estado/", views.action_state, name="action_state"),
    path(
        "itinerarios/compromisos/<int:commitment_id>/seguimiento/",
        views.compliance_create,
        name="compliance_create",
    ),
    path("personas/<int:person_id>/itinerarios/", views.person_plans, name="person_plans"),
    path("personas/<int:person_id>/itinerarios/nuevo/", views.plan_create, name="plan_create"),
    # comisiones
    path("comisiones/", views.conference_list, name="conference_list"),
    path("comisiones/nueva/", views.conference_create, name="conference_create"),
    path("comisiones/<int:conference_id>/", views.conference_detail, name="conference_detail"),
    path(
        "comisiones/<int:conference_id>/casos/nuevo/",
        views.conference_case_add,
        name="conference_case_add",
    ),
    path(
        "comisiones/<int:conference_id>/casos/<int:case_id>/",
        views.conference_case,
        name="conference_case",
    ),
    path(
        "comisiones/casos/<int:case_id>/acuerdos/nuevo/",
        views.agreement_create,
        name="agreement_create",
    ),
    path(
        "comisiones/acuerdos/<int:agreement_id>/accion/",
        views.agreement_to_action,
        name="agreement_to_action",
    ),
    # mapa de recursos
    path("recursos/", views.resource_list, name="resource_list"),
    path("recursos/nuevo/", views.resource_create, name="resource_create"),
    path("recursos/<int:resource_id>/", views.resource_detail, name="resource_detail"),
    path("recursos/<int:resource_id>/editar/", views.resource_edit, name="resource_edit"),
]
