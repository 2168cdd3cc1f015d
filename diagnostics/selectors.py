"""Reads of the diagnostics app: the alert inbox, the start-page counts, profiling.

The inbox shows a delivery's detailed text only while the recipient still sees every
category at the level it had when the text was written (a revoked consent takes effect
on the next request); otherwise the text without values, and nothing at all once a
category would be hidden. The current levels come from ``sharing.policy.decide`` on
facts read for the whole page at once, so the page costs the same number of queries
however many alerts it lists. The start-page counts apply the same check (``_shown``):
an alert the inbox would not show is not counted either.

"Seen" is each organisation's (``AlertDelivery.seen_at``); "resolved" is the alert's, shared
by every organisation it reached. The resolution note is the resolving organisation's text:
the others read that another service that attends the person resolved it, without the note.

The organisation's queue holds the deliveries to nobody in particular and the personal
deliveries whose recipient no longer reads alerts there (left, deactivated, another role):
a delivery is never left where nobody reads it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from cases.models import EmployabilityLevel as LegacyEmployabilityLevel
from cases.models import ExclusionSituation
from ris.accounts.models import Membership, Role
from ris.accounts.viewer import Viewer
from sharing.caseload import persons_attended_by
from sharing.categories import COMMON, EMPLOYMENT, SOCIAL
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.facts import load_facts_many
from sharing.models import DisclosureLogEntry
from sharing.policy import FULL, HIDDEN, INDICATOR, Facts, decide
from sharing.record import visible_person

from . import profiling
from .models import (
    UNRESOLVED,
    AlertDelivery,
    AlertState,
    EmployabilityAssessment,
    ExclusionAssessment,
)
from .rules import RULES
from .services import INBOX_ROLES, PREVENTION, category_level

_RANK = {HIDDEN: 0, INDICATOR: 1, FULL: 2}
INBOX_LIMIT = 100
#: The start pages' viewer: the caseworker's roles (their own start page, and the portal's), or
#: the coordinator (the organisation's whole view).
_CASEWORKER_ROLES = tuple(r for r in INBOX_ROLES if r != Role.COORDINATOR)


def _attended_by(organisation_id: int):
    return persons_attended_by(organisation_id).values("pk")


def _readers(organisation_id: int):
    """The users who read the organisation's alerts now (an inbox role, active, there)."""
    return Membership.objects.filter(
        organisation_id=organisation_id,
        is_active=True,
        role__in=INBOX_ROLES,
        user__is_active=True,
    ).values("user_id")


def organisation_deliveries(*, organisation_id: int):
    """Every delivery to the organisation, for persons it still attends."""
    return AlertDelivery.objects.filter(
        organisation_id=organisation_id,
        alert__person_id__in=_attended_by(organisation_id),
    )


def deliveries_for(*, user_id: int, organisation_id: int):
    """Deliveries addressed to the user or to the organisation's queue (which takes the personal
    deliveries of those who no longer read alerts there), for persons it still attends."""
    return organisation_deliveries(organisation_id=organisation_id).filter(
        Q(recipient_id=user_id)
        | Q(recipient__isnull=True)
        | ~Q(recipient_id__in=_readers(organisation_id))
    )


def _facts_by_person(viewer: Viewer, person_ids) -> dict[int, Facts]:
    """The viewer's facts for each person, read at once (a fixed number of queries)."""
    person_ids = list(dict.fromkeys(person_ids))
    return dict(
        zip(
            person_ids,
            load_facts_many(pairs=[(viewer, p) for p in person_ids], purpose=PREVENTION),
            strict=True,
        )
    )


#: What the viewer may be shown of a delivery now (``_shown``).
TEXT, PLAIN = "text", "plain"


def _shown(levels: dict[str, str], rule_code: str, facts: Facts) -> str | None:
    """``TEXT`` while the viewer still sees every category the delivery read at least at the
    level it had when written; ``PLAIN`` (the text without values) while every category is still
    at least an indicator; ``None`` once one is hidden: then the alert is neither shown nor
    counted, as if it did not exist."""
    definition = RULES.get(rule_code)
    if definition is None:
        return None
    categories = tuple(levels) or definition.categories
    now = {c: category_level(facts, c)[0] for c in categories}
    if any(level == HIDDEN for level in now.values()):
        return None
    still = all(_RANK[now[c]] >= _RANK.get(levels.get(c, FULL), 2) for c in categories)
    return TEXT if still else PLAIN


