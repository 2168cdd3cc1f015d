"""Reads of the diagnostics app: the alert inbox, the start-page counter, profiling.

The inbox shows a delivery's detailed text only while the recipient still sees every
category at the level it had when the text was written (a revoked consent takes effect
on the next request); otherwise the text without values, and nothing at all once a
category would be hidden. The current levels come from ``sharing.policy.decide`` on
facts read for the whole page at once, so the page costs the same number of queries
however many alerts it lists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404

from cases.models import EmployabilityLevel as LegacyEmployabilityLevel
from cases.models import ExclusionSituation
from ris.accounts.viewer import Viewer
from sharing.caseload import persons_attended_by
from sharing.categories import COMMON, EMPLOYMENT, SOCIAL
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import DisclosureLogEntry
from sharing.policy import FULL, HIDDEN, INDICATOR, decide
from sharing.record import visible_person

from . import profiling
from .facts import load_facts_many
from .models import (
    UNRESOLVED,
    AlertDelivery,
    AlertState,
    EmployabilityAssessment,
    ExclusionAssessment,
)
from .rules import RULES
from .services import PREVENTION, category_level

_RANK = {HIDDEN: 0, INDICATOR: 1, FULL: 2}
INBOX_LIMIT = 100


def _attended_by(organisation_id: int):
    return persons_attended_by(organisation_id).values("pk")


def deliveries_for(*, user_id: int, organisation_id: int):
    """Deliveries addressed to the user or to the organisation's queue, for persons it still attends."""
    return (
        AlertDelivery.objects.filter(organisation_id=organisation_id)
        .filter(Q(recipient_id=user_id) | Q(recipient__isnull=True))
        .filter(alert__person_id__in=_attended_by(organisation_id))
    )


def open_alert_counts_for(*, user_id: int, organisation_id: int) -> int:
    """How many open (not yet seen) alerts the user has, personally or in the organisation's queue."""
    return (
        deliveries_for(user_id=user_id, organisation_id=organisation_id)
        .filter(
            alert__state=AlertState.OPEN,
        )
        .count()
    )


def delivery_for(*, viewer: Viewer, delivery_id: int) -> AlertDelivery:
    """The delivery if it is the viewer's or their organisation's, for a person still attended; else 404."""
    delivery = (
        deliveries_for(user_id=viewer.user_id, organisation_id=viewer.organisation_id)
        .select_related("alert")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise Http404
    return delivery


@dataclass(frozen=True)
class InboxRow:
    delivery_id: int
    person_id: int
    person_name: str
    rule_title: str
    text: str
    state: str
    state_label: str
    created_at: dt.datetime
    personal: bool
    resolution_note: str

    @property
    def is_open(self) -> bool:
        return self.state == AlertState.OPEN

    @property
    def is_resolved(self) -> bool:
        return self.state == AlertState.RESOLVED


@dataclass(frozen=True)
class Inbox:
    mine: list[InboxRow]
    queue: list[InboxRow]


def inbox_for(*, viewer: Viewer, resolved: bool = False, limit: int = INBOX_LIMIT) -> Inbox:
    """The viewer's alerts and their organisation's queue (unresolved, or the recently resolved)."""
    states = [AlertState.RESOLVED] if resolved else list(UNRESOLVED)
    deliveries = list(
        deliveries_for(user_id=viewer.user_id, organisation_id=viewer.organisation_id)
        .filter(alert__state__in=states)
        .select_related("alert__rule", "alert__person")
        .order_by("-alert__created_at", "-pk")[:limit]
    )
    person_ids = list(dict.fromkeys(d.alert.person_id for d in deliveries))
    facts = dict(
        zip(
            person_ids,
            load_facts_many(pairs=[(viewer, p) for p in person_ids], purpose=PREVENTION),
            strict=True,
        )
    )
    mine: list[InboxRow] = []
    queue: list[InboxRow] = []
    for delivery in deliveries:
        alert = delivery.alert
        definition = RULES.get(alert.rule.code)
        person_facts = facts[alert.person_id]
        if definition is None:
            continue
        now_levels = {c: category_level(person_facts, c)[0] for c in definition.categories}
        if any(level == HIDDEN for level in now_levels.values()):
            continue
        still = all(
            _RANK[now_levels[c]] >= _RANK.get(delivery.levels.get(c, FULL), 2)
            for c in definition.categories
        )
        sheet = decide(person_facts, "ficha_basica", COMMON).level
        row = InboxRow(
            delivery_id=delivery.pk,
            person_id=alert.person_id,
            person_name=alert.person.full_name if sheet == FULL else f"#{alert.person_id}",
            rule_title=str(definition.title),
            text=delivery.text if still else delivery.plain_text,
            state=alert.state,
            state_label=alert.get_state_display(),
            created_at=alert.created_at,
            personal=delivery.recipient_id is not None,
            resolution_note=alert.resolution_note if resolved else "",
        )
        (mine if row.personal else queue).append(row)
    return Inbox(mine=mine, queue=queue)


# --- Profiling, through sharing ------------------------------------------------------------------


def profiling_for(
    *, viewer: Viewer, person_id: int, purpose: str, channel: str = "web", request_id: str = ""
) -> profiling.Profile:
    """The profiling proposal from the levels this viewer may see in full (404 outside the caseload).

    Reads the latest exclusion level (instrument assessments and the social section) and the
    latest employability diagnosis only when the viewer sees those categories in full and the
    entry is not restricted by another service; logs what it disclosed across services."""
    facts = visible_person(
        viewer=viewer, person_id=person_id, purpose=purpose, channel=channel, request_id=request_id
    )
    exclusion_ok = decide(facts, "exclusion_social", SOCIAL).level == FULL
    employability_ok = decide(facts, "empleabilidad", EMPLOYMENT).level == FULL
    own = viewer.service

    def readable(qs, recorded_service: str):
        if recorded_service == own:
            return qs
        return qs.filter(restricted=False)

    exclusion_level = employability_level = None
    if exclusion_ok:
        candidates = []
        for model, field in ((ExclusionAssessment, "level"), (ExclusionSituation, "severity")):
            row = (
                readable(model.objects.filter(person_id=person_id), SOCIAL)
                .order_by("-assessed_on", "-created_at")
                .values_list("assessed_on", "created_at", field)
                .first()
            )
            if row:
                candidates.append(row)
        if candidates:
            exclusion_level = max(candidates)[2]
    if employability_ok:
        candidates = []
        for model in (EmployabilityAssessment, LegacyEmployabilityLevel):
            row = (
                readable(
                    model.objects.filter(person_id=person_id, recorded_by_service=EMPLOYMENT),
                    EMPLOYMENT,
                )
                .order_by("-assessed_on", "-created_at")
                .values_list("assessed_on", "created_at", "level")
                .first()
            )
            if row:
                candidates.append(row)
        if candidates:
            employability_level = max(candidates)[2]
    lines = []
    for category, source, level in (
        ("exclusion_social", SOCIAL, exclusion_level),
        ("empleabilidad", EMPLOYMENT, employability_level),
    ):
        if level and source != own:
            decision = decide(facts, category, source)
            lines.append(
                LogLine(
                    event=DisclosureLogEntry.Event.DISCLOSURE,
                    channel=channel,
                    user_id=viewer.user_id,
                    organisation_id=viewer.organisation_id,
                    role=viewer.role,
                    person_id=person_id,
                    category=category,
                    level=FULL,
                    purpose=purpose,
                    basis=decision.basis,
                    request_id=request_id,
                )
            )
    disclosure_log_append(lines)
    return profiling.profile(
        exclusion_level=exclusion_level, employability_level=employability_level
    )
