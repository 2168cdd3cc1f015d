"""JSON API v1: the filtered record, the contract that pages and integrations build on.

The record is the one the record page shows: ``diagnostics.record.record_with_diagnostics``
merges the diagnostics entries (exclusion assessments, employability diagnoses, basic
screenings) into the categories on the same decisions, and ``profiling`` is the profiling
proposal computed from what the response shows in full (``diagnostics.record.profile_of``).
"""

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.purposes import Purpose
from diagnostics.record import profile_of, record_with_diagnostics
from ris.accounts.access import POLICY_ATTR
from ris.accounts.models import Role
from ris.accounts.viewer import viewer_for_request

from .models import Channel

RECORD_ROLES = frozenset({Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.NGO_TECHNICIAN, Role.COORDINATOR})
PERSON_PURPOSES = [p for p in Purpose.values if p != Purpose.EVALUATION]


class RecordQuery(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=PERSON_PURPOSES, error_messages={
        "invalid_choice": _("Finalidad no válida para consultar una persona."),
        "required": _("Indique la finalidad de la consulta."),
    })


def not_found() -> NotFound:
    return NotFound(_("No encontrado."))


class PersonRecordAPIView(APIView):
    """GET /api/v1/persons/{id}/record/?purpose=<code>"""

    def get(self, request, person_id: int):
        viewer = viewer_for_request(request)
        if viewer is None or viewer.role not in RECORD_ROLES:
            raise not_found()
        query = RecordQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            record = record_with_diagnostics(
                viewer=viewer, person_id=person_id, purpose=query.validated_data["purpose"],
                channel=Channel.API, request_id=getattr(request, "id", ""),
            )
        except Http404:
            raise not_found() from None
        return Response({**record.as_json(), "profiling": profile_of(record).as_json()})


person_record_api = PersonRecordAPIView.as_view()
setattr(person_record_api, POLICY_ATTR, ("roles", RECORD_ROLES))
