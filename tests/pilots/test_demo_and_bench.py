"""The demo pilots are created once on the demo organisations; the benchmark runs and leaves
nothing behind."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.demo import ORGANISATIONS
from pilots.demo import ensure_demo_pilots
from pilots.models import DimensionFollowUp, Pilot
from ris.accounts.models import Role
from tests.factories import MembershipFactory, OrganisationFactory

from .conftest import enrol_on, persons

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_organisations(db):
    organisations = {}
    for spec in ORGANISATIONS:
        community = "08" if spec.territory == "toledo" else "07"
        organisations[spec.code] = OrganisationFactory(code=spec.code, name=spec.name, kind=spec.kind,
                                                       community_code=community)
    MembershipFactory(organisation=organisations["css-poligono-toledo"], role=Role.COORDINATOR)
    return organisations


def test_demo_pilots_are_created_once(demo_organisations):
    created = ensure_demo_pilots(today=dt.date(2026, 11, 23))
    assert [p.code for p in created] == ["piloto-toledo", "piloto-valladolid"]
    toledo = Pilot.objects.get(code="piloto-toledo")
    assert toledo.community_id == "08" and toledo.organisations.count() == 3
    assert toledo.start_date == dt.date(2025, 5, 1)
    assert DimensionFollowUp.objects.filter(pilot=toledo).count() == 3
    assert ensure_demo_pilots(today=dt.date(2026, 11, 23)) == []
    assert Pilot.objects.count() == 2


def test_without_the_demo_world_nothing_is_created(db):
    assert ensure_demo_pilots() == []
    assert not Pilot.objects.exists()


def test_the_benchmark_prints_its_figures_and_rolls_back(demo_organisations, capsys):
    from bench import pilots_bench

    for person in persons(6):
        enrol_on(person, demo_organisations["css-poligono-toledo"], dt.date(2026, 1, 10))
    pilots_bench.RUNS = 1
    pilots_bench.main()
    out = capsys.readouterr().out
    assert "6 persons attended by 6 organisations" in out
    assert "publish: every indicator, protected" in out and "(10 queries)" in out
    assert not Pilot.objects.exists()