def open_alert_counts_for(
    *, user_id: int, organisation_id: int, whole_organisation: bool = False
) -> dict[int, int]:
    """New alerts per person for a start page: unresolved and not yet seen by the organisation,
    among the user's and the organisation's queue (``whole_organisation``: every delivery of the
    organisation, for the coordinator's view by worker), counted only while the inbox would show
    them to the user (``_shown``, with the user's role there: a caseworker's, or the
    coordinator's). A constant number of queries: the user's membership, the deliveries, and
    the facts of their persons at once (none when there is nothing to count)."""
    roles = (Role.COORDINATOR,) if whole_organisation else _CASEWORKER_ROLES
    membership = (
        Membership.objects.filter(
            user_id=user_id,
            organisation_id=organisation_id,
            organisation__is_active=True,
            is_active=True,
            role__in=roles,
        )
        .select_related("organisation")
        .order_by("pk")
        .first()
    )
    if membership is None:
        return {}
    deliveries = (
        organisation_deliveries(organisation_id=organisation_id)
        if whole_organisation
        else deliveries_for(user_id=user_id, organisation_id=organisation_id)
    )
    rows = list(
        deliveries.filter(seen_at__isnull=True, alert__state__in=UNRESOLVED).values_list(
            "alert__person_id", "alert__rule__code", "levels"
        )
    )
    if not rows:
        return {}
    facts = _facts_by_person(Viewer.from_membership(membership), (p for p, _, _ in rows))
    return dict(Counter(p for p, code, levels in rows if _shown(levels, code, facts[p])))


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


class DeliveryState:
    """A delivery as its organisation meets it."""

    NEW = "new"
    SEEN = "seen"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class InboxRow:
    delivery_id: int
    person_id: int
    person_name: str
    rule_title: str
    text: str
    state: str  # DeliveryState
    state_label: str
    created_at: dt.datetime
    personal: bool
    #: the resolving organisation's note (or the automatic resolution's); empty for the others
    resolution_note: str
    #: resolved by another organisation that received it (its note is not shown here)
    resolved_elsewhere: bool = False

    @property
    def is_new(self) -> bool:
        return self.state == DeliveryState.NEW

    @property
    def is_resolved(self) -> bool:
        return self.state == DeliveryState.RESOLVED


@dataclass(frozen=True)
class Inbox:
    mine: list[InboxRow]
    queue: list[InboxRow]


def _state_of(delivery: AlertDelivery) -> tuple[str, str]:
    if delivery.alert.state == AlertState.RESOLVED:
        return DeliveryState.RESOLVED, _("Resuelta")
    if delivery.seen_at is not None:
        return DeliveryState.SEEN, _("Vista")
    return DeliveryState.NEW, _("Nueva")


def inbox_for(*, viewer: Viewer, resolved: bool = False, limit: int = INBOX_LIMIT) -> Inbox:
    """The viewer's alerts and their organisation's queue (unresolved, or the recently resolved)."""
    states = [AlertState.RESOLVED] if resolved else list(UNRESOLVED)
    deliveries = list(
        deliveries_for(user_id=viewer.user_id, organisation_id=viewer.organisation_id)
        .filter(alert__state__in=states)
        .select_related("alert__rule", "alert__person")
        .order_by("-alert__created_at", "-pk")[:limit]
    )
    facts = _facts_by_person(viewer, (d.alert.person_id for d in deliveries))
    mine: list[InboxRow] = []
    queue: list[InboxRow] = []
    for delivery in deliveries:
        alert = delivery.alert
        shown = _shown(delivery.levels, alert.rule.code, facts[alert.person_id])
        if shown is None:
            continue
        person_facts = facts[alert.person_id]
        sheet = decide(person_facts, "ficha_basica", COMMON).level
        state, state_label = _state_of(delivery)
        automatic = alert.resolved_by_id is None
        ours = alert.resolved_by_organisation_id == viewer.organisation_id
        row = InboxRow(
            delivery_id=delivery.pk,
            person_id=alert.person_id,
            person_name=alert.person.full_name if sheet == FULL else f"#{alert.person_id}",
            rule_title=str(RULES[alert.rule.code].title),
            text=delivery.text if shown == TEXT else delivery.plain_text,
            state=state,
            state_label=state_label,
            created_at=alert.created_at,
            personal=delivery.recipient_id == viewer.user_id,
            resolution_note=alert.resolution_note if resolved and (automatic or ours) else "",
            resolved_elsewhere=resolved and not automatic and not ours,
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
