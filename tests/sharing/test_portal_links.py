"""Every page of the NGO portal links within the portal.

The portal serves the workspace's own views (record, documents, consents, coordination, alerts)
under ``portal:``; their templates reverse through the area's namespace. This walk starts at the
portal's home as an NGO technician, follows every link, htmx request and form of every page it
reaches under /portal/ (GET only), and checks that none points into the staff workspace (where
the technician would meet a 404) and that every page it follows answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from cases import models as m
from consent.purposes import Purpose
from sharing.models import SharingAgreement
from tests.factories import (
    ConsentFactory,
    ConsentRevocationFactory,
    PersonFactory,
    enrol,
    make_attachment,
    make_section_entry,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"
URL_ATTRIBUTE = re.compile(r'\b(?:href|action|src|hx-get|hx-post|hx-put|hx-delete)="([^"]*)"')
MAX_PAGES = 120


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(ngo, ngo_technician, social_services_centre, social_worker):
    """A person the NGO attends with social services: a consent the NGO recorded (with its signed
    form), a revoked one of social services, an entry and a document of the carpeta social."""
    today = timezone.localdate()
    SharingAgreement.objects.create(
        organisation=ngo,
        title="Convenio de colaboración",
        community_id="07",
        categories=["ficha_basica", "carpeta_social", "exclusion_social"],
        purposes=[p for p in Purpose.values if p != Purpose.EVALUATION],
        valid_from=today - dt.timedelta(days=10),
        valid_until=today + dt.timedelta(days=300),
        processing_terms="Encargo de tratamiento (art. 28 RGPD)",
    )
    person = PersonFactory()
    enrol(person, ngo)
    enrol(person, social_services_centre)
    ConsentFactory(
        person=person,
        recorded_by=ngo_technician,
        recorded_by_org=ngo,
        grantee_services=["social"],
        purposes=[Purpose.FOLLOW_UP],
        document=ContentFile(PDF, name="firmado.pdf"),
        document_sha256=hashlib.sha256(PDF).hexdigest(),
        document_content_type="application/pdf",
    )
    ConsentRevocationFactory(
        consent=ConsentFactory(
            person=person, recorded_by=social_worker, recorded_by_org=social_services_centre
        ),
        revoked_by=social_worker,
    )
    make_section_entry(
        m.SocialFolderIntervention, person=person, organisation=ngo, recorded_by=ngo_technician
    )
    make_attachment(
        person=person, organisation=ngo, recorded_by=ngo_technician, category="carpeta_social",
        title="Informe de acompañamiento",
    )
    return person


def links_of(body: str) -> list[str]:
    return [html.unescape(url) for url in URL_ATTRIBUTE.findall(body)]


def walk_portal(client) -> tuple[dict[str, int], dict[str, set[str]]]:
    """The status of every portal page followed, and for every link found the pages showing it."""
    queue, seen_paths = ["/portal/"], {"/portal/"}
    answered: dict[str, int] = {}
    found_on: dict[str, set[str]] = {}
    while queue and len(answered) < MAX_PAGES:
        url = queue.pop(0)
        response = client.get(url)
        answered[url] = response.status_code
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            continue
        for link in links_of(response.content.decode()):
            found_on.setdefault(link, set()).add(url)
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path.startswith("/portal/"):
                continue
            if parts.path not in seen_paths:
                seen_paths.add(parts.path)
                queue.append(link.split("#", 1)[0])
    return answered, found_on


def test_no_page_of_the_portal_links_into_the_workspace(client_for, ngo_technician, world):
    client = client_for(ngo_technician)
    client.raise_request_exception = False
    answered, found_on = walk_portal(client)

    person = f"/portal/personas/{world.pk}/"
    reached = {urlsplit(url).path for url in answered}
    for tail in (
        "",
        "consentimientos/nuevo/",
        "documentos/nuevo/",
        "historial/",
        "informe-social.pdf",
    ):
        assert person + tail in reached, tail
    for pattern in (
        r"consentimientos/\d+/(revocar|alcance|justificante|documento)/$",
        r"consentimientos/\d+/justificante\.pdf$",
        r"documentos/\d+/$",
    ):
        assert any(re.search(pattern, path) for path in reached), pattern
    assert len(answered) < MAX_PAGES, "the walk did not end: raise MAX_PAGES or look for a loop"

    into_workspace = {
        link: sorted(pages)
        for link, pages in found_on.items()
        if urlsplit(link).path.startswith("/espacio/")
    }
    assert into_workspace == {}
    assert {url: status for url, status in answered.items() if status != 200} == {}


def test_the_walk_sees_a_workspace_link_when_there_is_one(
    client_for, social_worker, world, social_services_centre
):
    """The same walk on the staff record page finds its /espacio/ links: the check can fail."""
    body = client_for(social_worker).get(f"/espacio/personas/{world.pk}/").content.decode()
    assert any(urlsplit(link).path.startswith("/espacio/") for link in links_of(body))
