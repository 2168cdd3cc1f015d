"""Fixed personas, one per role, and a signed-in client for any of them.

The world is small and always the same, in Castilla y León ("07"). Organisations:

- ``social_services_centre``: CEAS Valladolid Centro (servicios sociales, unit)
- ``employment_office``: Oficina de Empleo Valladolid Centro (empleo, unit)
- ``ngo``: Fundación Inserta Valladolid (Tercer Sector, unit)
- ``regional_office``: Gerencia de Servicios Sociales de Castilla y León (regional)

Personas (user fixtures), with their one membership:

- ``social_worker`` (ana.trabajadora): trabajadora social at the social services centre
- ``employment_counsellor`` (bruno.orientador): orientador at the employment office
- ``ngo_technician`` (carmen.entidad): técnica at the NGO
- ``coordinator`` (diego.coordinador): coordinador at the social services centre, so
  with the same caseload as the social worker
- ``evaluator`` (elena.evaluadora), ``dpo`` (fernando.dpd): at the regional office
- ``administrator`` (gloria.admin): administrador at the regional office, and staff
- ``outsider`` (hugo.sinperfil): can sign in, belongs to no organisation

Every persona signs in with ``tests.factories.TEST_PASSWORD``; ``client_for(user)``
gives a client already signed in. Persons, households, consents and section entries
come from ``tests.factories``.

The reference data (territories, catalogue, visibility matrix) is loaded by the
migrations. A test marked ``django_db(transaction=True)`` empties every table when it
ends: give it ``serialized_rollback=True`` so that the tests after it still find them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from consent.purposes import Purpose
from ris.accounts.models import Organisation, Role, ServiceKind, User
from ris.reference.models import Municipality

from .factories import VALLADOLID, MembershipFactory, OrganisationFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing a password the production way takes a large part of a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Organisations ---------------------------------------------------------------------


@pytest.fixture
def social_services_centre(db) -> Organisation:
    return OrganisationFactory(
        name="CEAS Valladolid Centro",
        code="ceas-valladolid-centro",
        kind=ServiceKind.SOCIAL,
        municipality=Municipality.objects.get(code=VALLADOLID),
    )


@pytest.fixture
def employment_office(db) -> Organisation:
    return OrganisationFactory(
        name="Oficina de Empleo Valladolid Centro",
        code="oe-valladolid-centro",
        kind=ServiceKind.EMPLOYMENT,
        municipality=Municipality.objects.get(code=VALLADOLID),
    )


@pytest.fixture
def ngo(db) -> Organisation:
    """An entity of the Third Sector working in RIS under an agreement in force: an entity
    without one attends nobody (``sharing.policy.load_facts``). The agreement grants no
    category of other services, so what the entity sees of them is what the matrix and
    the consents give, capped at indicator; tests that need more add an agreement."""
    from sharing.models import SharingAgreement

    organisation = OrganisationFactory(
        name="Fundación Inserta Valladolid",
        code="fundacion-inserta-valladolid",
        kind=ServiceKind.THIRD_SECTOR,
        municipality=Municipality.objects.get(code=VALLADOLID),
    )
    today = timezone.localdate()
    SharingAgreement.objects.create(
        organisation=organisation,
        title="Convenio marco de participación en RIS",
        community_id=organisation.community_id,
        categories=[],
        purposes=[code for code, _label in Purpose.choices],
        valid_from=today - dt.timedelta(days=365),
        valid_until=today + dt.timedelta(days=365),
        processing_terms="Encargo de tratamiento conforme al art. 28 RGPD",
    )
    return organisation


@pytest.fixture
def regional_office(db) -> Organisation:
    return OrganisationFactory(
        name="Gerencia de Servicios Sociales de Castilla y León",
        code="gerencia-servicios-sociales-cyl",
        kind=ServiceKind.SOCIAL,
        level=Organisation.Level.REGIONAL,
    )


# --- Personas --------------------------------------------------------------------------


def _persona(username: str, organisation: Organisation | None, role: str | None, **extra) -> User:
    user = UserFactory(username=username, **extra)
    if organisation is not None:
        MembershipFactory(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def social_worker(social_services_centre) -> User:
    return _persona(
        "ana.trabajadora",
        social_services_centre,
        Role.SOCIAL_WORKER,
        first_name="Ana",
        last_name="Trabajadora",
    )


@pytest.fixture
def employment_counsellor(employment_office) -> User:
    return _persona(
        "bruno.orientador",
        employment_office,
        Role.EMPLOYMENT_COUNSELLOR,
        first_name="Bruno",
        last_name="Orientador",
    )


@pytest.fixture
def ngo_technician(ngo) -> User:
    return _persona(
        "carmen.entidad", ngo, Role.NGO_TECHNICIAN, first_name="Carmen", last_name="Entidad"
    )


@pytest.fixture
def coordinator(social_services_centre) -> User:
    return _persona(
        "diego.coordinador",
        social_services_centre,
        Role.COORDINATOR,
        first_name="Diego",
        last_name="Coordinador",
    )


@pytest.fixture
def evaluator(regional_office) -> User:
    return _persona(
        "elena.evaluadora",
        regional_office,
        Role.EVALUATOR,
        first_name="Elena",
        last_name="Evaluadora",
    )


@pytest.fixture
def dpo(regional_office) -> User:
    return _persona(
        "fernando.dpd",
        regional_office,
        Role.DATA_PROTECTION_OFFICER,
        first_name="Fernando",
        last_name="Delegado",
    )


@pytest.fixture
def administrator(regional_office) -> User:
    """Staff and holding the administrator role: both are needed to enter the admin."""
    return _persona(
        "gloria.admin",
        regional_office,
        Role.ADMINISTRATOR,
        first_name="Gloria",
        last_name="Administradora",
        is_staff=True,
    )


@pytest.fixture
def outsider(db) -> User:
    """Can sign in, but belongs to no organisation."""
    return _persona("hugo.sinperfil", None, None, first_name="Hugo", last_name="Sin Perfil")


# --- Clients ---------------------------------------------------------------------------


@pytest.fixture
def client_for(db) -> Callable[[User], Client]:
    """``client_for(user)``: a test client signed in as ``user``."""

    def signed_in(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture(autouse=True)
def _migration_data_for_transactional_tests(request):
    """A transactional test runs after another one has emptied every table: put back the data
    that migrations load (reference data, the catalogue and matrix, the alert instrument and
    rules) before it starts, with the same loaders the migrations use."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction") and "live_server" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    import importlib
    import os
    from unittest import mock

    from django.apps import apps as global_apps

    from ris.reference.loader import load_reference_data
    from ris.reference.models import AutonomousCommunity
    from sharing.defaults import sync_catalogue

    # Browser tests run Playwright's event loop in this thread: allow these ORM calls there too.
    with mock.patch.dict(os.environ, {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"}):
        if AutonomousCommunity.objects.exists():
            return
        load_reference_data()
        sync_catalogue()
        diagnostics_data = importlib.import_module("diagnostics.migrations.0002_load_instrument_and_rules")
        diagnostics_data.load(global_apps, None)
        importlib.import_module("diagnostics.migrations.0004_poverty_threshold_estimates").load(
            global_apps, None
        )
