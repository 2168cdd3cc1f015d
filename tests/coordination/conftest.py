"""The coordination world, on top of the shared personas (tests/conftest.py).

- ``person``: attended by the social services centre only (Ana's caseload).
- ``shared_person``: attended by the social services centre and the employment office.
- ``stranger``: a social worker of another social services centre (Valladolid Sur),
  which attends nobody here: every coordination page about these persons is a 404 for her.
- ``consent``: ``consent(person, ...)`` records a consent in force from today
  (``tests.coordination.builders.give_consent``).
"""

from __future__ import annotations

import pytest

from ris.accounts.models import Organisation, Role, ServiceKind, User
from ris.accounts.viewer import Viewer
from ris.reference.models import Municipality
from tests.factories import (
    VALLADOLID,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    UserFactory,
    enrol,
)

from .builders import give_consent


@pytest.fixture
def other_social_centre(db) -> Organisation:
    return OrganisationFactory(
        name="CEAS Valladolid Sur",
        code="ceas-valladolid-sur",
        kind=ServiceKind.SOCIAL,
        municipality=Municipality.objects.get(code=VALLADOLID),
    )


@pytest.fixture
def stranger(other_social_centre) -> User:
    user = UserFactory(username="irene.otroceas", first_name="Irene", last_name="Otro Centro")
    MembershipFactory(user=user, organisation=other_social_centre, role=Role.SOCIAL_WORKER)
    return user


@pytest.fixture
def person(social_services_centre, social_worker):
    p = PersonFactory(first_name="Lucía", last_name_1="Ferrández", last_name_2="Nieto")
    enrol(p, social_services_centre, by=social_worker)
    return p


@pytest.fixture
def shared_person(social_services_centre, employment_office, social_worker):
    p = PersonFactory(first_name="Óscar", last_name_1="Bermejo", last_name_2="Sanz")
    enrol(p, social_services_centre, by=social_worker)
    enrol(p, employment_office)
    return p


@pytest.fixture
def consent(social_worker, social_services_centre):
    def make(person, **kwargs):
        kwargs.setdefault("recorded_by", social_worker)
        kwargs.setdefault("recorded_by_org", social_services_centre)
        return give_consent(person, **kwargs)

    return make


@pytest.fixture
def viewer_of():
    """``viewer_of(user)``: the Viewer of the user's (only) active membership."""

    def make(user: User) -> Viewer:
        return Viewer.from_membership(
            user.memberships.select_related("organisation").get(is_active=True)
        )

    return make
