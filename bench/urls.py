"""URLconf for the benchmarks only: the product's URLs plus a plain same-service read."""

from django.http import Http404, JsonResponse
from django.urls import path

from cases.catalogue import _SECTION_FIELDS
from cases.models import SECTION_MODELS, Person
from diagnostics.record import PAIRS, _entries, _entry
from ris.accounts.viewer import viewer_for_request
from ris.urls import urlpatterns as product_urlpatterns
from sharing.caseload import organisation_attends
from sharing.record import _entry_json, _model_label, basic_sheet, section_rows


def plain_record(request, person_id: int):
    """What a single-service system does: check the caseload, read its own sections and
    diagnostics, answer."""
    viewer = viewer_for_request(request)
    if viewer is None or not organisation_attends(viewer.organisation_id, person_id):
        raise Http404
    person = Person.objects.select_related("municipality", "education_level").get(pk=person_id)
    # Its own sections, read the way the record reads them (one statement for every section model).
    wanted = [(m, [viewer.service]) for m in SECTION_MODELS if _model_label(m) in _SECTION_FIELDS]
    sections = [_entry_json(r, _model_label(r)) for r in section_rows(person_id, wanted)]
    # The endpoint carries the diagnostics too: a single-service system shows its own.
    own = {pair for pair in PAIRS if pair[1] == viewer.service}
    for rows in _entries(person_id, own).values():
        sections.extend(_entry(r) for r in rows)
    return JsonResponse({"person": basic_sheet(person, []), "entries": sections})


plain_record.ris_access_policy = ("bench", frozenset())

urlpatterns = [*product_urlpatterns, path("bench/plain/<int:person_id>/", plain_record)]
