"""Merging two records of the same person (administrators only).

Everything that points at the merged record is moved to the surviving one with a
set-based ``UPDATE`` per table (entries of every section, household memberships,
enrolments, guardian permissions, reference professionals, objections, referrals,
alerts, and any table added later that points at ``cases.Person``), except the
append-only tables (a ``pgtrigger.Protect`` on UPDATE: consents, the disclosure log).
Their rows stay as they were written, because they are evidence: a signed consent
and a log line must keep saying what they said. Readers follow the merge instead,
with ``merged_ids(person_id)`` (the record and every record merged into it) and
``surviving_id(person_id)``.

Where a unique rule would be broken by moving a row (the organisation attends both
records, both have a reference professional in the same organisation, the same
guardian permission twice, the same objection twice), the surviving record's row is
the one kept: an open enrolment of the merged record is closed first (its history
stays), and an exact duplicate of a fact is dropped. Household memberships that
overlap in time cannot be merged automatically: the merge is refused with a clear
message, and nothing changes.

The merge itself is recorded in the append-only ``PersonMerge`` table (who, when, why,
what moved), in two ``lookup`` lines of the disclosure log (one on each record, basis
``merge:<merged>-><surviving>``) and in the admin's history of the surviving person.
``Person.merged_into`` points the merged record (and any it had absorbed) at the
surviving one, so ``merged_ids``/``absorbed_q`` find them with one query or one join.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pgtrigger
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ris.accounts.viewer import Viewer

from .models import HouseholdMember, Person, PersonMerge

MERGE_BASIS = "merge:{merged}->{surviving}"


class MergeRefused(ValidationError):
    pass


# --- Following merges -----------------------------------------------------------------------------


def merged_ids(person_id: int) -> list[int]:
    """The record and every record merged into it (directly or through earlier merges), in one query.

    ``Person.merged_into`` always names the last record of a chain (a merge re-points the records
    the merged one had absorbed), so there is nothing to walk.
    """
    absorbed = Person.objects.filter(merged_into_id=person_id).values_list("pk", flat=True)
    return sorted({person_id, *absorbed})


def surviving_id(person_id: int) -> int:
    """The record that a (possibly merged) record now lives in."""
    onward = Person.objects.filter(pk=person_id).values_list("merged_into_id", flat=True).first()
    return onward or person_id


def absorbed_q(person_id: int, field: str = "person", *, ids: list[int] | None = None) -> Q:
    """Rows of the person or of any record merged into it, for the append-only tables (consents,
    disclosure log) whose rows stay on the record they were written for.

    The ids are read first (one indexed query, or pass ``ids`` from ``merged_ids``) so that the
    condition is a plain ``person_id = …`` / ``IN (…)`` the table's index serves: a subquery or an
    OR across a join made the planner scan every consent.
    """
    ids = merged_ids(person_id) if ids is None else ids
    if ids == [person_id]:
        return Q(**{f"{field}_id": person_id})
    return Q(**{f"{field}_id__in": ids})


# --- The merge -----------------------------------------------------------------------------------


@dataclass
class TableMove:
    label: str
    moved: int = 0
    closed: int = (
        0  # open enrolments of the merged record closed (the surviving record is attended there)
    )
    dropped: int = 0  # exact duplicates of a fact the surviving record already holds
    kept: int = 0  # append-only rows left on the merged record, followed through merged_ids


@dataclass
class MergeReport:
    surviving: Person
    merged: Person
    tables: list[TableMove] = field(default_factory=list)
    dry_run: bool = True

    @property
    def total_moved(self) -> int:
        return sum(t.moved for t in self.tables)


#: What to do when moving a row would break a unique rule, per table. Anything not listed is
#: refused, so a table added later never loses rows silently.
CLASH_POLICY = {
    # the merged record's open enrolment is closed; the surviving one's stays open
    "sharing.Enrolment": "close",
    "sharing.PersonGroupObjectPermission": "drop",  # the same permission twice
    "sharing.PersonUserObjectPermission": "drop",
    "consent.Objection": "drop",  # the same objection to the same legal basis
    # one reference professional per organisation: the surviving record's
    "cases.ReferenceProfessional": "drop",
}


def _is_append_only(model: type[models.Model]) -> bool:
    for trigger in getattr(model._meta, "triggers", []):
        if isinstance(trigger, pgtrigger.Protect) and "UPDATE" in str(trigger.operation).upper():
            return True
    return False


def person_relations() -> list[tuple[type[models.Model], models.ForeignKey]]:
    """Every foreign key to ``Person`` in the project, hidden ones (``related_name="+"``) too."""
    relations = []
    for rel in Person._meta.get_fields(include_hidden=True):
        if rel.related_model is Person:
            continue  # merged_into: re-pointed by the merge itself (_record_merge)
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one):
            relations.append((rel.related_model, rel.field))
    return sorted(relations, key=lambda r: (r[0]._meta.label, r[1].name))


def _unique_sets(
    model: type[models.Model], fk: models.ForeignKey
) -> list[tuple[list[str], Q | None]]:
    """The other fields of each unique rule that includes ``fk``, with its condition."""
    sets = []
    for together in model._meta.unique_together:
        if fk.name in together:
            sets.append(([f for f in together if f != fk.name], None))
    for constraint in model._meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.fields
            and fk.name in constraint.fields
        ):
            sets.append(([f for f in constraint.fields if f != fk.name], constraint.condition))
    return sets


def _overlap_query(surviving_id: int, merged_id: int) -> bool:
    """Do the two records live in households at overlapping dates ([start, end) ranges)?"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {HouseholdMember._meta.db_table} a "
            f"JOIN {HouseholdMember._meta.db_table} b "
            "ON daterange(a.start_date, a.end_date, '[)') "
            "&& daterange(b.start_date, b.end_date, '[)') "
            "WHERE a.person_id = %s AND b.person_id = %s)",
            [surviving_id, merged_id],
        )
        return bool(cursor.fetchone()[0])


