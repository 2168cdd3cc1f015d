"""Whose data is "the viewer's own service" (``sharing.policy.is_own_entry``).

Data recorded by the viewer's own service needs no further basis. For a public service that
means its regional system: the social services (or the public employment service) of one
autonomous community share their entries, restricted ones included (the origin block holds
against other services). A centre of another community belongs to another system, and each
Third-Sector entity is a controller of its own: their entries need a basis (a consent or a
legal basis) like another service's data, are logged as a disclosure when shown, and when
there is none they look exactly like no entry at all.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from cases.models import ExclusionSituation, SocialFolderIntervention
from consent.purposes import Purpose
from ris.accounts.models import Role, ServiceKind
from sharing.models import DisclosureLogEntry, SharingAgreement
from tests.factories import (
    CASTILLA_LA_MANCHA,
    ConsentFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    enrol,
    make_attachment,
    make_section_entry,
)

pytestmark = pytest.mark.django_db

FOLLOW_UP = Purpose.FOLLOW_UP.value
MARK = "Acompañamiento-PRIVADO-de-la-otra-entidad"
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def same_page(first: bytes, second: bytes) -> bool:
    return _CSRF.sub(b"", first) == _CSRF.sub(b"", second)


def another_ngo():
    organisation = OrganisationFactory(name="Asociación Otra Entidad", kind=ServiceKind.THIRD_SECTOR)
    today = timezone.localdate()
    SharingAgreement.objects.create(
        organisation=organisation, title="Convenio", community_id=organisation.community_id,
        categories=[], purposes=[FOLLOW_UP], valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=300), processing_terms="Art. 28 RGPD",
    )
    return organisation


def staff(organisation, role):
    return MembershipFactory(organisation=organisation, role=role).user


@pytest.fixture
def two_entities(ngo):
    """A person both entities attend; the other entity keeps a carpeta social entry."""
    person = PersonFactory()
    other = another_ngo()
    enrol(person, ngo)
    enrol(person, other)
    return person, other


def record_of_other_entity(person, other):
    return make_section_entry(
        SocialFolderIntervention, person=person, organisation=other,
        date=timezone.localdate() - dt.timedelta(days=3), description=MARK,
    )


def portal_page(client, person) -> bytes:
    response = client.get(f"/portal/personas/{person.pk}/", {"finalidad": FOLLOW_UP})
    assert response.status_code == 200
    return response.content


def test_another_entitys_carpeta_social_looks_exactly_like_none(
    client_for, ngo_technician, two_entities
):
    person, other = two_entities
    client = client_for(ngo_technician)
    empty = portal_page(client, person)
    record_of_other_entity(person, other)
    with_entry = portal_page(client, person)
    assert MARK.encode() not in with_entry
    assert same_page(empty, with_entry)
    api = client.get(f"/api/v1/persons/{person.pk}/record/", {"purpose": FOLLOW_UP})
    assert MARK not in api.content.decode()


def test_the_entity_that_recorded_it_sees_its_own_entry(client_for, two_entities):
    person, other = two_entities
    record_of_other_entity(person, other)
    technician = staff(other, Role.NGO_TECHNICIAN)
    assert MARK.encode() in portal_page(client_for(technician), person)


@pytest.mark.parametrize("grantee", ["organisation", "service_kind"])
def test_a_consent_for_the_entity_shows_it_and_the_disclosure_is_logged(
    grantee, client_for, ngo_technician, ngo, two_entities
):
    person, other = two_entities
    record_of_other_entity(person, other)
    # what an entity receives from others is also bounded by its agreement
    SharingAgreement.objects.filter(organisation=ngo).update(categories=["carpeta_social"])
    consent = ConsentFactory(
        person=person, purposes=[FOLLOW_UP], all_categories=False,
        permitted_categories=["carpeta_social"],
        grantee_services=[] if grantee == "organisation" else [ServiceKind.THIRD_SECTOR],
    )
    if grantee == "organisation":
        consent.grantee_organisations.add(ngo)
    assert MARK.encode() in portal_page(client_for(ngo_technician), person)
    line = DisclosureLogEntry.objects.get(
        person_id=person.pk, organisation_id=ngo.pk, category="carpeta_social",
        event=DisclosureLogEntry.Event.DISCLOSURE,
    )
    assert line.basis == f"consent:{consent.pk}"


def test_another_entitys_document_is_a_404_like_a_missing_one(
    client_for, ngo_technician, two_entities
):
    person, other = two_entities
    document = make_attachment(
        person=person, organisation=other, recorded_by=None, category="carpeta_social"
    )
    client = client_for(ngo_technician)
    url = f"/portal/personas/{person.pk}/documentos/{{}}/?finalidad={FOLLOW_UP}"
    taken = client.get(url.format(document.pk))
    missing = client.get(url.format(document.pk + 1000))
    assert taken.status_code == missing.status_code == 404
    assert taken.content == missing.content


def test_another_entitys_changes_are_not_in_the_history(client_for, ngo_technician, two_entities):
    person, other = two_entities
    entry = record_of_other_entity(person, other)
    entry.description = MARK + "-cambiado"
    entry.save()
    history = client_for(ngo_technician).get(
        f"/portal/personas/{person.pk}/historial/", {"finalidad": FOLLOW_UP}
    )
    assert history.status_code == 200
    assert MARK.encode() not in history.content


# --- Public services: one regional system per community --------------------------------------


def social_centre(community_code=None):
    extra = {"community_code": community_code} if community_code else {}
    return OrganisationFactory(kind=ServiceKind.SOCIAL, **extra)


def workspace_page(client, person) -> bytes:
    response = client.get(f"/espacio/personas/{person.pk}/", {"finalidad": FOLLOW_UP})
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize("restricted", [False, True])
def test_a_centre_of_the_same_community_reads_the_social_services_entries(
    restricted, client_for, social_worker, social_services_centre
):
    person = PersonFactory()
    colleague_centre = social_centre()  # Castilla y León, like the social worker's
    enrol(person, social_services_centre)
    enrol(person, colleague_centre)
    make_section_entry(
        ExclusionSituation, person=person, organisation=colleague_centre,
        assessed_on=timezone.localdate(), severity="moderate", need_assessment=MARK,
        restricted=restricted,
    )
    assert MARK.encode() in workspace_page(client_for(social_worker), person)


def test_a_centre_of_another_community_is_another_system(
    client_for, social_worker, social_services_centre
):
    person = PersonFactory()
    toledo = social_centre(CASTILLA_LA_MANCHA)
    enrol(person, social_services_centre)
    enrol(person, toledo)
    client = client_for(social_worker)
    empty = workspace_page(client, person)
    make_section_entry(
        ExclusionSituation, person=person, organisation=toledo,
        assessed_on=timezone.localdate(), severity="moderate", need_assessment=MARK,
    )
    with_entry = workspace_page(client, person)
    assert MARK.encode() not in with_entry
    assert same_page(empty, with_entry)
    # with the person's consent for the social worker's centre, it is read and logged
    consent = ConsentFactory(
        person=person, purposes=[FOLLOW_UP], grantee_services=[], all_categories=True
    )
    consent.grantee_organisations.add(social_services_centre)
    assert MARK.encode() in workspace_page(client, person)
    assert DisclosureLogEntry.objects.filter(
        person_id=person.pk, organisation_id=social_services_centre.pk,
        category="exclusion_social", event=DisclosureLogEntry.Event.DISCLOSURE,
        basis=f"consent:{consent.pk}",
    ).exists()


@pytest.mark.parametrize("viewer_kind", [ServiceKind.SOCIAL, ServiceKind.THIRD_SECTOR])
def test_the_sql_form_of_the_rule_agrees_with_the_rule(viewer_kind, ngo, social_services_centre):
    """``own_entry_q`` (used where rows are counted in SQL, e.g. the benefits map's sí/no) keeps
    exactly the entries ``is_own_entry`` calls the viewer's own."""
    from ris.accounts.viewer import Viewer
    from sharing.policy import is_own_entry, own_entry_q

    viewer_org = social_services_centre if viewer_kind == ServiceKind.SOCIAL else ngo
    membership = MembershipFactory(
        organisation=viewer_org,
        role=Role.SOCIAL_WORKER if viewer_kind == ServiceKind.SOCIAL else Role.NGO_TECHNICIAN,
    )
    viewer = Viewer.from_membership(membership)
    person = PersonFactory()
    recorders = [
        viewer_org,
        OrganisationFactory(kind=viewer_kind),  # same kind, same community
        OrganisationFactory(kind=viewer_kind, community_code=CASTILLA_LA_MANCHA),
    ]
    for organisation in recorders:
        for restricted in (False, True):
            make_section_entry(
                ExclusionSituation, person=person, organisation=organisation,
                assessed_on=timezone.localdate(), severity="risk", need_assessment="x",
                restricted=restricted,
            )
    rows = ExclusionSituation.objects.filter(person=person).select_related("recorded_by_org")
    by_rule = {
        e.pk for e in rows
        if is_own_entry(viewer, organisation_id=e.recorded_by_org_id,
                        community_code=e.recorded_by_org.community_id)
    }
    assert set(rows.filter(own_entry_q(viewer)).values_list("pk", flat=True)) == by_rule
    assert len(by_rule) == (4 if viewer_kind == ServiceKind.SOCIAL else 2)
