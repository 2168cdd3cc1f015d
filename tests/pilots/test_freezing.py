"""Closed periods are frozen: their published figures are computed once and never change.

A period closes when it has ended and the pilot's grace days (7 by default) have passed. Its
protected figures are then stored (``FrozenPeriod``, append-only in the database) by the
nightly task, or by the first page that reads the pilot if the task has not run, and every
later page, download and report of that period serves them. A person recorded afterwards
with a date in the closed period changes nothing that was published there; periods still
open are computed live and say they are provisional. A correction is a new version, made by
an administrator with a reason that the period's pages then show.

The world, relative to today: two months ago (closed) CEAS Valladolid Centro (S) attends 7
persons and CEAS León (L) 2, S refers 6 of them to the employment office (E) and L its 2;
this month (open) S attends 6 more.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from pilots import schedule, services, tasks
from pilots.models import FrozenPeriod
from pilots.periods import month_end, month_start
from ris.celery import app
from tests.factories import PersonFactory

from .attacker import read_csv
from .builders import at, referral
from .conftest import enrol_on

pytestmark = pytest.mark.django_db


def months_ago(n: int) -> dt.date:
    year, month = divmod(timezone.localdate().year * 12 + timezone.localdate().month - 1 - n, 12)
    return dt.date(year, month + 1, 1)


CLOSED = months_ago(2)  # ended more than 7 days ago, whatever the day of the month today
OPEN = months_ago(0)
CLOSED_CODE, OPEN_CODE = f"{CLOSED:%Y-%m}", f"{OPEN:%Y-%m}"
PROVISIONAL = "Datos provisionales: el periodo no ha terminado"


def attend(organisation, month: dt.date, n: int, receiver=None, day: int = 3):
    people = [PersonFactory() for _ in range(n)]
    for person in people:
        enrol_on(person, organisation, month.replace(day=day), month.replace(day=day + 15))
        if receiver is not None:
            referral(person, organisation, receiver, at(month.replace(day=day + 2)))
    return people


@pytest.fixture
def world(pilot, social_services_centre, employment_office, leon_centre):
    people = attend(social_services_centre, CLOSED, 7)
    for person in people[:6]:
        referral(person, social_services_centre, employment_office, at(CLOSED.replace(day=6)))
    attend(leon_centre, CLOSED, 2, receiver=employment_office)
    attend(social_services_centre, OPEN, 6, day=1)
    return pilot


def late_records(social_services_centre, employment_office, leon_centre):
    """Recorded after the closed month was frozen, dated in it: a person at S and one at León."""
    attend(social_services_centre, CLOSED, 1, receiver=employment_office, day=10)
    attend(leon_centre, CLOSED, 1, receiver=employment_office, day=11)


# --- What the pages publish ------------------------------------------------------------------------


def without_timestamp(text: str) -> str:
    return re.sub(r"\d\d/\d\d/\d{4} \d\d:\d\d", "<generado>", text)


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return without_timestamp("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def xlsx_rows(content: bytes) -> dict[str, list]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content))
    return {sheet.title: [tuple(without_timestamp(str(v)) for v in row) for row in sheet.iter_rows(values_only=True)]
            for sheet in workbook}


def published(client, pilot, query: dict) -> dict:
    """Everything an evaluator reads of a selection: the dashboard's cells, the CSV and XLSX
    downloads, the ESF+ download and the PDF report (the time it was generated left out)."""
    def get(name, *args):
        return client.get(reverse(f"evaluation:{name}", args=[pilot.pk, *args]), query)

    board = get("dashboard").context["board"]
    return {
        "headline": {t.measure.code: c.shown for t, c in board.headline},
        "territories": [[c.shown if c else None for c in row.cells] for row in board.by_territory.rows],
        "organisations": [[c.shown if c else None for c in row.cells] for row in board.by_organisation.rows],
        "trend": [[c.shown if c else None for c in row.cells] for row in board.trend.rows] if board.trend else [],
        "csv": without_timestamp(get("download", "indicadores", "csv").content.decode("utf-8-sig")),
        "xlsx": xlsx_rows(get("download", "indicadores", "xlsx").content),
        "esf.csv": without_timestamp(get("download", "fse", "csv").content.decode("utf-8-sig")),
        "pdf": pdf_text(get("report").content),
    }


def test_a_person_added_to_a_closed_month_after_it_was_frozen_changes_nothing_published(
    client_for, evaluator, world, social_services_centre, employment_office, leon_centre,
):
    client = client_for(evaluator)
    selections = [{"periodo": CLOSED_CODE}, {"periodo": CLOSED_CODE, "territorio": "24"},
                  {"periodo": CLOSED_CODE, "organizacion": social_services_centre.pk}]
    before = [published(client, world, query) for query in selections]
    assert before[0]["headline"]["persons_attended"] == 9
    assert before[0]["headline"]["referrals_sent"] == 8
    assert "Datos cerrados el" in before[0]["csv"] and "Datos cerrados el" in before[0]["pdf"]

    late_records(social_services_centre, employment_office, leon_centre)
    after = [published(client, world, query) for query in selections]
    for query, old, new in zip(selections, before, after, strict=True):
        for what in old:
            assert new[what] == old[what], (query, what)
    year = client.get(reverse("evaluation:dashboard", args=[world.pk]), {"periodo": "piloto"}).context["board"]
    trend = {row.label: row.cells for row in year.trend.rows}
    assert trend[CLOSED.strftime("%m/%Y")][0].shown == before[0]["headline"]["persons_new"]  # the month, frozen


def test_an_open_period_is_computed_live_and_says_it_is_provisional(
    client_for, evaluator, world, social_services_centre, employment_office, leon_centre,
):
    client = client_for(evaluator)
    url = reverse("evaluation:dashboard", args=[world.pk])
    before = {t.measure.code: c.shown for t, c in client.get(url, {"periodo": "piloto"}).context["board"].headline}
    month = {t.measure.code: c.shown for t, c in client.get(url, {"periodo": OPEN_CODE}).context["board"].headline}
    assert month["persons_new"] == 6
    late_records(social_services_centre, employment_office, leon_centre)
    attend(social_services_centre, OPEN, 1, day=2)
    response = client.get(url, {"periodo": "piloto"})
    after = {t.measure.code: c.shown for t, c in response.context["board"].headline}
    assert after["persons_attended"] == before["persons_attended"] + 3  # two late records, one new
    assert PROVISIONAL in response.content.decode()
    new_month = {t.measure.code: c.shown for t, c in client.get(url, {"periodo": OPEN_CODE}).context["board"].headline}
    assert new_month["persons_new"] == 7
    csv = client.get(reverse("evaluation:download", args=[world.pk, "indicadores", "csv"]), {"periodo": OPEN_CODE})
    assert PROVISIONAL in csv.content.decode("utf-8-sig")
    assert read_csv(csv.content).rows  # still a file the attacker (and a spreadsheet) reads
    assert PROVISIONAL in pdf_text(client.get(reverse("evaluation:report", args=[world.pk]),
                                              {"periodo": OPEN_CODE}).content)


def test_a_period_in_its_grace_days_is_still_provisional_and_says_when_it_closes(client_for, evaluator, world):
    world.freeze_after_days = 92
    world.save()
    last_month = months_ago(1)
    response = client_for(evaluator).get(reverse("evaluation:dashboard", args=[world.pk]),
                                         {"periodo": f"{last_month:%Y-%m}"})
    closes = month_end(last_month) + dt.timedelta(days=93)
    assert (f"Datos provisionales: el periodo terminó el {month_end(last_month):%d/%m/%Y} y sus cifras se "
            f"cierran el {closes:%d/%m/%Y}") in response.content.decode()
    assert not FrozenPeriod.objects.filter(start=last_month).exists()


# --- The snapshot -------------------------------------------------------------------------------------


def test_the_database_refuses_to_change_or_delete_a_frozen_period(world):
    services.periods_freeze(pilot_id=world.pk)
    row = FrozenPeriod.objects.filter(start=CLOSED, end=month_end(CLOSED)).get()
    for sql in ("UPDATE pilots_frozenperiod SET figures = '{}'::jsonb", "UPDATE pilots_frozenperiod SET version = 9",
                "DELETE FROM pilots_frozenperiod"):
        with pytest.raises(DatabaseError, match="pgtrigger: Cannot update or delete"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    with pytest.raises(DatabaseError, match="pgtrigger"), transaction.atomic():
        row.save()
    with pytest.raises(DatabaseError, match="pgtrigger"), transaction.atomic():
        FrozenPeriod.objects.filter(pk=row.pk).delete()
    assert FrozenPeriod.objects.get(pk=row.pk).figures == row.figures


def test_the_snapshot_holds_what_was_published_and_never_a_suppressed_value(world, leon_centre):
    services.periods_freeze(pilot_id=world.pk)
    figures = FrozenPeriod.objects.get(start=CLOSED, end=month_end(CLOSED)).figures
    attended = figures["indicators"]["persons_attended"]
    assert attended["total"] == 9
    assert attended["org"][str(leon_centre.pk)] == "<5" and attended["territory"]["24"] == "<5"
    assert figures["esf"]["outputs"]["total"]["total"] == 9


def test_the_first_page_and_the_nightly_task_freeze_the_same_figures(client_for, evaluator, world):
    client = client_for(evaluator)
    with transaction.atomic():
        client.get(reverse("evaluation:dashboard", args=[world.pk]))
        on_request = {(r.start, r.end): r.figures for r in FrozenPeriod.objects.all()}
        origins = set(FrozenPeriod.objects.values_list("origin", flat=True))
        transaction.set_rollback(True)
    assert origins == {FrozenPeriod.Origin.ON_REQUEST}
    assert not FrozenPeriod.objects.exists()

    summary = tasks.freeze_closed_periods.apply().get()
    nightly = {(r.start, r.end): r.figures for r in FrozenPeriod.objects.all()}
    assert set(FrozenPeriod.objects.values_list("origin", flat=True)) == {FrozenPeriod.Origin.SCHEDULED}
    assert nightly == on_request
    assert (CLOSED, month_end(CLOSED)) in nightly and (OPEN, month_end(OPEN)) not in nightly
    assert summary == {"pilots": 1, "periods_frozen": len(nightly)}
    assert tasks.freeze_closed_periods.apply().get()["periods_frozen"] == 0  # idempotent
    client.get(reverse("evaluation:dashboard", args=[world.pk]))
    assert FrozenPeriod.objects.count() == len(nightly)  # the page found nothing left to freeze


def test_a_later_month_is_frozen_around_the_periods_frozen_before(world, social_services_centre):
    """The periods frozen earlier are locked when the next ones close: their figures and their
    "<5" are kept, and the new figures are protected around them."""
    today = timezone.localdate()
    earlier = services.periods_freeze(pilot_id=world.pk, today=month_start(today) - dt.timedelta(days=40))
    first = {(r.start, r.end): r.figures for r in earlier}
    services.periods_freeze(pilot_id=world.pk)
    rows = {(r.start, r.end): r.figures for r in FrozenPeriod.objects.all()}
    assert all(rows[span] == figures for span, figures in first.items())
    assert len(rows) > len(first)


def test_the_nightly_freeze_is_declared_on_the_pilots_beat_schedule():
    entry = schedule.BEAT_SCHEDULE["pilots-freeze-closed-periods"]
    assert entry["task"] == tasks.freeze_closed_periods.name == "pilots.freeze_closed_periods"
    assert entry["task"] in app.tasks
    assert tasks.freeze_closed_periods.max_retries == 5 and tasks.freeze_closed_periods.acks_late


def test_the_beat_runs_the_nightly_freeze():
    assert settings.CELERY_BEAT_SCHEDULE["pilots-freeze-closed-periods"] == \
        schedule.BEAT_SCHEDULE["pilots-freeze-closed-periods"]


# --- Corrections ------------------------------------------------------------------------------------


def correction_url() -> str:
    return reverse("admin:pilots_frozenperiod_add")


def test_an_administrator_corrects_a_closed_month_with_a_reason_and_the_pages_say_so(
    client_for, administrator, evaluator, world, social_services_centre, employment_office, leon_centre,
):
    reader = client_for(evaluator)
    url = reverse("evaluation:download", args=[world.pk, "indicadores", "csv"])
    before = read_csv(reader.get(url, {"periodo": CLOSED_CODE}).content)
    total = {r[0]: r[4] for r in before.rows if r[2] == "Total"}
    assert total["persons_attended"] == "9"
    late_records(social_services_centre, employment_office, leon_centre)

    admin = client_for(administrator)
    assert admin.get(correction_url()).status_code == 200
    reason = "Altas del mes registradas con retraso por el CEAS"
    response = admin.post(correction_url(), {"pilot": world.pk, "periodo": CLOSED_CODE, "reason": reason})
    assert response.status_code == 302, response.context["adminform"].form.errors
    corrected = FrozenPeriod.objects.filter(version=2)
    spans = {(r.start, r.end) for r in corrected}
    assert (CLOSED, month_end(CLOSED)) in spans
    assert all(r.reason == reason and r.recorded_by == administrator and r.origin == "correction" for r in corrected)
    assert all(s[0] <= CLOSED <= s[1] for s in spans)  # the month and the closed periods holding it
    assert FrozenPeriod.objects.filter(start=CLOSED, end=month_end(CLOSED), version=1).exists()  # kept

    response = reader.get(url, {"periodo": CLOSED_CODE})
    after = read_csv(response.content)
    assert {r[0]: r[4] for r in after.rows if r[2] == "Total"}["persons_attended"] == "11"
    assert f"Motivo de la corrección: {reason}" in response.content.decode("utf-8-sig")
    assert response["Content-Disposition"].endswith(f'-{CLOSED_CODE}-v2.csv"')
    page = reader.get(reverse("evaluation:dashboard", args=[world.pk]), {"periodo": CLOSED_CODE})
    assert "(versión 2)" in page.content.decode()


def test_an_open_period_or_a_correction_without_reason_is_refused(client_for, administrator, world):
    admin = client_for(administrator)
    response = admin.post(correction_url(), {"pilot": world.pk, "periodo": OPEN_CODE, "reason": "Revisión"})
    assert response.status_code == 200
    assert "no está cerrado" in str(response.context["adminform"].form.errors["periodo"])
    response = admin.post(correction_url(), {"pilot": world.pk, "periodo": CLOSED_CODE, "reason": "  "})
    assert response.status_code == 200 and response.context["adminform"].form.errors["reason"]
    response = admin.post(correction_url(), {"pilot": world.pk, "periodo": "2019-01", "reason": "Revisión"})
    assert "no existe" in str(response.context["adminform"].form.errors["periodo"])
    assert not FrozenPeriod.objects.filter(version__gt=1).exists()


def test_frozen_periods_are_read_in_the_admin_never_changed_or_deleted(client_for, administrator, world,
                                                                      django_assert_max_num_queries):
    services.periods_freeze(pilot_id=world.pk)
    row = FrozenPeriod.objects.filter(start=CLOSED).first()
    admin = client_for(administrator)
    with django_assert_max_num_queries(12):
        response = admin.get(reverse("admin:pilots_frozenperiod_changelist"))
    assert response.status_code == 200 and response.context["cl"].result_count == FrozenPeriod.objects.count()
    assert admin.get(reverse("admin:pilots_frozenperiod_changelist"), {"q": "Valladolid"}).status_code == 200
    assert admin.get(reverse("admin:pilots_frozenperiod_change", args=[row.pk])).status_code == 200
    assert admin.post(reverse("admin:pilots_frozenperiod_change", args=[row.pk]), {"reason": "x"}).status_code == 403
    assert admin.post(reverse("admin:pilots_frozenperiod_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    assert FrozenPeriod.objects.get(pk=row.pk).reason == ""


# --- File names -------------------------------------------------------------------------------------


def test_download_file_names_state_the_pilot_the_period_and_the_selection(
    client_for, evaluator, world, social_services_centre,
):
    client = client_for(evaluator)
    pilot = world.code
    whole = f"{world.start_date:%Y-%m}-a-{OPEN:%Y-%m}"
    cases = [
        ("download", ("indicadores", "csv"), {"periodo": CLOSED_CODE, "territorio": "24"},
         f'attachment; filename="ris-indicadores-{pilot}-{CLOSED_CODE}-leon.csv"'),
        ("download", ("indicadores", "xlsx"), {"periodo": CLOSED_CODE, "organizacion": social_services_centre.pk},
         f'attachment; filename="ris-indicadores-{pilot}-{CLOSED_CODE}-ceas-valladolid-centro.xlsx"'),
        ("download", ("indicadores", "csv"), {"periodo": OPEN_CODE},
         f'attachment; filename="ris-indicadores-{pilot}-{OPEN_CODE}-provisional.csv"'),
        ("download", ("fse", "xlsx"), {"periodo": "piloto", "territorio": "24"},
         f'attachment; filename="ris-fse-{pilot}-{whole}-provisional.xlsx"'),
        ("report", (), {"periodo": CLOSED_CODE, "territorio": "24"},
         f'inline; filename="ris-informe-{pilot}-{CLOSED_CODE}-leon.pdf"'),
        ("report", (), {}, f'inline; filename="ris-informe-{pilot}-{whole}-provisional.pdf"'),
    ]
    for name, args, query, expected in cases:
        disposition = client.get(reverse(f"evaluation:{name}", args=[world.pk, *args]), query)["Content-Disposition"]
        assert disposition == expected, query
        assert disposition.isascii()
