"""Merging two records of the same person (administrators, /espacio/personas/fusionar/).

- Everything that points at the merged record moves to the surviving one: entries of
  every section, household memberships, enrolments, guardian permissions, reference
  professionals, and any other table that points at a person.
- Consents and the disclosure log are append-only: their rows stay as written, and
  ``cases.merge.merged_ids`` / ``surviving_id`` follow the merge.
- A clash is resolved in favour of the surviving record (an enrolment in the same
  organisation is closed, a duplicate permission dropped); overlapping households refuse
  the merge, and then nothing changes.
- The merge is logged (disclosure log, both records; admin history, with the reason).
- The preview is the merge done and rolled back: it changes nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from cases.merge import (
    _is_append_only,
    merge_persons_action,
    merged_ids,
    person_merge,
    person_relations,
    surviving_id,
)
from cases.models import (
    DiaryEntry,
    HealthRecord,
    HouseholdMember,
    JobSeekerRecord,
    Person,
    ReferenceProfessional,
    SocialFolderIntervention,
)
from consent.models import Consent
from ris.accounts.viewer import Viewer
from sharing.caseload import organisation_attends, persons_attended_by
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import DisclosureLogEntry, Enrolment, PersonGroupObjectPermission
from tests.factories import (
    ConsentFactory,
    HouseholdFactory,
    HouseholdMemberFactory,
    PersonFactory,
    enrol,
    make_section_entry,
)

URL = "/espacio/personas/fusionar/"


@pytest.fixture
def admin_viewer(administrator) -> Viewer:
    return Viewer.from_membership(administrator.memberships.select_related("organisation").get())


@pytest.fixture
def pair(social_services_centre, employment_office, ngo, social_worker, employment_counsellor):
    """Two records of Josefina: the surviving one at the social services centre; the duplicate
    there too, and at the employment office, with data of every kind."""
    surviving = PersonFactory(first_name="Josefina", last_name_1="Arrabal")
    merged = PersonFactory(first_name="Josefina", last_name_1="Arraval")
    enrol(surviving, social_services_centre)
    enrol(merged, social_services_centre)
    enrol(merged, employment_office)
    ReferenceProfessional.objects.create(
        person=surviving, organisation=social_services_centre, professional=social_worker
    )
    ReferenceProfessional.objects.create(
        person=merged, organisation=social_services_centre, professional=social_worker
    )
    ReferenceProfessional.objects.create(
        person=merged, organisation=employment_office, professional=employment_counsellor
    )
    entries = [
        make_section_entry(HealthRecord, person=merged, organisation=social_services_centre),
        make_section_entry(JobSeekerRecord, person=merged, organisation=employment_office),
        make_section_entry(SocialFolderIntervention, person=merged, organisation=ngo),
        make_section_entry(DiaryEntry, person=merged, organisation=employment_office),
    ]
    household = HouseholdFactory()
    HouseholdMemberFactory(
        household=household, person=merged, start_date=timezone.localdate() - dt.timedelta(days=300)
    )
    HouseholdMemberFactory(
        household=HouseholdFactory(),
        person=surviving,
        start_date=timezone.localdate() - dt.timedelta(days=900),
        end_date=timezone.localdate() - dt.timedelta(days=400),
    )
    consent = ConsentFactory(person=merged)
    disclosure_log_append(
        [LogLine(event="disclosure", channel="web", person_id=merged.pk, category="salud")]
    )
    return {
        "surviving": surviving,
        "merged": merged,
        "entries": entries,
        "consent": consent,
        "household": household,
    }


def do_merge(client, pair, reason="Duplicado: mismo nombre con una errata y la misma fecha"):
    return client.post(
        URL,
        {
            "surviving": pair["surviving"].pk,
            "merged": pair["merged"].pk,
            "reason": reason,
            "confirm": "1",
        },
    )


# --- Everything kept ------------------------------------------------------------------------------


def test_every_entry_moves_to_the_surviving_record(client_for, administrator, pair):
    response = do_merge(client_for(administrator), pair)
    assert response.status_code == 302
    for entry in pair["entries"]:
        assert type(entry).objects.get(pk=entry.pk).person_id == pair["surviving"].pk


def test_household_membership_moves(client_for, administrator, pair):
    do_merge(client_for(administrator), pair)
    assert (
        HouseholdMember.objects.get(household=pair["household"]).person_id == pair["surviving"].pk
    )
    assert HouseholdMember.objects.filter(person=pair["surviving"]).count() == 2


def test_enrolments_and_guardian_permissions_follow(
    client_for, administrator, pair, social_services_centre, employment_office
):
    surviving, merged = pair["surviving"], pair["merged"]
    do_merge(client_for(administrator), pair)
    assert organisation_attends(employment_office.pk, surviving.pk)
    assert organisation_attends(social_services_centre.pk, surviving.pk)
    assert not persons_attended_by(social_services_centre.pk).filter(pk=merged.pk).exists()
    assert not PersonGroupObjectPermission.objects.filter(content_object=merged).exists()
    at_centre = Enrolment.objects.filter(person=surviving, organisation=social_services_centre)
    assert at_centre.count() == 2, "the duplicate's enrolment is kept, closed"
    assert at_centre.filter(end_date__isnull=True).count() == 1
    assert Enrolment.objects.get(person=surviving, organisation=employment_office).end_date is None


def test_reference_professionals_follow_the_surviving_one_wins_a_clash(
    client_for, administrator, pair, social_worker, employment_counsellor, employment_office
):
    do_merge(client_for(administrator), pair)
    found = dict(
        ReferenceProfessional.objects.filter(person=pair["surviving"]).values_list(
            "organisation_id", "professional_id"
        )
    )
    assert found[employment_office.pk] == employment_counsellor.pk
    assert len(found) == 2
    assert not ReferenceProfessional.objects.filter(person=pair["merged"]).exists()


def test_consents_and_the_log_stay_as_written_and_are_followed(client_for, administrator, pair):
    surviving, merged = pair["surviving"], pair["merged"]
    logged_before = DisclosureLogEntry.objects.filter(person=merged).count()
    do_merge(client_for(administrator), pair)
    assert Consent.objects.get(pk=pair["consent"].pk).person_id == merged.pk
    assert DisclosureLogEntry.objects.filter(person=merged, category="salud").count() == 1
    assert (
        DisclosureLogEntry.objects.filter(person=merged).count() == logged_before + 1
    )  # + the merge line
    assert merged_ids(surviving.pk) == sorted([surviving.pk, merged.pk])
    assert surviving_id(merged.pk) == surviving.pk
    assert Consent.objects.filter(person_id__in=merged_ids(surviving.pk)).count() == 1


def test_nothing_but_append_only_tables_points_at_the_merged_record(
    client_for, administrator, pair
):
    """Whatever tables exist now or later (alerts, referrals…): none keeps the merged rows."""
    do_merge(client_for(administrator), pair)
    for model, fk in person_relations():
        if _is_append_only(model):
            continue
        left = model._base_manager.filter(**{fk.name: pair["merged"].pk}).count()
        assert left == 0, (
            f"{model._meta.label}.{fk.name} still has {left} rows of the merged record"
        )


def test_the_append_only_tables_are_the_consents_and_the_log():
    append_only = {model._meta.label for model, _ in person_relations() if _is_append_only(model)}
    assert {"consent.Consent", "sharing.DisclosureLogEntry"} <= append_only
    assert "cases.HealthRecord" not in append_only


def test_the_merge_is_logged_on_both_records_and_in_the_admin_history(
    client_for, administrator, pair
):
    surviving, merged = pair["surviving"], pair["merged"]
    do_merge(client_for(administrator), pair, reason="Alta duplicada en el CEAS")
    lines = DisclosureLogEntry.objects.filter(basis=f"merge:{merged.pk}->{surviving.pk}")
    assert sorted(lines.values_list("person_id", flat=True)) == sorted([surviving.pk, merged.pk])
    assert {(line.event, line.user_id) for line in lines} == {("lookup", administrator.pk)}
    history = LogEntry.objects.get(object_id=str(surviving.pk), user=administrator)
    assert "Alta duplicada en el CEAS" in history.change_message


def test_merges_are_followed_through_chains(admin_viewer):
    a, b, c = PersonFactory(), PersonFactory(), PersonFactory()
    person_merge(viewer=admin_viewer, surviving_id=b.pk, merged_id=c.pk, reason="duplicado")
    person_merge(viewer=admin_viewer, surviving_id=a.pk, merged_id=b.pk, reason="duplicado")
    assert merged_ids(a.pk) == sorted([a.pk, b.pk, c.pk])
    assert surviving_id(c.pk) == a.pk
    assert merged_ids(c.pk) == [c.pk]


def test_the_merge_is_kept_as_evidence_that_cannot_be_changed(client_for, administrator, pair):
    from django.db import ProgrammingError, connection, transaction

    from cases.models import PersonMerge

    do_merge(client_for(administrator), pair, reason="Alta duplicada en el CEAS")
    merge = PersonMerge.objects.get(merged=pair["merged"])
    assert (merge.surviving_id, merge.merged_by_id) == (pair["surviving"].pk, administrator.pk)
    assert merge.reason == "Alta duplicada en el CEAS" and merge.moved
    for sql in ("UPDATE cases_personmerge SET reason = 'otro'", "DELETE FROM cases_personmerge"):
        with pytest.raises(ProgrammingError, match="Cannot update or delete"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    assert PersonMerge.objects.get(pk=merge.pk).reason == "Alta duplicada en el CEAS"


def test_the_consent_of_the_merged_record_still_opens_the_surviving_one(
    client_for, administrator, employment_counsellor, pair, employment_office
):
    """A consent is evidence and stays on the record it was signed for; after the merge it
    still covers the person, so the employment office keeps seeing what it covered."""
    from consent.purposes import Purpose
    from sharing.policy import FULL, decide_all, load_facts

    surviving, merged = pair["surviving"], pair["merged"]
    viewer = Viewer.from_membership(employment_counsellor.memberships.select_related("organisation").get())

    def employment_sees_health() -> bool:
        facts = load_facts(viewer=viewer, person_id=surviving.pk, purpose=Purpose.ASSESSMENT)
        levels = {(d.category, d.source_service): d.level for d in decide_all(facts)}
        return levels.get(("competencias", "social")) == FULL

    enrol(surviving, employment_office)
    assert not employment_sees_health()  # the surviving record has no consent of its own
    do_merge(client_for(administrator), pair)
    assert employment_sees_health()


def test_the_dpo_report_of_the_surviving_record_includes_the_merged_one(
    client_for, administrator, pair
):
    from sharing.selectors import access_report

    surviving, merged = pair["surviving"], pair["merged"]
    do_merge(client_for(administrator), pair)
    report = access_report(person_id=surviving.pk)
    assert report.filter(person=merged, category="salud").exists()  # read before the merge
    # the merged record alone does not gather the surviving one's lines
    assert set(access_report(person_id=merged.pk).values_list("person_id", flat=True)) == {merged.pk}


def test_an_unmerged_person_is_followed_in_one_query(db, django_assert_num_queries):
    person = PersonFactory()
    with django_assert_num_queries(1):
        assert merged_ids(person.pk) == [person.pk]


# --- Preview and refusals -------------------------------------------------------------------------


def test_the_preview_counts_what_would_move_and_changes_nothing(client_for, administrator, pair):
    merged = pair["merged"]
    response = client_for(administrator).get(
        URL, {"permanece": pair["surviving"].pk, "fusionado": merged.pk}
    )
    assert response.status_code == 200
    report = response.context["report"]
    moved = {t.label: t.moved for t in report.tables}
    assert moved[str(HealthRecord._meta.verbose_name_plural)] == 1
    assert any(t.kept for t in report.tables)
    assert "Fusionar definitivamente" in response.content.decode()
    assert HealthRecord.objects.get(pk=pair["entries"][0].pk).person_id == merged.pk
    assert organisation_attends(pair["entries"][1].recorded_by_org_id, merged.pk)
    assert not DisclosureLogEntry.objects.filter(basis__startswith="merge:").exists()


def test_a_merge_needs_a_reason_and_keeps_the_preview(client_for, administrator, pair):
    response = do_merge(client_for(administrator), pair, reason="")
    assert response.status_code == 200
    assert "Indique el motivo de la fusión" in response.content.decode()
    assert response.context["report"] is not None
    assert HealthRecord.objects.get(pk=pair["entries"][0].pk).person_id == pair["merged"].pk


def test_overlapping_households_refuse_the_merge_and_nothing_changes(
    client_for, administrator, pair
):
    HouseholdMemberFactory(
        person=pair["surviving"], start_date=timezone.localdate() - dt.timedelta(days=100)
    )
    response = do_merge(client_for(administrator), pair)
    assert response.status_code == 200
    assert "unidades de convivencia en fechas que se solapan" in response.content.decode()
    assert HealthRecord.objects.get(pk=pair["entries"][0].pk).person_id == pair["merged"].pk
    assert not DisclosureLogEntry.objects.filter(basis__startswith="merge:").exists()


def test_a_record_cannot_be_merged_twice_or_into_itself(
    client_for, administrator, pair, admin_viewer
):
    client = client_for(administrator)
    same = client.post(
        URL,
        {
            "surviving": pair["surviving"].pk,
            "merged": pair["surviving"].pk,
            "reason": "x",
            "confirm": "1",
        },
    )
    assert "Elija dos registros distintos" in same.content.decode()
    do_merge(client, pair)
    third = PersonFactory()
    again = client.post(
        URL, {"surviving": third.pk, "merged": pair["merged"].pk, "reason": "x", "confirm": "1"}
    )
    assert "ya se fusionó en otro" in again.content.decode()
    into_merged = client.post(
        URL, {"surviving": pair["merged"].pk, "merged": third.pk, "reason": "x", "confirm": "1"}
    )
    assert "ya se fusionó en otro" in into_merged.content.decode()


def test_the_admin_action_sends_two_selected_records_to_the_merge_page(rf, administrator, pair):
    request = rf.post("/admin/cases/person/")
    request.user = administrator
    response = merge_persons_action(
        None, request, Person.objects.filter(pk__in=[pair["surviving"].pk, pair["merged"].pk])
    )
    assert response.status_code == 302
    assert response["Location"].startswith(URL)


# --- Access ---------------------------------------------------------------------------------------


def test_administrators_get_the_merge_page(client_for, administrator):
    response = client_for(administrator).get(URL)
    assert response.status_code == 200
    assert "Fusionar dos registros" in response.content.decode()


@pytest.mark.parametrize(
    "persona",
    [
        "social_worker",
        "employment_counsellor",
        "coordinator",
        "ngo_technician",
        "evaluator",
        "dpo",
        "outsider",
    ],
)
def test_nobody_else_may_merge(persona, request, client_for, pair):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 404
    assert do_merge(client, pair).status_code == 404
    assert HealthRecord.objects.get(pk=pair["entries"][0].pk).person_id == pair["merged"].pk


def test_the_administrator_role_without_staff_status_may_not_merge(client_for, administrator, pair):
    """The same rule as the admin site: staff and the administrator role."""
    administrator.is_staff = False
    administrator.save(update_fields=["is_staff"])
    client = client_for(administrator)
    assert client.get(URL).status_code == 404
    assert do_merge(client, pair).status_code == 404
    assert HealthRecord.objects.get(pk=pair["entries"][0].pk).person_id == pair["merged"].pk


def test_the_history_of_the_surviving_record_includes_changes_made_on_the_merged_one(
    client_for, administrator, social_worker, pair
):
    """The change history was written while the entries belonged to the merged record."""
    from consent.purposes import Purpose
    from sharing.history import history_for
    from sharing.policy import load_facts

    surviving = pair["surviving"]
    viewer = Viewer.from_membership(social_worker.memberships.select_related("organisation").get())

    def health_events() -> int:
        facts = load_facts(viewer=viewer, person_id=surviving.pk, purpose=Purpose.FOLLOW_UP)
        return sum(1 for row in history_for(facts) if row["category"] == "salud")

    assert health_events() == 0
    do_merge(client_for(administrator), pair)
    assert health_events() >= 1