def _move_table(model, fk, surviving: Person, merged: Person, today) -> TableMove:
    label = str(model._meta.verbose_name_plural)
    rows = model._base_manager.filter(**{fk.name: merged.pk})
    if _is_append_only(model):
        return TableMove(label=label, kept=rows.count())
    move = TableMove(label=label)
    for others, condition in _unique_sets(model, fk):
        survivor_rows = model._base_manager.filter(**{fk.name: surviving.pk})
        if condition is not None:
            survivor_rows = survivor_rows.filter(condition)
        clash = rows.filter(condition) if condition is not None else rows
        clash = clash.filter(Exists(survivor_rows.filter(**{f: OuterRef(f) for f in others})))
        if not clash.exists():
            continue
        policy = CLASH_POLICY.get(model._meta.label)
        if policy == "close":  # its history stays, on the surviving record
            move.closed += clash.update(end_date=today)
        elif policy == "drop":
            move.dropped += clash.delete()[0]
        else:
            raise MergeRefused(
                _(
                    "Los dos registros tienen datos de «%(table)s» que no pueden coexistir en una "
                    "sola persona (por ejemplo, dos derivaciones pendientes a la misma "
                    "organización). Resuélvalo antes de fusionar."
                )
                % {"table": label},
                code="clash",
            )
    move.moved = rows.update(**{fk.name: surviving.pk})
    return move


def _move_generic_permissions(surviving: Person, merged: Person) -> list[TableMove]:
    """django-guardian's generic tables (``object_pk`` as text) may hold permissions too."""
    from guardian.models import GroupObjectPermission, UserObjectPermission

    content_type = ContentType.objects.get_for_model(Person)
    moves = []
    for model, holder in ((UserObjectPermission, "user_id"), (GroupObjectPermission, "group_id")):
        rows = model.objects.filter(content_type=content_type, object_pk=str(merged.pk))
        survivor = model.objects.filter(content_type=content_type, object_pk=str(surviving.pk))
        move = TableMove(label=str(model._meta.verbose_name_plural))
        move.dropped = rows.filter(
            Exists(
                survivor.filter(
                    **{holder: OuterRef(holder), "permission_id": OuterRef("permission_id")}
                )
            )
        ).delete()[0]
        move.moved = rows.update(object_pk=str(surviving.pk))
        if move.moved or move.dropped:
            moves.append(move)
    return moves


