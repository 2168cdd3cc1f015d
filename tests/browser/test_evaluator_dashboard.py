"""An evaluator reads a pilot's evaluation dashboard in a real browser: aggregates only.

The world: the pilot "Piloto Valladolid-León" (Castilla y León) with three organisations in
two provinces. Valladolid: CEAS Valladolid Centro attends 7 persons and the Oficina de Empleo
Valladolid Centro 5; León: CEAS León Oeste attends 7. In April 2026 CEAS Valladolid sends 6
referrals and CEAS León 2, all to the employment office. So, for the whole pilot, 19 persons
attended and 8 referrals sent; filtered by León, 7 persons and referrals sent "<5" (2 persons).

Elena (evaluadora at the regional office) signs in through the Spanish login page, opens the
dashboard, sees the Chart.js charts drawn from the local static file (no request leaves the
live server), filters by territory, downloads the XLSX of that selection and follows the PDF report link (the
report is served ``inline``, so Chromium shows it in its viewer: the bytes are taken from the
response as it enters the browser), then opens both files (openpyxl, pypdf): aggregate figures,
and not one name, surname or DNI/NIE of the seeded persons. A person's record is a 404 for
her. Screenshots and downloaded files are kept in test-artifacts/browser/<test name>/.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from cases.identity import control_letter
from cases.models import Person, Sex
from pilots.models import FundingLine, Pilot
from ris.accounts.models import Organisation, ServiceKind
from ris.reference.models import AutonomousCommunity, Municipality
from tests.browser.conftest import axe_violations, login
from tests.factories import CASTILLA_Y_LEON, TEST_PASSWORD, OrganisationFactory, PersonFactory
from tests.pilots.builders import at, referral
from tests.pilots.conftest import LEON, enrol_on

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PILOT_NAME = "Piloto Valladolid-León"
PILOT_CODE = "piloto-valladolid-leon"
LEON_CENTRE = "CEAS León Oeste"
LEON_PROVINCE = "24"
ATTENDED = "Personas atendidas"
SENT = "Derivaciones enviadas"
RECEIVED = "Derivaciones recibidas"
SUPPRESSED = "<5"

# Names that cannot turn up by chance in a table of counts, an organisation or a territory
# (a Faker surname such as "León" would): every one of them must stay out of the pages and files.
FIRST_NAMES = ["Eustaquia", "Wenceslao", "Leocadia", "Hermenegildo", "Escolástica", "Anacleto",
               "Gumersinda"]
SURNAMES_1 = ["Zubizarreta", "Quintanilla", "Villarejo", "Echeverría", "Arrizabalaga"]
SURNAMES_2 = ["Ybarra", "Olabarrieta", "Goikoetxea", "Urquijo"]


def _document(n: int) -> tuple[str, str]:
    """A valid DNI for most persons, a valid NIE (Y + 7 digits) for every third one."""
    if n % 3 == 2:
        number = 4_500_000 + n
        return Person.DocumentType.NIE, f"Y{number:07d}{control_letter(int(f'1{number:07d}'))}"
    number = 71_200_000 + n
    return Person.DocumentType.DNI, f"{number:08d}{control_letter(number)}"


def _person(n: int) -> Person:
    document_type, document_number = _document(n)
    return PersonFactory(
        first_name=FIRST_NAMES[n % len(FIRST_NAMES)], last_name_1=SURNAMES_1[n % len(SURNAMES_1)],
        last_name_2=SURNAMES_2[n % len(SURNAMES_2)], document_type=document_type,
        document_number=document_number, sex=Sex.FEMALE if n % 2 else Sex.MALE,
        birth_date=dt.date(1981, 5, 19),
    )


@pytest.fixture
def leon_centre(db) -> Organisation:
    return OrganisationFactory(
        name=LEON_CENTRE, code="ceas-leon-oeste", kind=ServiceKind.SOCIAL,
        municipality=Municipality.objects.get(code=LEON),
    )


@pytest.fixture
def world(social_services_centre, employment_office, leon_centre):
    """The pilot and its 19 persons (see the module docstring); returns (pilot, persons)."""
    pilot = Pilot.objects.create(
        name=PILOT_NAME, code=PILOT_CODE,
        community=AutonomousCommunity.objects.get(code=CASTILLA_Y_LEON),
        start_date=dt.date(2025, 10, 1), end_date=dt.date(2027, 9, 30),
        funding_lines=[FundingLine.ESF_PLUS],
        objectives="Coordinar servicios sociales y de empleo.",
    )
    pilot.organisations.set([social_services_centre, employment_office, leon_centre])
    people = [_person(n) for n in range(19)]
    valladolid_social, valladolid_employment, leon = people[:7], people[7:12], people[12:]
    for person in valladolid_social:
        enrol_on(person, social_services_centre, dt.date(2026, 2, 3))
    for person in valladolid_employment:
        enrol_on(person, employment_office, dt.date(2026, 2, 10))
    for person in leon:
        enrol_on(person, leon_centre, dt.date(2026, 3, 3))
    for person in valladolid_social[:6]:
        referral(person, social_services_centre, employment_office, at(dt.date(2026, 4, 14)),
                 accepted_after=3)
    for person in leon[:2]:
        referral(person, leon_centre, employment_office, at(dt.date(2026, 4, 15)),
                 accepted_after=5)
    return pilot, people


def forbidden_strings(people: list[Person]) -> set[str]:
    """Every name, surname and document of the seeded persons (and the document's digits alone)."""
    strings: set[str] = set()
    for person in people:
        strings |= {person.first_name, person.last_name_1, person.last_name_2,
                    person.document_number, re.sub(r"\D", "", person.document_number)}
    return strings


def leaks(text: str, people: list[Person]) -> list[str]:
    squeezed = re.sub(r"\s+", "", text)  # a name split over two lines of a PDF table cell
    return sorted(s for s in forbidden_strings(people) if s in text or s in squeezed)


def section(text: str, start: str, end: str) -> str:
    """The text of a PDF from a heading to the next one (AssertionError if either is missing)."""
    assert start in text, start
    part = text[text.index(start):]
    assert end in part, end
    return part[:part.index(end)]


# --- Reading the page ----------------------------------------------------------------------

HEADLINE_JS = """() => Object.fromEntries(
  [...document.querySelectorAll('section[aria-labelledby="headline-title"] table tbody tr')].map(
    tr => [tr.querySelector('th').innerText.trim(), tr.querySelector('td').innerText.trim()]))"""

GRID_JS = """(titleId) => {
  const table = document.querySelector(`section[aria-labelledby="${titleId}"] table`);
  const header = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
  return [...table.querySelectorAll('tbody tr')].map(tr => {
    const th = tr.querySelector('th');
    const tds = [...tr.querySelectorAll('td')];
    return {
      label: th.firstChild.textContent.trim(),
      selected: tr.classList.contains('selected'),
      cells: Object.fromEntries(tds.map((td, i) => [header[i + 1], td.innerText.trim()])),
      suppressed: Object.fromEntries(
        tds.map((td, i) => [header[i + 1], td.classList.contains('suppressed')])),
    };
  });
}"""

CHARTS_JS = """() => [...document.querySelectorAll('canvas[data-chart]')].map(canvas => {
  const chart = window.Chart ? window.Chart.getChart(canvas) : undefined;
  let painted = 0;
  if (canvas.width && canvas.height) {
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) painted++; }
  }
  return {name: canvas.dataset.chart, drawn: !!chart, labels: chart ? chart.data.labels : null,
          datasets: chart ? chart.data.datasets.map(d => ({label: d.label, data: d.data})) : null,
          visible: canvas.getBoundingClientRect().height > 0, painted};
})"""


def headline(page) -> dict[str, str]:
    return page.evaluate(HEADLINE_JS)


def grid(page, title_id: str) -> dict[str, dict]:
    return {row["label"]: row for row in page.evaluate(GRID_JS, title_id)}


def charts(page) -> dict[str, dict]:
    return {chart["name"]: chart for chart in page.evaluate(CHARTS_JS)}


def external(url: str, live_server) -> bool:
    parts = urlsplit(url)
    own = urlsplit(live_server.url).netloc
    return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != own


def watch_requests(page, live_server) -> list[str]:
    """Every URL the page requests; a request to another host is recorded, then aborted."""
    seen: list[str] = []
    page.context.on("request", lambda request: seen.append(request.url))
    page.context.route(lambda url: external(url, live_server), lambda route: route.abort())
    return seen


def outside(requests: list[str], live_server) -> list[str]:
    return [url for url in requests if external(url, live_server)]


def open_dashboard(page, shots, evaluator) -> None:
    page.goto("/")
    shots(page, "login")
    login(page, evaluator.username, TEST_PASSWORD)
    assert urlsplit(page.url).path == reverse("evaluation:home")
    assert "Evaluación de proyectos piloto" in page.inner_text("h1")
    shots(page, "evaluation-home")
    page.get_by_role("link", name=PILOT_NAME).click()
    page.wait_for_load_state("networkidle")
    assert page.inner_text("h1") == PILOT_NAME
    shots(page, "dashboard")


def filter_by_territory(page, label: str) -> None:
    page.get_by_label("Territorio", exact=True).select_option(label=label)
    page.get_by_role("button", name="Aplicar").click()
    page.wait_for_load_state("networkidle")


# --- Tests -------------------------------------------------------------------------------------


def test_dashboard_draws_local_charts_and_the_territory_filter_changes_the_figures(
        new_page, shots, live_server, evaluator, world):
    _pilot, people = world
    page = new_page()
    requests = watch_requests(page, live_server)
    open_dashboard(page, shots, evaluator)

    # The charts: Chart.js from the app's own static files, three canvases drawn and painted.
    drawn = charts(page)
    assert set(drawn) == {"trend", "territory", "organisation"}
    for name, chart in drawn.items():
        assert chart["drawn"] and chart["visible"] and chart["painted"] > 0, (name, chart)
    assert drawn["territory"]["labels"] == ["León", "Valladolid"]
    assert drawn["organisation"]["labels"] == [LEON_CENTRE, "CEAS Valladolid Centro",
                                               "Oficina de Empleo Valladolid Centro"]
    assert any(urlsplit(url).path == "/static/js/chart.umd.min.js" for url in requests)
    assert outside(requests, live_server) == []

    # The whole pilot.
    figures = headline(page)
    assert (figures[ATTENDED], figures[SENT], figures[RECEIVED]) == ("19", "8", "8")
    assert "Selección: Todo el piloto" in page.inner_text("p.selection")
    assert set(grid(page, "organisation-title")) == {LEON_CENTRE, "CEAS Valladolid Centro",
                                                    "Oficina de Empleo Valladolid Centro"}
    assert leaks(page.content(), people) == []
    assert axe_violations(page) == []

    # Filtered by León: 7 persons, and its 2 referrals (2 persons) shown as "<5".
    filter_by_territory(page, "León")
    assert parse_qs(urlsplit(page.url).query)["territorio"] == [LEON_PROVINCE]
    shots(page, "dashboard-leon")
    figures = headline(page)
    assert (figures[ATTENDED], figures[SENT], figures[RECEIVED]) == ("7", SUPPRESSED, "0")
    assert "Selección: León" in page.inner_text("p.selection")
    territories = grid(page, "territory-title")
    assert territories["León"]["selected"] and not territories["Valladolid"]["selected"]
    assert territories["León"]["cells"][ATTENDED] == "7"
    assert territories["Valladolid"]["cells"][ATTENDED] == "12"
    assert territories["León"]["cells"][SENT] == SUPPRESSED
    assert territories["León"]["suppressed"][SENT]
    organisations = grid(page, "organisation-title")
    assert list(organisations) == [LEON_CENTRE]
    assert organisations[LEON_CENTRE]["cells"][ATTENDED] == "7"
    assert charts(page)["organisation"]["labels"] == [LEON_CENTRE]
    download_links = page.get_by_role("list", name="Descargas").get_by_role("link")
    for href in download_links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert parse_qs(urlsplit(href).query)["territorio"] == [LEON_PROVINCE], href
    assert axe_violations(page) == []

    # Filtered by Valladolid: 12 persons, and only its two organisations.
    filter_by_territory(page, "Valladolid")
    shots(page, "dashboard-valladolid")
    assert headline(page)[ATTENDED] == "12"
    assert "Selección: Valladolid" in page.inner_text("p.selection")
    assert set(grid(page, "organisation-title")) == {"CEAS Valladolid Centro",
                                                    "Oficina de Empleo Valladolid Centro"}
    assert outside(requests, live_server) == []


def _download(page, link_name: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    download = info.value
    assert download.failure() is None
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def _open_inline(page, link_name: str, folder: Path) -> Path:
    """Follow the link to a PDF that the browser shows in its viewer; keep the bytes it received.

    The viewer replaces the body of the page's response with its own HTML, so the response
    is read where it enters the browser (a route that fetches it and passes it on unchanged)."""
    link = page.get_by_role("link", name=link_name)
    target = urlsplit(link.get_attribute("href")).path
    received = {}

    def keep(route):
        response = route.fetch()
        received.update(status=response.status, headers=response.headers, body=response.body())
        route.fulfill(response=response)

    page.route(lambda url: urlsplit(url).path == target, keep)
    try:
        with page.expect_response(lambda response: urlsplit(response.url).path == target):
            link.click()
        page.wait_for_load_state("load")
    finally:
        page.unroute_all()
    assert received["status"] == 200
    assert received["headers"]["content-type"] == "application/pdf"
    assert urlsplit(page.url).path == target  # the browser shows the report itself
    disposition = received["headers"]["content-disposition"]
    assert disposition.startswith("inline;"), disposition
    path = folder / re.search(r'filename="([^"]+)"', disposition).group(1)
    path.write_bytes(received["body"])
    return path


def test_the_xlsx_download_and_the_pdf_report_hold_aggregates_and_no_person(
        new_page, shots, live_server, evaluator, world):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    _pilot, people = world
    page = new_page()
    open_dashboard(page, shots, evaluator)
    filter_by_territory(page, "León")
    folder = shots(page, "dashboard-leon").parent

    # XLSX: the protected cells of the dashboard's selection (León), which it names; no person.
    xlsx = _download(page, "Indicadores (XLSX)", folder)
    shots(page, "xlsx-downloaded")
    assert xlsx.name == f"ris-indicadores-{PILOT_CODE}-2025-10-a-2026-11-leon-provisional.xlsx"
    workbook = load_workbook(xlsx)
    assert {"Información", "Indicadores", "Definiciones"} <= set(workbook.sheetnames)
    about = {row[0]: row[1:] for row in workbook["Información"].iter_rows(values_only=True)}
    assert about["Proyecto piloto"][0] == PILOT_NAME
    assert about["Periodo"][0] == "01/10/2025 – 30/11/2026"
    assert about["Selección"][0] == "León"
    rows = list(workbook["Indicadores"].iter_rows(values_only=True))
    assert rows[0] == ("Código", "Indicador", "Desglose", "Valor del desglose", "Valor")
    values = {(code, breakdown, key or ""): value
              for code, _label, breakdown, key, value in rows[1:]}
    assert values[("persons_attended", "Total", "")] == 7
    assert values[("persons_attended", "Organización", LEON_CENTRE)] == 7
    assert values[("referrals_sent", "Total", "")] == SUPPRESSED
    assert values[("referrals_sent", "Organización", LEON_CENTRE)] == SUPPRESSED
    assert not [key for _code, _breakdown, key in values if "Valladolid" in key], "only León's cells"
    workbook_text = "\n".join(str(value) for sheet in workbook
                              for row in sheet.iter_rows(values_only=True)
                              for value in row if value is not None)
    assert leaks(workbook_text, people) == []

    # PDF: the report of the selection (León), no person. The app serves it ``inline``
    # (pilots/views.py, report), so Chromium opens it in its viewer instead of downloading it:
    # the file is the body of the response the link led to.
    pdf = _open_inline(page, "Informe en PDF", folder)
    shots(page, "pdf-opened")
    assert pdf.name == f"ris-informe-{PILOT_CODE}-2025-10-a-2026-11-leon-provisional.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    text = "\n".join(page_.extract_text() for page_ in reader.pages)
    (folder / f"{pdf.stem}.txt").write_text(text, encoding="utf-8")
    assert f"Informe de evaluación · {PILOT_NAME}" in text
    assert "Selección: León" in text
    headline_part = section(text, "Indicadores de la plataforma · León", "Evolución mensual")
    assert re.search(rf"\n{ATTENDED}\s+7\s", headline_part), "7 persons attended in León"
    assert re.search(rf"\n{SENT}\s+{SUPPRESSED}\s", headline_part), "León's 2 referrals: <5"
    territory_part = section(text, "Comparación por territorio", "Comparación por organización")
    assert re.search(r"\nLeón\s+7\s", territory_part)
    assert re.search(r"\nValladolid\s+12\s", territory_part)
    organisation_part = section(text, "Comparación por organización", "FSE+ · ")
    assert re.search(rf"\n{LEON_CENTRE}\s+7\s", organisation_part)
    assert "Valladolid" not in organisation_part, "the other territory's organisations are left out"
    esf_part = section(text, "FSE+ · ", "Desempleadas")
    assert re.search(r"Número total de participantes\s+Anexo I, 1.1\s+9\s+10\s+0\s+19\s",
                     esf_part), "the whole pilot's participants: 9 women, 10 men"
    metadata = " ".join(str(value) for value in (reader.metadata or {}).values())
    assert leaks(text + "\n" + metadata, people) == []


def test_a_person_s_record_is_a_404_for_the_evaluator_in_the_browser(
        new_page, shots, live_server, evaluator, world):
    _pilot, people = world
    person = people[12]  # attended by CEAS León Oeste, a pilot organisation
    page = new_page()
    open_dashboard(page, shots, evaluator)
    for name, url in (("record", reverse("workspace:person_record", args=[person.pk])),
                      ("record-api", reverse("api:person_record", args=[person.pk]))):
        response = page.goto(url)
        assert response.status == 404, url
        assert urlsplit(page.url).path == url  # answered where asked: no detour to the login page
        shots(page, f"person-{name}-404")
        assert leaks(page.content(), [person]) == []
