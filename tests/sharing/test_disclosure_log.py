"""The disclosure log: what is written for each read, and the integrity of its hash chain.

A cross-service read writes one DISCLOSURE line per disclosed (category, recording
service) pair with its basis ("consent:<id>" or "legal_basis:<id>"); special-category
reads are logged; categories refused for lack of basis are logged; the whole request
writes its lines in ONE insert. The chain verifies, detects rows edited or removed
behind the application's back (``verify_chain`` and ``manage.py verify_disclosure_log``)
and stays valid under concurrent appends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sharing.disclosure import GENESIS, LogLine, disclosure_log_append, verify_chain
from sharing.models import DisclosureLogEntry

Event = DisclosureLogEntry.Event
ROOT = Path(__file__).resolve().parents[2]


def read_record(world, channel: str = "api"):
    client = Client()
    client.force_login(world.user)
    if channel == "api":
        response = client.get(world.api_url, {"purpose": world.state.purpose})
    else:
        response = client.get(world.html_url, {"finalidad": world.state.purpose})
    assert response.status_code == 200
    return response


def lines(world, **filters):
    return list(
        DisclosureLogEntry.objects.filter(person=world.person, user=world.user, **filters).order_by(
            "id"
        )
    )


def inserts_into_log(queries) -> int:
    """Statements that write the log: the append function (one INSERT of every line of a
    request, after the lock and the tail read, all in one round trip) or a direct INSERT."""
    return sum(
        1
        for q in queries
        if q["sql"].lstrip().upper().startswith('INSERT INTO "SHARING_DISCLOSURELOGENTRY"')
        or "FROM ris_disclosure_append(" in q["sql"]
    )


# --- What a read writes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state_name,basis_kind", [("consent_org", "consent"), ("legal_basis_by_law", "legal_basis")]
)
@pytest.mark.parametrize("channel", ["api", "html"])
def test_a_cross_service_read_logs_one_disclosure_per_pair_with_its_basis(
    state_name,
    basis_kind,
    channel,
    make_world,
    oracle,
):
    profile, state = oracle.BY_KEY["orientador"], oracle.STATE[state_name]
    world = make_world(profile, state)
    read_record(world, channel)
    disclosed = [
        (c, s)
        for c, s in oracle.PAIRS
        if not oracle.is_own(profile, s)
        and oracle.expected_level(profile, state, c, s) != oracle.HIDDEN
    ]
    assert disclosed, "the state must disclose something"
    logged = lines(world, event=Event.DISCLOSURE)
    expected = Counter((c, oracle.expected_level(profile, state, c, s)) for c, s in disclosed)
    assert Counter((e.category, e.level) for e in logged) == expected
    for entry in logged:
        allowed = set().union(
            *(world.allowed_bases(c, s) for c, s in disclosed if c == entry.category)
        )
        assert entry.basis.startswith(f"{basis_kind}:") and entry.basis in allowed, (
            entry.category,
            entry.basis,
        )
        assert entry.purpose == state.purpose and entry.role == profile.role
        assert entry.organisation_id == world.orgs["viewer"].pk
        assert entry.channel == ("api" if channel == "api" else "web")
    assert all(e.request_id for e in logged)
    assert len({e.request_id for e in logged}) == 1, "one request, one request id"


def test_each_disclosure_names_the_exact_consent(make_world, oracle):
    world = make_world(oracle.BY_KEY["orientador"], oracle.STATE["consent_org"])
    read_record(world)
    assert {e.basis for e in lines(world, event=Event.DISCLOSURE)} == {
        f"consent:{world.consent_ids[0]}"
    }


def test_each_disclosure_names_the_legal_basis_of_its_source_service(make_world, oracle):
    profile, state = oracle.BY_KEY["trabajadora_social"], oracle.STATE["legal_basis_by_law"]
    world = make_world(profile, state)
    read_record(world)
    got = {(e.category, e.basis) for e in lines(world, event=Event.DISCLOSURE)}
    expected = set()
    for category, source in oracle.PAIRS:
        if (
            oracle.is_own(profile, source)
            or oracle.expected_level(profile, state, category, source) == oracle.HIDDEN
        ):
            continue
        expected.add((category, f"legal_basis:{world.legal_basis_ids[(0, source)]}"))
    assert got == expected


def test_special_category_reads_are_logged(make_world, oracle):
    own = make_world(oracle.BY_KEY["trabajadora_social"], oracle.STATE["no_consent"])
    read_record(own)
    special = lines(own, event=Event.SPECIAL_READ)
    assert [(e.category, e.level, e.basis) for e in special] == [
        ("salud", oracle.FULL, "own_service")
    ]

    cross = make_world(oracle.BY_KEY["orientador"], oracle.STATE["consent_org"])
    read_record(cross)
    salud = [e for e in lines(cross) if e.category == "salud"]
    assert [(e.event, e.level) for e in salud] == [(Event.DISCLOSURE, oracle.INDICATOR)]


def test_categories_refused_for_lack_of_basis_are_logged(make_world, oracle):
    profile, state = oracle.BY_KEY["orientador"], oracle.STATE["no_consent"]
    world = make_world(profile, state)
    read_record(world)
    refused = Counter(e.category for e in lines(world, event=Event.REFUSED))
    expected = Counter(
        c
        for c, s in oracle.PAIRS
        if not oracle.is_own(profile, s)
        and oracle.matrix_cap(profile, state, c) != oracle.HIDDEN
        and oracle.expected_level(profile, state, c, s) == oracle.HIDDEN
    )
    assert refused == expected
    assert all(
        e.level == oracle.HIDDEN and e.basis == "" for e in lines(world, event=Event.REFUSED)
    )
    assert not lines(world, event=Event.DISCLOSURE)


@pytest.mark.parametrize(
    "state_name,category",
    [
        ("consent_denied_nested", "salud"),
        ("legal_basis_unless_objection_objection", "exclusion_social"),
    ],
)
def test_refusals_by_the_person_are_logged(state_name, category, make_world, oracle):
    world = make_world(
        oracle.BY_KEY["tecnico_entidad" if state_name.startswith("consent") else "orientador"],
        oracle.STATE[state_name],
    )
    read_record(world)
    assert category in {e.category for e in lines(world, event=Event.REFUSED)}


def test_break_glass_reads_are_logged_as_such(make_world, oracle):
    profile, state = oracle.BY_KEY["trabajadora_social"], oracle.STATE["break_glass"]
    world = make_world(profile, state)
    read_record(world)
    logged = lines(world)
    assert logged and {e.event for e in logged} == {Event.BREAK_GLASS}
    assert {e.basis.split(":")[0] for e in logged} == {"break_glass"}
    assert not {"salud", "antecedentes_penales"} & {e.category for e in logged}


@pytest.mark.parametrize(
    "profile_key,state_name",
    [
        ("orientador", "consent_org"),
        ("trabajadora_social", "legal_basis_by_law"),
        ("tecnico_entidad", "consent_org"),
        ("coordinacion_social", "no_consent"),
        ("trabajadora_social", "break_glass"),
        ("orientador", "not_attended"),
    ],
)
@pytest.mark.parametrize("channel", ["api", "html"])
def test_one_request_writes_its_log_in_one_insert(
    profile_key, state_name, channel, make_world, oracle
):
    world = make_world(oracle.BY_KEY[profile_key], oracle.STATE[state_name])
    client = Client()
    client.force_login(world.user)
    client.raise_request_exception = False
    url, params = (
        (world.api_url, {"purpose": oracle.PURPOSE})
        if channel == "api"
        else (world.html_url, {"finalidad": oracle.PURPOSE})
    )
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, params)
    assert inserts_into_log(ctx.captured_queries) == 1
    assert DisclosureLogEntry.objects.filter(person=world.person).exists()


# --- The chain ------------------------------------------------------------------------------------


def _some_reads(make_world, oracle):
    for key, state in (
        ("orientador", "consent_org"),
        ("trabajadora_social", "no_consent"),
        ("tecnico_entidad", "legal_basis_by_law"),
    ):
        read_record(make_world(oracle.BY_KEY[key], oracle.STATE[state]))


def test_the_chain_of_real_reads_verifies(make_world, oracle):
    _some_reads(make_world, oracle)
    rows = list(DisclosureLogEntry.objects.order_by("id"))
    assert len(rows) > 10
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    report = verify_chain(batch_size=7)  # several batches
    assert report.ok and report.rows_checked == len(rows)
    call_command("verify_disclosure_log", stdout=open(os.devnull, "w"))


def _tamper(sql: str, params: list) -> None:
    """What someone with the rights to switch the log's protection off could do: the change is
    made with the table's triggers disabled, and the protection is switched on again."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check may wait on the table
        cursor.execute("ALTER TABLE sharing_disclosurelogentry DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE sharing_disclosurelogentry ENABLE TRIGGER USER")


