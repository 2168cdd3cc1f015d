"""The evaluation pages: who may open them, what they show and what they leave in the log.

Evaluators open the pilots of their community or of their organisation; coordinators the
pilots their organisation takes part in. Everybody else gets a 404, as for a pilot that
does not exist.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from django.urls import reverse

from pilots.models import Dimension, DimensionFollowUp, FundingLine, Pilot
from ris.accounts.models import Role
from ris.reference.models import AutonomousCommunity
from sharing.models import DisclosureLogEntry
from tests.factories import CASTILLA_LA_MANCHA, MembershipFactory, OrganisationFactory, UserFactory

from .conftest import enrol_on, persons

pytestmark = pytest.mark.django_db

PERIOD = {"periodo": "2026-T1"}  # January–March 2026: a period of the grid


def pages(pilot: Pilot) -> list[str]:
    return [
        reverse("evaluation:dashboard", args=[pilot.pk]),
        reverse("evaluation:esf", args=[pilot.pk]),
        reverse("evaluation:follow_ups", args=[pilot.pk]),
        reverse("evaluation:report", args=[pilot.pk]),
        *[reverse("evaluation:download", args=[pilot.pk, d, f])
          for d in ("indicadores", "fse") for f in ("csv", "xlsx")],
    ]


@pytest.fixture
def other_pilot(db) -> Pilot:
    """A pilot in Castilla-La Mancha, with none of the test organisations."""
    organisation = OrganisationFactory(community_code=CASTILLA_LA_MANCHA)
    pilot = Pilot.objects.create(
        name="Piloto Toledo", code="piloto-toledo", community=AutonomousCommunity.objects.get(code=CASTILLA_LA_MANCHA),
        start_date=dt.date(2025, 6, 1), funding_lines=[FundingLine.RRF], objectives="Objetivos.",
    )
    pilot.organisations.set([organisation])
    return pilot


@pytest.fixture
def world(pilot, social_services_centre, employment_office, leon_centre):
    """CEAS Valladolid 7 persons, employment office 6, León 2: León is suppressed, and the
    employment office (the next smallest) with it."""
    for p in persons(7):
        enrol_on(p, social_services_centre, dt.date(2026, 2, 3))
    for p in persons(6):
        enrol_on(p, employment_office, dt.date(2026, 2, 10))
    for p in persons(2):
        enrol_on(p, leon_centre, dt.date(2026, 3, 3))
    return pilot


# --- Who may open what ----------------------------------------------------------------------


def test_the_evaluator_start_page_lists_the_pilots_of_their_community(client_for, evaluator, pilot, other_pilot):
    response = client_for(evaluator).get(reverse("evaluation:home"))
    assert response.status_code == 200
    assert list(response.context["pilots"]) == [pilot]
    assert reverse("evaluation:dashboard", args=[pilot.pk]) in response.content.decode()


def test_the_evaluator_lands_on_the_evaluation_start_page(client_for, evaluator):
    response = client_for(evaluator).get(reverse("home"))
    assert response.url == reverse("evaluation:home")


@pytest.mark.parametrize("role", ["evaluator", "coordinator"])
def test_evaluators_and_coordinators_open_every_page_of_their_pilot(request, role, client_for, world):
    client = client_for(request.getfixturevalue(role))
    for url in pages(world):
        assert client.get(url, PERIOD).status_code == 200, url


def test_a_pilot_of_another_community_is_a_404_for_the_evaluator(client_for, evaluator, other_pilot):
    client = client_for(evaluator)
    for url in pages(other_pilot):
        assert client.get(url).status_code == 404, url


def test_a_pilot_the_organisation_does_not_take_part_in_is_a_404_for_a_coordinator(
    client_for, coordinator, pilot, social_services_centre,
):
    pilot.organisations.remove(social_services_centre)
    client = client_for(coordinator)
    assert client.get(reverse("evaluation:home")).context["pilots"] == []
    for url in pages(pilot):
        assert client.get(url).status_code == 404, url


def test_a_pilot_that_does_not_exist_is_a_404(client_for, evaluator):
    assert client_for(evaluator).get(reverse("evaluation:dashboard", args=[99999])).status_code == 404


@pytest.mark.parametrize("role", ["social_worker", "employment_counsellor", "ngo_technician", "dpo",
                                  "administrator", "outsider"])
def test_every_other_role_gets_a_404(request, role, client_for, pilot):
    client = client_for(request.getfixturevalue(role))
    for url in [reverse("evaluation:home"), *pages(pilot)]:
        assert client.get(url).status_code == 404, url


def test_an_anonymous_visitor_is_sent_to_sign_in(client, pilot):
    for url in [reverse("evaluation:home"), *pages(pilot)]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_an_unknown_download_is_a_404(client_for, evaluator, pilot):
    client = client_for(evaluator)
    assert client.get(reverse("evaluation:download", args=[pilot.pk, "personas", "csv"])).status_code == 404
    assert client.get(reverse("evaluation:download", args=[pilot.pk, "fse", "json"])).status_code == 404


# --- What the dashboard shows ----------------------------------------------------------------------


def test_the_dashboard_shows_protected_numbers_and_charts_with_gaps(client_for, evaluator, world, leon_centre):
    response = client_for(evaluator).get(reverse("evaluation:dashboard", args=[world.pk]), PERIOD)
    html = response.content.decode()
    assert "«&lt;5»" in html  # the legend
    board = response.context["board"]
    headline = {t.measure.code: c for t, c in board.headline}
    assert headline["persons_attended"].shown == 15
    charts = json.loads(re.search(r'<script id="pilot-charts"[^>]*>(.*?)</script>', html, re.S).group(1))
    territories = charts["territory"]
    attended = territories["datasets"][0]
    assert attended["label"] == "Personas atendidas"
    assert dict(zip(territories["labels"], attended["data"], strict=True))["León"] is None  # 2 persons: a gap
    assert "chart.umd.min.js" in html


def test_the_organisation_filter_shows_that_organisation_s_cells(client_for, evaluator, world, social_services_centre):
    response = client_for(evaluator).get(
        reverse("evaluation:dashboard", args=[world.pk]), {**PERIOD, "organizacion": social_services_centre.pk},
    )
    headline = {t.measure.code: c for t, c in response.context["board"].headline}
    assert headline["persons_attended"].shown == 7
    assert response.context["board"].selection_label == "CEAS Valladolid Centro"


def test_a_free_range_of_months_is_explained_and_the_whole_pilot_is_shown(client_for, evaluator, world):
    response = client_for(evaluator).get(reverse("evaluation:dashboard", args=[world.pk]),
                                         {"desde": "2026-01", "hasta": "2026-04"})
    assert response.status_code == 200
    assert "Los datos se publican por mes, trimestre o año naturales" in response.content.decode()
    assert response.context["scope"].start == world.start_date.replace(day=1)
    assert "desde" not in response.context["query"]


def test_an_organisation_outside_the_chosen_territory_is_explained(client_for, evaluator, world, leon_centre):
    response = client_for(evaluator).get(reverse("evaluation:dashboard", args=[world.pk]),
                                         {**PERIOD, "territorio": "47", "organizacion": leon_centre.pk})
    assert "La organización elegida no está en el territorio elegido." in response.content.decode()


def test_a_month_outside_the_pilot_is_refused(client_for, evaluator, world):
    response = client_for(evaluator).get(reverse("evaluation:dashboard", args=[world.pk]), {"periodo": "2019-01"})
    assert response.context["form"].errors["periodo"]
    assert response.context["scope"].start == world.start_date.replace(day=1)


def test_the_period_filter_offers_months_quarters_years_and_the_whole_pilot(client_for, evaluator, world):
    response = client_for(evaluator).get(reverse("evaluation:dashboard", args=[world.pk]), PERIOD)
    html = response.content.decode()
    for text in ('<optgroup label="Años">', '<optgroup label="Trimestres">', '<optgroup label="Meses">',
                 '<option value="piloto">Todo el piloto (octubre 2025 – ', '<option value="2025">Año 2025 '
                 '(octubre–diciembre)</option>', '<option value="2026-T1" selected>Trimestre 1 de 2026 '
                 '(enero–marzo)</option>', '<option value="2026-02">Febrero 2026</option>'):
        assert text in html, text
    scope = response.context["scope"]
    assert (scope.start, scope.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert "Periodo: 01/01/2026 – 31/03/2026" in html


# --- Downloads and report ---------------------------------------------------------------------------


def test_the_indicator_csv_is_a_spanish_spreadsheet_with_suppressed_cells(client_for, evaluator, world):
    response = client_for(evaluator).get(reverse("evaluation:download", args=[world.pk, "indicadores", "csv"]),
                                         PERIOD)
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="ris-indicadores-piloto-valladolid-leon-2026-T1.csv"' == \
        response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    assert "persons_attended;Personas atendidas;Total;;15" in text
    assert "persons_attended;Personas atendidas;Territorio;León;<5" in text


def test_the_xlsx_downloads_open_and_carry_the_same_cells(client_for, evaluator, world):
    from openpyxl import load_workbook

    client = client_for(evaluator)
    for dataset in ("indicadores", "fse"):
        response = client.get(reverse("evaluation:download", args=[world.pk, dataset, "xlsx"]), PERIOD)
        workbook = load_workbook(io.BytesIO(response.content))
        assert workbook.sheetnames[0] == "Información"
        assert "Definiciones" in workbook.sheetnames
    sheet = load_workbook(io.BytesIO(client.get(
        reverse("evaluation:download", args=[world.pk, "indicadores", "xlsx"]), PERIOD).content))["Indicadores"]
    rows = {(r[0], r[2], r[3]): r[4] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[("persons_attended", "Total", None)] == 15
    assert rows[("persons_attended", "Territorio", "León")] == "<5"


def csv_rows(response) -> tuple[dict, list[list[str]]]:
    """(metadata by first column, data rows) of a CSV download."""
    lines = response.content.decode("utf-8-sig").split("\r\n")
    blank = lines.index("")
    meta = {line.split(";")[0]: line.split(";", 1)[1] for line in lines[1:blank] if ";" in line}
    return meta, [line.split(";") for line in lines[blank + 2:] if line]


def test_the_csv_of_a_territory_holds_that_territory_and_says_so(client_for, evaluator, world, leon_centre):
    client = client_for(evaluator)
    url = reverse("evaluation:download", args=[world.pk, "indicadores", "csv"])
    meta, rows = csv_rows(client.get(url, {**PERIOD, "territorio": "24"}))
    assert meta["Selección"] == "León" and meta["Periodo"] == "01/01/2026 – 31/03/2026"
    attended = {(r[2], r[3]): r[4] for r in rows if r[0] == "persons_attended"}
    assert attended == {("Total", ""): "<5", ("Organización", "CEAS León Oeste"): "<5"}
    new = {(r[2], r[3]): r[4] for r in rows if r[0] == "persons_new"}
    assert new[("Total", "")] == "<5" and new[("Mes", "03/2026")] == "<5" and new[("Mes", "02/2026")] == "0"
    assert ("Organización y mes", "CEAS León Oeste · 03/2026") in new
    text = "\n".join(";".join(r) for r in rows)
    assert "Valladolid" not in text  # neither the other territory nor its organisations
    assert {r[2] for r in rows} <= {"Total", "Mes", "Organización", "Organización y mes"}
    whole_meta, whole = csv_rows(client.get(url, PERIOD))
    assert whole_meta["Selección"] == "Todo el piloto"
    assert ["persons_attended", "Personas atendidas", "Total", "", "15"] in whole


def test_the_xlsx_of_an_organisation_holds_that_organisation_and_says_so(client_for, evaluator, world,
                                                                        social_services_centre):
    from openpyxl import load_workbook

    response = client_for(evaluator).get(reverse("evaluation:download", args=[world.pk, "indicadores", "xlsx"]),
                                         {**PERIOD, "organizacion": social_services_centre.pk})
    workbook = load_workbook(io.BytesIO(response.content))
    about = {row[0]: row[1] for row in workbook["Información"].iter_rows(values_only=True)}
    assert about["Selección"] == "CEAS Valladolid Centro"
    assert about["Periodo"] == "01/01/2026 – 31/03/2026"
    rows = list(workbook["Indicadores"].iter_rows(min_row=2, values_only=True))
    attended = {(r[2], r[3]): r[4] for r in rows if r[0] == "persons_attended"}
    assert attended == {("Total", None): 7}
    new = {(r[2], r[3]): r[4] for r in rows if r[0] == "persons_new"}
    assert new == {("Total", None): 7, ("Mes", "01/2026"): 0, ("Mes", "02/2026"): 7, ("Mes", "03/2026"): 0}
    assert {r[2] for r in rows} <= {"Total", "Mes"}
    assert not any("León" in str(value) or "Oficina" in str(value) for r in rows for value in r)


def test_the_downloads_carry_the_dashboard_s_selection_in_their_links(client_for, evaluator, world):
    response = client_for(evaluator).get(reverse("evaluation:dashboard", args=[world.pk]),
                                         {**PERIOD, "territorio": "24"})
    html = response.content.decode()
    for name in ("indicadores/csv", "indicadores/xlsx"):
        dataset, fmt = name.split("/")
        link = reverse("evaluation:download", args=[world.pk, dataset, fmt])
        assert f'href="{link}?periodo=2026-T1&amp;territorio=24"' in html, name


def test_the_esf_download_says_it_is_the_whole_pilot_whatever_the_filter(client_for, evaluator, world):
    response = client_for(evaluator).get(reverse("evaluation:download", args=[world.pk, "fse", "csv"]),
                                         {**PERIOD, "territorio": "24"})
    meta, rows = csv_rows(response)
    assert meta["Selección"].startswith("Todo el piloto (los indicadores FSE+ se informan por operación")
    total = next(r for r in rows if r[1] == "total")
    assert total[-2] == "15"  # every participant of the quarter, not León's


def test_a_territory_alone_in_the_address_selects_it_over_the_whole_pilot(client_for, evaluator, world):
    response = client_for(evaluator).get(reverse("evaluation:dashboard", args=[world.pk]), {"territorio": "24"})
    assert response.context["board"].selection_label == "León"
    assert response.context["scope"].start == world.start_date.replace(day=1)


def test_downloads_log_their_selection(client_for, evaluator, world, leon_centre):
    client = client_for(evaluator)
    client.get(reverse("evaluation:download", args=[world.pk, "indicadores", "xlsx"]),
               {**PERIOD, "organizacion": leon_centre.pk})
    client.get(reverse("evaluation:report", args=[world.pk]), {**PERIOD, "territorio": "24"})
    bases = set(DisclosureLogEntry.objects.filter(event=DisclosureLogEntry.Event.EXPORT).values_list("basis", flat=True))
    assert bases == {f"agregado:piloto:{world.pk}:indicadores.xlsx 2026-01..2026-03 organizacion:{leon_centre.pk}",
                     f"agregado:piloto:{world.pk}:informe.pdf 2026-01..2026-03 territorio:24"}


def test_the_report_is_a_pdf(client_for, evaluator, world):
    response = client_for(evaluator).get(reverse("evaluation:report", args=[world.pk]), PERIOD)
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_downloads_and_reports_leave_a_trace_without_a_person(client_for, evaluator, world):
    client = client_for(evaluator)
    client.get(reverse("evaluation:download", args=[world.pk, "indicadores", "csv"]), PERIOD)
    client.get(reverse("evaluation:esf", args=[world.pk]), PERIOD)
    exported = DisclosureLogEntry.objects.get(event=DisclosureLogEntry.Event.EXPORT)
    assert exported.person_id is None and exported.user_id == evaluator.pk
    assert exported.purpose == "evaluacion" and exported.level == "aggregate"
    assert exported.basis == f"agregado:piloto:{world.pk}:indicadores.csv 2026-01..2026-03"
    special = DisclosureLogEntry.objects.get(event=DisclosureLogEntry.Event.SPECIAL_READ)
    assert special.person_id is None and special.category == "salud"


def test_the_dashboard_alone_writes_nothing_to_the_log(client_for, evaluator, world):
    client_for(evaluator).get(reverse("evaluation:dashboard", args=[world.pk]), PERIOD)
    assert not DisclosureLogEntry.objects.exists()


# --- Follow-up of the six dimensions ------------------------------------------------------------------


def follow_up_form(**extra) -> dict:
    return {"dimension": Dimension.LEGAL, "date": "15/03/2026", "state": DimensionFollowUp.State.AT_RISK,
            "obstacles": "Falta el convenio de cesión de datos con el SEPE.", "success_factors": "",
            "next_steps": "Reunión con la asesoría jurídica.", **extra}


def test_a_coordinator_of_the_pilot_records_a_follow_up(client_for, coordinator, pilot, social_services_centre):
    url = reverse("evaluation:follow_ups", args=[pilot.pk])
    response = client_for(coordinator).post(url, follow_up_form())
    assert response.status_code == 302 and response.url == url
    entry = DimensionFollowUp.objects.get()
    assert (entry.dimension, entry.date, entry.recorded_by, entry.recorded_by_org) == (
        "juridica", dt.date(2026, 3, 15), coordinator, social_services_centre)
    page = client_for(coordinator).get(url).content.decode()
    assert "Falta el convenio de cesión de datos con el SEPE." in page


def test_a_follow_up_needs_content_and_a_date_that_has_happened(client_for, coordinator, pilot):
    url = reverse("evaluation:follow_ups", args=[pilot.pk])
    client = client_for(coordinator)
    response = client.post(url, follow_up_form(obstacles="", next_steps=""))
    assert "Describa al menos los obstáculos" in response.content.decode()
    response = client.post(url, follow_up_form(date="01/01/2099"))
    assert "La fecha no puede ser posterior a hoy." in response.content.decode()
    response = client.post(url, follow_up_form(date="31/02/2026"))
    assert response.context["form"].errors["date"]
    assert not DimensionFollowUp.objects.exists()
    assert response.context["form"]["obstacles"].value() == "Falta el convenio de cesión de datos con el SEPE."


def test_an_evaluator_reads_the_follow_up_but_cannot_record_it(client_for, evaluator, pilot):
    url = reverse("evaluation:follow_ups", args=[pilot.pk])
    client = client_for(evaluator)
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"] is None
    assert client.post(url, follow_up_form()).status_code == 403
    assert not DimensionFollowUp.objects.exists()


def test_a_coordinator_of_another_organisation_in_the_community_cannot_open_it(client_for, pilot):
    stranger = UserFactory()
    MembershipFactory(user=stranger, organisation=OrganisationFactory(), role=Role.COORDINATOR)
    response = client_for(stranger).post(reverse("evaluation:follow_ups", args=[pilot.pk]), follow_up_form())
    assert response.status_code == 404
    assert not DimensionFollowUp.objects.exists()


def test_a_pilot_without_organisations_shows_zeros(client_for, evaluator, pilot):
    pilot.organisations.clear()
    client = client_for(evaluator)
    for url in pages(pilot):
        assert client.get(url, PERIOD).status_code == 200, url
    response = client.get(reverse("evaluation:dashboard", args=[pilot.pk]), PERIOD)
    headline = {t.measure.code: c for t, c in response.context["board"].headline}
    assert headline["persons_attended"].shown == 0