def person_merge(
    *, viewer: Viewer, surviving_id: int, merged_id: int, reason: str, dry_run: bool = False
) -> MergeReport:
    """Merge ``merged_id`` into ``surviving_id``; with ``dry_run``, do it all and roll it back.

    Raises ``MergeRefused`` (a ValidationError with a Spanish message) when the records
    cannot be merged; then nothing has changed.
    """
    reason = (reason or "").strip()
    if surviving_id == merged_id:
        raise MergeRefused(_("No se puede fusionar un registro consigo mismo."), code="same")
    if not dry_run and not reason:
        raise MergeRefused(_("Indique el motivo de la fusión."), code="reason")
    persons = Person.objects.in_bulk([surviving_id, merged_id])
    if len(persons) != 2:
        raise MergeRefused(_("Alguno de los dos registros no existe."), code="missing")
    surviving, merged = persons[surviving_id], persons[merged_id]
    if _already_merged(merged_id):
        raise MergeRefused(
            _("El registro %(id)s ya se fusionó en otro.") % {"id": merged_id}, code="already"
        )
    if _already_merged(surviving_id):
        raise MergeRefused(
            _("El registro %(id)s ya se fusionó en otro: elija el registro que permanece.")
            % {"id": surviving_id},
            code="already",
        )
    if _overlap_query(surviving_id, merged_id):
        raise MergeRefused(
            _(
                "Las dos personas figuran en unidades de convivencia en fechas que se solapan. "
                "Cierre una de las dos pertenencias (fecha de baja) antes de fusionar."
            ),
            code="households",
        )
    report = MergeReport(surviving=surviving, merged=merged, dry_run=dry_run)
    today = timezone.localdate()
    try:
        with transaction.atomic():
            list(
                Person.objects.select_for_update()
                .filter(pk__in=[surviving_id, merged_id])
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if _already_merged(merged_id) or _already_merged(surviving_id):  # merged meanwhile
                raise MergeRefused(_("Uno de los registros acaba de fusionarse."), code="already")
            for model, fk in person_relations():
                try:
                    with transaction.atomic():
                        move = _move_table(model, fk, surviving, merged, today)
                except IntegrityError as exc:
                    raise MergeRefused(
                        _("No se pueden trasladar los datos de «%(table)s»: %(detail)s")
                        % {
                            "table": model._meta.verbose_name_plural,
                            "detail": str(exc).splitlines()[0],
                        },
                        code="integrity",
                    ) from exc
                if move.moved or move.closed or move.dropped or move.kept:
                    report.tables.append(move)
            report.tables.extend(_move_generic_permissions(surviving, merged))
            if dry_run:
                raise _RollBack
            _record_merge(
                viewer=viewer, surviving=surviving, merged=merged, reason=reason, report=report
            )
    except _RollBack:
        pass
    return report


class _RollBack(Exception):
    pass


def _already_merged(person_id: int) -> bool:
    return surviving_id(person_id) != person_id


def _record_merge(
    *, viewer: Viewer, surviving: Person, merged: Person, reason: str, report: MergeReport
) -> None:
    from sharing.disclosure import LogLine, disclosure_log_append
    from sharing.models import Channel, DisclosureLogEntry

    basis = MERGE_BASIS.format(merged=merged.pk, surviving=surviving.pk)
    base = dict(
        event=DisclosureLogEntry.Event.LOOKUP,
        channel=Channel.WEB,
        user_id=viewer.user_id,
        organisation_id=viewer.organisation_id,
        role=viewer.role,
        basis=basis,
    )
    disclosure_log_append(
        [LogLine(person_id=surviving.pk, **base), LogLine(person_id=merged.pk, **base)]
    )
    PersonMerge.objects.create(
        surviving=surviving,
        merged=merged,
        merged_by_id=viewer.user_id,
        reason=reason,
        moved={t.label: t.moved for t in report.tables if t.moved},
    )
    # the merged record, and every record it had absorbed, now live in the surviving one
    Person.objects.filter(Q(pk=merged.pk) | Q(merged_into_id=merged.pk)).update(
        merged_into_id=surviving.pk
    )
    summary = "; ".join(
        f"{t.label}: {t.moved}" + (f" (+{t.kept} conservados)" if t.kept else "")
        for t in report.tables
    )
    LogEntry.objects.create(
        user_id=viewer.user_id,
        content_type=ContentType.objects.get_for_model(Person),
        object_id=str(surviving.pk),
        object_repr=str(surviving)[:200],
        action_flag=CHANGE,
        change_message=_(
            "Fusión del registro %(merged)s en este. Motivo: %(reason)s. Trasladado: %(summary)s"
        )
        % {"merged": merged.pk, "reason": reason, "summary": summary or "—"},
    )


def merge_persons_action(modeladmin, request, queryset):
    """Admin action for ``PersonAdmin.actions``: two selected records → the merge page."""
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.urls import reverse

    ids = sorted(queryset.values_list("pk", flat=True)[:3])
    if len(ids) != 2:
        modeladmin.message_user(
            request,
            _("Seleccione exactamente dos personas para fusionarlas."),
            level=messages.WARNING,
        )
        return None
    return redirect(f"{reverse('workspace:person_merge')}?permanece={ids[0]}&fusionado={ids[1]}")


merge_persons_action.short_description = _("Fusionar los dos registros seleccionados")  # type: ignore[attr-defined]