def test_the_log_refuses_update_and_delete(make_world, oracle):
    _some_reads(make_world, oracle)
    row = DisclosureLogEntry.objects.order_by("id")[3]
    with pytest.raises(DatabaseError), transaction.atomic():
        DisclosureLogEntry.objects.filter(pk=row.pk).update(basis="consent:0")
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sharing_disclosurelogentry WHERE id = %s", [row.pk])
    assert verify_chain().ok


@pytest.mark.parametrize(
    "column,value",
    [
        ("category", "manipulada"),
        ("basis", "consent:0"),
        ("level", "manipulado"),
        ("user_id", None),
        ("at", "2001-01-01T00:00:00Z"),
    ],
)
def test_tampering_with_a_row_is_detected(column, value, make_world, oracle):
    _some_reads(make_world, oracle)
    rows = list(DisclosureLogEntry.objects.order_by("id"))
    target = rows[len(rows) // 2]
    _tamper(f"UPDATE sharing_disclosurelogentry SET {column} = %s WHERE id = %s",
            [value, target.pk])
    report = verify_chain()
    assert not report.ok
    assert report.first_broken_id == target.pk and report.problem == "altered"
    assert report.rows_checked == len(rows) // 2
    with pytest.raises(CommandError):
        call_command("verify_disclosure_log")


def test_tampering_that_rewrites_the_hash_too_is_detected_at_the_next_row(make_world, oracle):
    from sharing.disclosure import row_hash

    _some_reads(make_world, oracle)
    rows = list(DisclosureLogEntry.objects.order_by("id"))
    target = rows[4]
    target.basis = "consent:999"
    forged = row_hash(target.prev_hash, target)
    _tamper("UPDATE sharing_disclosurelogentry SET basis = %s, row_hash = %s WHERE id = %s",
            ["consent:999", forged, target.pk])
    report = verify_chain()
    assert report.first_broken_id == rows[5].pk and report.problem == "missing_or_reordered"


def test_a_deleted_row_is_detected(make_world, oracle):
    _some_reads(make_world, oracle)
    rows = list(DisclosureLogEntry.objects.order_by("id"))
    _tamper("DELETE FROM sharing_disclosurelogentry WHERE id = %s", [rows[2].pk])
    report = verify_chain()
    assert report.first_broken_id == rows[3].pk and report.problem == "missing_or_reordered"
    with pytest.raises(CommandError):
        call_command("verify_disclosure_log")


def _manage_verify() -> subprocess.CompletedProcess:
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}{':' + settings['PASSWORD'] if settings['PASSWORD'] else ''}"
        f"@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url, "DB_CONN_MAX_AGE": "0"}
    return subprocess.run(
        [sys.executable, "manage.py", "verify_disclosure_log"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_manage_py_verify_disclosure_log_exits_non_zero_on_tampering():
    disclosure_log_append(
        [
            LogLine(
                event=Event.REFUSED,
                channel="api",
                role="orientador",
                purpose="seguimiento",
                request_id=f"r{i}",
            )
            for i in range(5)
        ]
    )
    ok = _manage_verify()
    assert ok.returncode == 0, ok.stderr
    target = DisclosureLogEntry.objects.order_by("id")[2]
    _tamper("UPDATE sharing_disclosurelogentry SET purpose = 'itinerario' WHERE id = %s",
            [target.pk])
    broken = _manage_verify()
    assert broken.returncode != 0
    assert str(target.pk) in broken.stderr


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_appends_leave_a_valid_chain():
    threads_n, appends_n, per_append = 4, 20, 3
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(appends_n):
                disclosure_log_append(
                    [
                        LogLine(
                            event=Event.DISCLOSURE,
                            channel="job",
                            role="orientador",
                            category="salud",
                            level="indicator",
                            purpose="seguimiento",
                            basis=f"consent:{n}",
                            request_id=f"t{n}-{i}-{k}",
                        )
                        for k in range(per_append)
                    ]
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    rows = list(DisclosureLogEntry.objects.order_by("id"))
    assert len(rows) == threads_n * appends_n * per_append
    assert len({r.row_hash for r in rows}) == len(rows)
    # A request's lines stay together: the lock serialises whole appends.
    for start in range(0, len(rows), per_append):
        assert len({r.request_id.rsplit("-", 1)[0] for r in rows[start : start + per_append]}) == 1
    report = verify_chain()
    assert report.ok, report
    assert report.rows_checked == len(rows)
