"""URLconf for the benchmarks only: the product's URLs plus a plain same-service read."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import path

from cases.catalogue import _SECTION_FIELDS
from cases.models import SECTION_MODELS
from diagnostics.record import PAIRS, _entries, _entry, _wanted
from ris.accounts.viewer import viewer_for_request
from ris.urls import urlpatterns as product_urlpatterns
from sharing.caseload import organisation_attends
from sharing.categories import BY_CODE
from sharing.record import (
    _entry_json,
    _model_label,
    basic_sheet,
    person_with_professionals,
    section_rows,
)


def plain_record(request, person_id: int):
    """What a single-service system does: check the caseload, read the person with its own
    reference professional, its own sections, attachments and diagnostics, answer."""
    viewer = viewer_for_request(request)
    if viewer is None or not organisation_attends(viewer.organisation_id, person_id):
        raise Http404
    person, professionals = person_with_professionals(person_id)  # one query, as the record
    own_professionals = [p for p in professionals if p.organisation.kind == viewer.service]
    # Its own sections, attachments and diagnostics, read the way the record reads them (one
    # statement for every section model, the attachments and the diagnostics models).
    wanted = [(m, [viewer.service]) for m in SECTION_MODELS if _model_label(m) in _SECTION_FIELDS]
    attachments = [(code, viewer.service) for code in BY_CODE]
    own = {pair for pair in PAIRS if pair[1] == viewer.service}
    diagnostics = _wanted(own)
    diagnostics_models = {model for model, _sources in diagnostics}
    rows = section_rows(person_id, [*wanted, *diagnostics], attachments)
    sections = [_entry_json(r, _model_label(r)) for r in rows if type(r) not in diagnostics_models]
    found = _entries(person_id, own, [r for r in rows if type(r) in diagnostics_models])
    for entries in found.values():
        sections.extend(_entry(r) for r in entries)
    return JsonResponse({"person": basic_sheet(person, own_professionals), "entries": sections})


plain_record.ris_access_policy = ("bench", frozenset())



@login_not_required
def bare(request, queries: int):
    """The issue's yardstick: a Django view that runs ``queries`` one-row queries through the
    project's middleware and answers a short page, with no session, user or template."""
    with connection.cursor() as cursor:
        for n in range(queries):
            cursor.execute("SELECT %s::int", [n])
            cursor.fetchone()
    return HttpResponse(f"<!doctype html><title>ok</title><p>{queries}</p>")


bare.ris_access_policy = ("bench", frozenset())

urlpatterns = [
    *product_urlpatterns,
    path("bench/plain/<int:person_id>/", plain_record),
    path("bench/bare/<int:queries>/", bare),
]
