"""Reads of the coordination app.

Every read that shows another service's data asks ``sharing``: the caseload through
``sharing.caseload``, the level of each category through ``sharing.policy``
(``load_facts`` + ``decide``), a case summary through ``sharing.record.record_for``. The
``*_view`` functions return, with what to show, the disclosure log lines the page must
append (one ``disclosure_log_append`` call per request, in the view). The diagnostics a
referral shows its receiver come from ``diagnostics.record.diagnostics_summary``, the
function that merges them into the record page, which writes its own disclosure lines
in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy, pgettext_lazy

from cases.merge import absorbed_q
from cases.models import Person
from consent.models import Consent
from consent.purposes import Purpose
from diagnostics.record import PAIRS as DIAGNOSTICS_PAIRS
from diagnostics.record import diagnostics_summary
from ris.accounts.models import Organisation, ServiceKind
from ris.accounts.viewer import Viewer
from sharing.caseload import organisation_attends, persons_attended_by
from sharing.categories import BY_CODE, COMMON, SPECIAL
from sharing.disclosure import LogLine
from sharing.facts import load_facts_many
from sharing.models import Channel, DisclosureLogEntry, PersonGroupObjectPermission
from sharing.policy import (
    FULL,
    HIDDEN,
    INDICATOR,
    Decision,
    Facts,
    decide,
    is_own_entry,
    load_facts,
)
from sharing.record import CategoryView

from .models import (
    CaseConference,
    CommitmentCompliance,
    ConferenceAgreement,
    ConferenceAttendee,
    ConferenceCase,
    InformationRequest,
    JointPlan,
    LinkRequest,
    PlanAction,
    PlanCommitment,
    PlanGoal,
    Referral,
    Resource,
)

SERVICE_LABELS = {**dict(ServiceKind.choices), COMMON: pgettext_lazy("servicio", "Común")}
#: The categories that hold diagnostics entries (assessments, diagnoses, screenings).
DIAGNOSTICS_CATEGORIES = frozenset(category for category, _service in DIAGNOSTICS_PAIRS)


def category_label(code: str) -> str:
    return BY_CODE[code].label if code in BY_CODE else code


def writable_categories(service: str) -> list[tuple[str, str]]:
    """The categories a service files its own actions and commitments under (as its entries)."""
    return [
        (c.code, c.label)
        for c in BY_CODE.values()
        if c.owner_service in (COMMON, service) and c.code != "ficha_basica"
    ]


def decide_item(facts: Facts, category: str, service: str, organisation: Organisation) -> Decision:
    """``sharing.policy.decide`` for a coordination item (a plan action, a commitment, a conference
    agreement) filed under ``category`` by ``organisation``'s ``service``: an item of the viewer's
    own kind of service recorded by an organisation whose data is not the viewer's own
    (``sharing.policy.is_own_entry``) needs a basis, like another service's data."""
    foreign = service == facts.viewer.service and not is_own_entry(
        facts.viewer, organisation_id=organisation.pk, community_code=organisation.community_id
    )
    return decide(facts, category, service, foreign=foreign)


# --- Consent and caseload --------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentCheck:
    """The asked categories that no consent in force covers for this organisation and purpose."""

    missing: tuple[str, ...]
    consent_ids: tuple[int, ...] = ()

    @property
    def covered(self) -> bool:
        return not self.missing


def consent_check(
    *,
    person_id: int,
    organisation: Organisation,
    categories: Iterable[str],
    purpose: str,
    moment: dt.datetime | None = None,
) -> ConsentCheck:
    """One query: the consents in force granting the organisation (or its kind) the purpose.

    A category is covered when one of them covers it (all categories or permitted, and not
    denied), as in ``sharing.policy``; legal bases do not count: a referral needs consent.
    """
    moment = moment or timezone.now()
    categories = list(dict.fromkeys(categories))
    rows = list(
        Consent.objects.in_force_at(moment)
        .filter(absorbed_q(person_id), purposes__contains=[purpose])
        .filter(
            Q(grantee_organisations=organisation)
            | Q(grantee_services__contains=[organisation.kind])
        )
        .distinct()
        .values_list("id", "all_categories", "permitted_categories", "denied_categories")
    )
    used: set[int] = set()
    missing = []
    for code in categories:
        covering = [
            cid
            for cid, all_categories, permitted, denied in rows
            if code not in denied and (all_categories or code in permitted)
        ]
        if covering:
            used.update(covering)
        else:
            missing.append(code)
    return ConsentCheck(missing=tuple(missing), consent_ids=tuple(sorted(used)))


def consent_covers(
    *,
    person_id: int,
    organisation: Organisation,
    categories: Iterable[str],
    purpose: str,
    moment: dt.datetime | None = None,
) -> bool:
    """Is there a consent in force granting ``organisation`` the purpose for every category?"""
    return consent_check(
        person_id=person_id,
        organisation=organisation,
        categories=categories,
        purpose=purpose,
        moment=moment,
    ).covered


def organisations_attending(*, person_id: int) -> QuerySet[Organisation]:
    """The active organisations whose group holds the caseload permission on the person."""
    groups = PersonGroupObjectPermission.objects.filter(
        content_object_id=person_id,
        permission__codename="view_person",
    ).values("group_id")
    return Organisation.objects.filter(is_active=True, group_id__in=groups).order_by("name")


def _attended_by(organisation_id: int):
    """An annotation: does this organisation attend the row's person?"""
    return Exists(persons_attended_by(organisation_id).filter(pk=OuterRef("person_id")))


def person_in_caseload(*, viewer: Viewer, person_id: int) -> Person:
    """The person, if the viewer's organisation attends them; otherwise 404 (like a missing id)."""
    person = persons_attended_by(viewer.organisation_id).filter(pk=person_id).first()
    if person is None:
        raise Http404
    return person


# --- Derivaciones -------------------------------------------------------------------------------


def referrals_for(*, organisation_id: int, box: str = "", state: str = "") -> QuerySet[Referral]:
    """The organisation's referrals (received, sent or both), each with ``viewer_attends``."""
    if box == "received":
        qs = Referral.objects.filter(to_organisation_id=organisation_id)
    elif box == "sent":
        qs = Referral.objects.filter(from_organisation_id=organisation_id)
    else:
        qs = Referral.objects.filter(
            Q(to_organisation_id=organisation_id) | Q(from_organisation_id=organisation_id)
        )
    if state:
        qs = qs.filter(state=state)
    return (
        qs.select_related("person", "from_organisation", "to_organisation")
        .annotate(viewer_attends=_attended_by(organisation_id))
        .order_by("-sent_at", "-id")
    )


def pending_referrals_for(*, organisation_id: int) -> QuerySet[Referral]:
    """Received and waiting for an answer, oldest first (for the start page).

    The receiving organisation does not attend the person yet: show the sending
    organisation, the date and the categories, not the person's name.
    """
    return (
        Referral.objects.filter(to_organisation_id=organisation_id, state=Referral.State.SENT)
        .select_related("from_organisation")
        .order_by("sent_at", "id")
    )


def referral_counts_for(*, organisation_id: int) -> dict[str, int]:
    """Counts for the start page, in one query."""
    received = Q(to_organisation_id=organisation_id)
    sent = Q(from_organisation_id=organisation_id)
    s = Referral.State
    return Referral.objects.filter(received | sent).aggregate(
        received_pending=Count("id", filter=received & Q(state=s.SENT)),
        received_accepted=Count("id", filter=received & Q(state=s.ACCEPTED)),
        sent_pending=Count("id", filter=sent & Q(state=s.SENT)),
        sent_accepted=Count("id", filter=sent & Q(state=s.ACCEPTED)),
        sent_rejected=Count("id", filter=sent & Q(state=s.REJECTED)),
    )


def referral_for_viewer(*, viewer: Viewer, referral_id: int) -> Referral:
    """The referral if the viewer's organisation sent or received it; otherwise 404."""
    referral = (
        Referral.objects.filter(pk=referral_id)
        .filter(
            Q(to_organisation_id=viewer.organisation_id)
            | Q(from_organisation_id=viewer.organisation_id)
        )
        .select_related(
            "person",
            "from_organisation",
            "to_organisation",
            "sent_by",
            "accepted_by",
            "rejected_by",
            "completed_by",
            "cancelled_by",
        )
        .annotate(viewer_attends=_attended_by(viewer.organisation_id))
        .first()
    )
    if referral is None:
        raise Http404
    return referral


@dataclass
class ReferralView:
    referral: Referral
    side: str  # sender | receiver
    show_person: bool
    consent_in_force: bool = True
    log_lines: list[LogLine] = field(default_factory=list)
    #: the receiver's: the diagnostics of the referred categories it may see (sharing decides)
    diagnostics: list[CategoryView] = field(default_factory=list)


def referral_view(*, viewer: Viewer, referral: Referral, request_id: str = "") -> ReferralView:
    """What each side sees. The receiver that does not attend the person yet sees their name and
    birth date only while the referral waits and a consent still grants it "derivación"; that
    disclosure is logged. A receiver that attends the person also sees the diagnostics of the
    referred categories (``referral_diagnostics``), to decide on the referral."""
    side = "receiver" if referral.to_organisation_id == viewer.organisation_id else "sender"
    if referral.viewer_attends:
        view = ReferralView(referral, side, show_person=True)
        if side == "receiver":
            view.diagnostics = referral_diagnostics(
                viewer=viewer, referral=referral, request_id=request_id
            )
        return view
    if side == "receiver" and referral.state == Referral.State.SENT:
        check = consent_check(
            person_id=referral.person_id,
            organisation=referral.to_organisation,
            categories=referral.categories,
            purpose=Purpose.REFERRAL,
        )
        if check.covered:
            line = LogLine(
                event=DisclosureLogEntry.Event.DISCLOSURE,
                channel=Channel.WEB,
                user_id=viewer.user_id,
                organisation_id=viewer.organisation_id,
                role=viewer.role,
                person_id=referral.person_id,
                category="ficha_basica",
                level=FULL,
                purpose=Purpose.REFERRAL,
                basis="consent:" + ",".join(str(i) for i in check.consent_ids),
                request_id=request_id,
            )
            return ReferralView(referral, side, show_person=True, log_lines=[line])
        return ReferralView(referral, side, show_person=False, consent_in_force=False)
    return ReferralView(referral, side, show_person=False)


def referral_diagnostics(
    *, viewer: Viewer, referral: Referral, request_id: str = ""
) -> list[CategoryView]:
    """The diagnostics entries of the referred categories, for the referral's purpose, exactly as
    the viewer's record page shows them: hidden pairs are absent (as if there were no entry), an
    indicator says only that one exists and who recorded it. Outside the viewer's caseload
    ``sharing.policy`` hides everything, so a receiver sees them once it attends the person.
    The disclosure lines are written by ``diagnostics_summary``: call it in the transaction that
    builds the page."""
    categories = DIAGNOSTICS_CATEGORIES.intersection(referral.categories)
    if not categories:
        return []
    facts = load_facts(viewer=viewer, person_id=referral.person_id, purpose=referral.purpose)
    if not facts.attends:
        return []
    return diagnostics_summary(
        facts, channel=Channel.WEB, request_id=request_id, categories=categories
    )


# --- Solicitudes de vinculación ----------------------------------------------------------------


def link_requests_received(*, organisation_id: int) -> QuerySet[LinkRequest]:
    """Pending requests of other organisations about persons this organisation attends, oldest
    first: it may answer each with a referral to the requester, or decline it."""
    return (
        LinkRequest.objects.filter(
            state=LinkRequest.State.PENDING, person__in=persons_attended_by(organisation_id)
        )
        .exclude(from_organisation_id=organisation_id)
        .select_related("person", "from_organisation", "requested_by")
        .order_by("requested_at", "id")
    )


def link_requests_sent(*, organisation_id: int) -> QuerySet[LinkRequest]:
    """The organisation's own requests. Whether it attends each person now is annotated: only
    then may a page name the person (``viewer_attends``)."""
    return (
        LinkRequest.objects.filter(from_organisation_id=organisation_id)
        .select_related("person", "requested_by", "referral")
        .annotate(viewer_attends=_attended_by(organisation_id))
        .order_by("-requested_at", "-id")
    )


def link_request_received_for_viewer(
    *, viewer: Viewer, link_request_id: int, person_id: int | None = None
) -> LinkRequest:
    """A pending request the viewer's organisation may answer (of ``person_id``, if given); else
    404."""
    qs = link_requests_received(organisation_id=viewer.organisation_id).filter(pk=link_request_id)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    found = qs.first()
    if found is None:
        raise Http404
    return found


# --- Consultas bajo demanda -----------------------------------------------------------------------


def information_requests_for(
    *, organisation_id: int, box: str = ""
) -> QuerySet[InformationRequest]:
    """Requests the organisation made or received, about persons it attends."""
    if box == "received":
        qs = InformationRequest.objects.filter(to_organisation_id=organisation_id)
    elif box == "sent":
        qs = InformationRequest.objects.filter(from_organisation_id=organisation_id)
    else:
        qs = InformationRequest.objects.filter(
            Q(to_organisation_id=organisation_id) | Q(from_organisation_id=organisation_id)
        )
    return (
        qs.filter(person__in=persons_attended_by(organisation_id))
        .select_related("person", "from_organisation", "to_organisation")
        .order_by("-asked_at", "-id")
    )


def information_request_for_viewer(*, viewer: Viewer, request_id: int) -> InformationRequest:
    found = (
        information_requests_for(organisation_id=viewer.organisation_id)
        .select_related("asked_by", "answered_by")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


@dataclass
class AnswerView:
    visible: bool
    decisions: list[Decision] = field(default_factory=list)
    log_lines: list[LogLine] = field(default_factory=list)


def _log_line(
    viewer: Viewer, person_id: int, purpose: str, decision: Decision, request_id: str
) -> LogLine | None:
    """The disclosure line for one shown (category, source) pair, as ``sharing.record`` does."""
    if decision.level == HIDDEN:
        return None
    cross = decision.source_service not in (COMMON, viewer.service)
    special = BY_CODE[decision.category].sensitivity == SPECIAL
    if not (cross or special):
        return None
    event = DisclosureLogEntry.Event.DISCLOSURE if cross else DisclosureLogEntry.Event.SPECIAL_READ
    return LogLine(
        event=event,
        channel=Channel.WEB,
        user_id=viewer.user_id,
        organisation_id=viewer.organisation_id,
        role=viewer.role,
        person_id=person_id,
        category=decision.category,
        level=decision.level,
        purpose=purpose,
        basis=decision.basis,
        request_id=request_id,
    )


def _unique_lines(lines: Iterable[LogLine | None]) -> list[LogLine]:
    return list(dict.fromkeys(line for line in lines if line is not None))


def answer_view(
    *, viewer: Viewer, info_request: InformationRequest, request_id: str = ""
) -> AnswerView:
    """The answer is the answering service's data: the requester sees it only if the sharing
    decision gives FULL for every category the request names."""
    if not info_request.is_answered:
        return AnswerView(visible=False)
    if viewer.organisation_id == info_request.to_organisation_id:
        return AnswerView(visible=True)
    facts = load_facts(
        viewer=viewer, person_id=info_request.person_id, purpose=info_request.purpose
    )
    source = info_request.to_organisation.kind
    decisions = [decide(facts, code, source) for code in info_request.categories if code in BY_CODE]
    visible = bool(decisions) and all(d.level == FULL for d in decisions)
    lines = []
    if visible:
        lines = _unique_lines(
            _log_line(viewer, info_request.person_id, info_request.purpose, d, request_id)
            for d in decisions
        )
    return AnswerView(visible=visible, decisions=decisions, log_lines=lines)


# --- Itinerarios conjuntos ------------------------------------------------------------------------


def plans_for(*, organisation_id: int) -> QuerySet[JointPlan]:
    """Plans the organisation takes part in, for persons it attends."""
    return (
        JointPlan.objects.filter(
            organisations__id=organisation_id, person__in=persons_attended_by(organisation_id)
        )
        .select_related("person", "organising_organisation")
        .order_by("review_date", "id")
    )


def overdue_plan_reviews(
    *, organisation_id: int, today: dt.date | None = None
) -> QuerySet[JointPlan]:
    """Plans in elaboration or in force whose review date has passed (coordinator view)."""
    today = today or timezone.localdate()
    return plans_for(organisation_id=organisation_id).filter(
        state__in=[JointPlan.State.DRAFT, JointPlan.State.ACTIVE],
        review_date__lt=today,
    )


def plan_for_viewer(*, viewer: Viewer, plan_id: int) -> JointPlan:
    plan = plans_for(organisation_id=viewer.organisation_id).filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    return plan


@dataclass(frozen=True)
class Indicator:
    """Only that something exists in an area, owned by a service: no values."""

    category: str
    service: str

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def service_label(self) -> str:
        return str(SERVICE_LABELS.get(self.service, self.service))


@dataclass
class GoalGroup:
    """A goal the viewer sees in full and the actions linked to it that the viewer sees in full."""

    goal: PlanGoal
    actions: list[PlanAction] = field(default_factory=list)


@dataclass
class PlanView:
    plan: JointPlan
    participants: list[Organisation]
    goals: list[PlanGoal]
    goal_indicators: list[Indicator]
    actions: list[PlanAction]
    action_indicators: list[Indicator]
    commitments: list[PlanCommitment]
    commitment_indicators: list[Indicator]
    log_lines: list[LogLine]
    own_service: str
    organisation_id: int
    #: ``goals``, each with the shown actions linked to it
    goal_groups: list[GoalGroup] = field(default_factory=list)
    #: the shown actions that are not under a shown goal: without goal, or linked to a goal the
    #: viewer sees only as an indicator or not at all (the two look the same)
    unlinked_actions: list[PlanAction] = field(default_factory=list)


class _ItemDecisions:
    """``decide_item`` for the items of one plan, once per (category, service, organisation)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.cache: dict[tuple[str, str, int], Decision] = {}

    def __call__(self, category: str, service: str, organisation: Organisation) -> Decision:
        key = (category, service, organisation.pk)
        if key not in self.cache:
            self.cache[key] = decide_item(self.facts, category, service, organisation)
        return self.cache[key]


def plan_view(*, viewer: Viewer, plan: JointPlan, request_id: str = "") -> PlanView:
    """The plan filtered like the record: a goal, an action or a commitment is shown in full when
    the viewer's decision for (its category, its service) is FULL; at INDICATOR only its area and
    service (once per pair); HIDDEN leaves it out. An action shown in full is listed under its
    goal only when the viewer sees that goal in full too; otherwise with the actions without
    goal, so that a goal the viewer may not read is never named, nor told apart from no goal.
    Constant number of queries."""
    facts = load_facts(viewer=viewer, person_id=plan.person_id, purpose=Purpose.ITINERARY)
    decision = _ItemDecisions(facts)
    cache = decision.cache

    goals: list[PlanGoal] = []
    goal_indicators: list[Indicator] = []
    for goal in plan.goals.select_related("owner_organisation").order_by("start_date", "id"):
        d = decision(goal.category, goal.owner_service, goal.owner_organisation)
        if d.level == FULL:
            goals.append(goal)
        elif d.level == INDICATOR:
            goal_indicators.append(Indicator(goal.category, goal.owner_service))
    groups = {goal.pk: GoalGroup(goal) for goal in goals}
    actions: list[PlanAction] = []
    unlinked: list[PlanAction] = []
    action_indicators: list[Indicator] = []
    for action in plan.actions.select_related("owner_organisation", "resource").order_by(
        "start_date", "id"
    ):
        d = decision(action.category, action.owner_service, action.owner_organisation)
        if d.level == FULL:
            actions.append(action)
            group = groups.get(action.goal_id)  # only the id: the goal row is never read here
            if group is not None:
                group.actions.append(action)
            else:
                unlinked.append(action)
        elif d.level == INDICATOR:
            action_indicators.append(Indicator(action.category, action.owner_service))
    commitments: list[PlanCommitment] = []
    commitment_indicators: list[Indicator] = []
    records = CommitmentCompliance.objects.select_related(
        "recorded_by", "recorded_by_org"
    ).order_by("-date", "-id")
    for commitment in plan.commitments.select_related("checked_by_organisation").prefetch_related(
        Prefetch("compliance_records", queryset=records)
    ):
        d = decision(
            commitment.category, commitment.checked_by_service, commitment.checked_by_organisation
        )
        if d.level == FULL:
            commitments.append(commitment)
        elif d.level == INDICATOR:
            commitment_indicators.append(
                Indicator(commitment.category, commitment.checked_by_service)
            )
    lines = _unique_lines(
        _log_line(viewer, plan.person_id, Purpose.ITINERARY, d, request_id) for d in cache.values()
    )
    return PlanView(
        plan=plan,
        participants=list(plan.organisations.order_by("name")),
        goals=goals,
        goal_indicators=list(dict.fromkeys(goal_indicators)),
        actions=actions,
        action_indicators=list(dict.fromkeys(action_indicators)),
        commitments=commitments,
        commitment_indicators=list(dict.fromkeys(commitment_indicators)),
        log_lines=lines,
        own_service=viewer.service,
        organisation_id=viewer.organisation_id,
        goal_groups=list(groups.values()),
        unlinked_actions=unlinked,
    )


#: The one answer to a goal an action may not be linked to: of another plan, unknown, or not seen
#: in full by the user (the three are not told apart).
GOAL_NOT_LINKABLE = gettext_lazy(
    "Elija uno de los objetivos de este itinerario que aparecen en la lista, o ninguno."
)


@dataclass
class LinkableGoals:
    """The goals of a plan an action may be linked to by the viewer: those it sees in full."""

    goals: list[PlanGoal]
    log_lines: list[LogLine] = field(default_factory=list)

    def __contains__(self, goal_id: object) -> bool:
        return any(goal.pk == goal_id for goal in self.goals)

    def choices(self) -> list[tuple[int, str]]:
        return [
            (
                goal.pk,
                f"{Truncator(goal.description).chars(90)} · {goal.owner_organisation.name}",
            )
            for goal in self.goals
        ]


def linkable_goals(
    *, viewer: Viewer, plan: JointPlan, goal_id: int | None = None, request_id: str = ""
) -> LinkableGoals:
    """The plan's goals (or only ``goal_id``, if it is one of them) the viewer sees in full for the
    purpose "itinerario" (``decide_item``, as on the plan page): the only ones an action of the
    viewer's may serve, and the only ones whose text the action form lists. A goal seen only as
    an indicator, or not at all, is left out like a goal of another plan. The log lines are those
    of the goals listed: append them where the page shows them. Two queries."""
    facts = load_facts(viewer=viewer, person_id=plan.person_id, purpose=Purpose.ITINERARY)
    decision = _ItemDecisions(facts)
    qs = PlanGoal.objects.filter(plan_id=plan.pk)
    if goal_id is not None:
        qs = qs.filter(pk=goal_id)
    goals = [
        goal
        for goal in qs.select_related("owner_organisation").order_by("start_date", "id")
        if decision(goal.category, goal.owner_service, goal.owner_organisation).level == FULL
    ]
    lines = _unique_lines(
        _log_line(viewer, plan.person_id, Purpose.ITINERARY, d, request_id)
        for d in decision.cache.values()
        if d.level == FULL
    )
    return LinkableGoals(goals=goals, log_lines=lines)


def plan_action_for_viewer(*, viewer: Viewer, action_id: int) -> PlanAction:
    """An action owned by the viewer's organisation, of a plan it takes part in; else 404.
    ``from_agreement``: whether it was a conference agreement (it then keeps its text and area)."""
    action = (
        PlanAction.objects.filter(
            pk=action_id,
            owner_organisation_id=viewer.organisation_id,
            plan__in=plans_for(organisation_id=viewer.organisation_id),
        )
        .select_related("plan", "resource")
        .annotate(
            from_agreement=Exists(ConferenceAgreement.objects.filter(plan_action=OuterRef("pk")))
        )
        .first()
    )
    if action is None:
        raise Http404
    return action


def plan_goal_for_viewer(*, viewer: Viewer, goal_id: int) -> PlanGoal:
    """A goal owned by the viewer's organisation, of a plan it takes part in; else 404."""
    goal = (
        PlanGoal.objects.filter(
            pk=goal_id,
            owner_organisation_id=viewer.organisation_id,
            plan__in=plans_for(organisation_id=viewer.organisation_id),
        )
        .select_related("plan")
        .first()
    )
    if goal is None:
        raise Http404
    return goal


def commitment_for_viewer(*, viewer: Viewer, commitment_id: int) -> PlanCommitment:
    """A commitment the viewer's organisation checks, of a plan it takes part in; else 404."""
    commitment = (
        PlanCommitment.objects.filter(
            pk=commitment_id,
            checked_by_organisation_id=viewer.organisation_id,
            plan__in=plans_for(organisation_id=viewer.organisation_id),
        )
        .select_related("plan")
        .first()
    )
    if commitment is None:
        raise Http404
    return commitment


def active_plans_of(*, viewer: Viewer, person_id: int) -> QuerySet[JointPlan]:
    return plans_for(organisation_id=viewer.organisation_id).filter(
        person_id=person_id,
        state__in=[JointPlan.State.DRAFT, JointPlan.State.ACTIVE],
    )


# --- Comisiones -----------------------------------------------------------------------------------


def _conference_access(viewer: Viewer) -> Q:
    attends = ConferenceAttendee.objects.filter(
        conference_id=OuterRef("pk"),
        user_id=viewer.user_id,
        organisation_id=viewer.organisation_id,
    )
    return Q(organising_organisation_id=viewer.organisation_id) | Q(Exists(attends))


def conferences_for(*, viewer: Viewer) -> QuerySet[CaseConference]:
    """Conferences the viewer attends or the viewer's organisation convenes."""
    return (
        CaseConference.objects.filter(_conference_access(viewer))
        .select_related("organising_organisation", "community")
        .annotate(case_count=Count("cases"))
        .order_by("-date", "-id")
    )


def conference_for_viewer(*, viewer: Viewer, conference_id: int) -> CaseConference:
    conference = (
        CaseConference.objects.filter(_conference_access(viewer), pk=conference_id)
        .select_related("organising_organisation", "community", "created_by")
        .first()
    )
    if conference is None:
        raise Http404
    return conference


@dataclass
class CaseItem:
    case: ConferenceCase
    attended: bool
    #: the agreements the viewer sees in full (sharing decides per category and service)
    agreements: list[ConferenceAgreement] = field(default_factory=list)
    #: the (category, service) pairs of agreements the viewer may only know exist
    agreement_indicators: list[Indicator] = field(default_factory=list)
    #: the shown agreements the viewer's service may turn into a plan action
    convertible: set[int] = field(default_factory=set)


@dataclass
class ConferenceView:
    conference: CaseConference
    attendees: list[ConferenceAttendee]
    cases: list[CaseItem]
    log_lines: list[LogLine] = field(default_factory=list)


def agreement_decisions(
    facts: Facts, agreements: Iterable[ConferenceAgreement]
) -> dict[int, Decision]:
    """The viewer's decision for each agreement: its (category, recording service) pair, as for
    a plan action (``decide_item``)."""
    cache: dict[tuple[str, str, int], Decision] = {}
    out = {}
    for agreement in agreements:
        key = (agreement.category, agreement.recorded_by_service, agreement.recorded_by_org_id)
        if key not in cache:
            cache[key] = decide_item(
                facts, agreement.category, agreement.recorded_by_service, agreement.recorded_by_org
            )
        out[agreement.pk] = cache[key]
    return out


def may_convert(viewer: Viewer, agreement: ConferenceAgreement) -> bool:
    """An agreement becomes an action of the service that recorded it, in the same area: the
    action is then seen exactly as the agreement was (decision 0006)."""
    return agreement.recorded_by_service == viewer.service and agreement.category in dict(
        writable_categories(viewer.service)
    )


def conference_view(
    *, viewer: Viewer, conference: CaseConference, request_id: str = ""
) -> ConferenceView:
    """Cases of persons the viewer's organisation attends show the person and the agreements the
    viewer may see; the others only "caso presentado por <organisation>". Each agreement is shown
    as ``sharing.policy.decide`` gives the viewer its (category, recording service) for the
    purpose "comisión": in full, as "there are agreements in area X recorded by service Y"
    (once per pair), or not at all, exactly as if there were none. Case summaries come from
    ``record_for``, one case per request (``conference_case``). Constant number of queries: the
    decision facts of every attended case are read together (``load_facts_many``)."""
    attendees = list(
        conference.attendees.select_related("user", "organisation").order_by(
            "organisation__name", "id"
        )
    )
    cases = list(
        conference.cases.select_related("person", "presented_by_organisation", "presented_by")
        .prefetch_related(
            Prefetch(
                "agreements",
                queryset=ConferenceAgreement.objects.select_related(
                    "recorded_by_org", "plan_action"
                ).order_by("recorded_at", "id"),
            )
        )
        .order_by("added_at", "id")
    )
    attended = set(
        persons_attended_by(viewer.organisation_id)
        .filter(pk__in=[c.person_id for c in cases])
        .values_list("pk", flat=True)
    )
    with_agreements = [c for c in cases if c.person_id in attended and c.agreements.all()]
    all_facts = load_facts_many(
        pairs=[(viewer, c.person_id) for c in with_agreements], purpose=Purpose.CASE_CONFERENCE
    )
    facts_of = {c.pk: f for c, f in zip(with_agreements, all_facts, strict=True)}
    items: list[CaseItem] = []
    lines: list[LogLine | None] = []
    for c in cases:
        item = CaseItem(case=c, attended=c.person_id in attended)
        items.append(item)
        facts = facts_of.get(c.pk)
        if facts is None:
            continue
        decisions = agreement_decisions(facts, c.agreements.all())
        for agreement in c.agreements.all():
            d = decisions[agreement.pk]
            if d.level == FULL:
                item.agreements.append(agreement)
                if may_convert(viewer, agreement):
                    item.convertible.add(agreement.pk)
            elif d.level == INDICATOR:
                indicator = Indicator(agreement.category, agreement.recorded_by_service)
                if indicator not in item.agreement_indicators:
                    item.agreement_indicators.append(indicator)
        lines.extend(
            _log_line(viewer, c.person_id, Purpose.CASE_CONFERENCE, d, request_id)
            for d in decisions.values()
        )
    return ConferenceView(
        conference=conference, attendees=attendees, cases=items, log_lines=_unique_lines(lines)
    )


def case_for_viewer(*, viewer: Viewer, case_id: int) -> ConferenceCase:
    """A case of a conference the viewer sees (attended by the viewer's organisation or not)."""
    case = (
        ConferenceCase.objects.filter(pk=case_id)
        .filter(conference__in=CaseConference.objects.filter(_conference_access(viewer)))
        .select_related("conference", "presented_by_organisation")
        .first()
    )
    if case is None:
        raise Http404
    return case


def conference_case_for_viewer(
    *, viewer: Viewer, conference_id: int, case_id: int
) -> tuple[ConferenceCase, bool]:
    """The case and whether the viewer's organisation attends its person."""
    case = case_for_viewer(viewer=viewer, case_id=case_id)
    if case.conference_id != conference_id:
        raise Http404
    return case, organisation_attends(viewer.organisation_id, case.person_id)


@dataclass
class AgreementView:
    agreement: ConferenceAgreement
    log_lines: list[LogLine]


def agreement_for_viewer(
    *, viewer: Viewer, agreement_id: int, request_id: str = ""
) -> AgreementView:
    """An agreement the viewer may turn into an action: of a conference the viewer sees, about a
    person the organisation attends, seen in full (``sharing.policy.decide`` for its category and
    recording service, purpose "comisión") and recorded by the viewer's kind of service in an area
    it files under (``may_convert``). Anything else is a 404, like a missing id. The page shows
    the agreement's text: its disclosure line comes with it."""
    agreement = (
        ConferenceAgreement.objects.filter(pk=agreement_id)
        .filter(case__conference__in=CaseConference.objects.filter(_conference_access(viewer)))
        .filter(case__person__in=persons_attended_by(viewer.organisation_id))
        .select_related("case__conference", "case__person", "plan_action", "recorded_by_org")
        .first()
    )
    if agreement is None or not may_convert(viewer, agreement):
        raise Http404
    facts = load_facts(
        viewer=viewer, person_id=agreement.case.person_id, purpose=Purpose.CASE_CONFERENCE
    )
    decision = agreement_decisions(facts, [agreement])[agreement.pk]
    if decision.level != FULL:
        raise Http404
    line = _log_line(
        viewer, agreement.case.person_id, Purpose.CASE_CONFERENCE, decision, request_id
    )
    return AgreementView(agreement, [line] if line else [])


# --- Mapa de recursos -----------------------------------------------------------------------------


def resources_search(
    *,
    text: str = "",
    community_code: str = "",
    province=None,
    municipality=None,
    target_group: str = "",
    include_inactive: bool = False,
) -> QuerySet[Resource]:
    """Accent- and case-insensitive search on name and description; a territory filter keeps the
    resources that cover the wider territory (the whole province or community)."""
    qs = Resource.objects.all()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    text = (text or "").strip()
    if text:
        qs = qs.filter(Q(name__unaccent__icontains=text) | Q(description__unaccent__icontains=text))
    if community_code:
        qs = qs.filter(community_id=community_code)
    if municipality is not None:
        qs = qs.filter(
            Q(municipality=municipality)
            | Q(municipality__isnull=True, province_id=municipality.province_id)
            | Q(
                municipality__isnull=True,
                province__isnull=True,
                community_id=municipality.province.community_id,
            )
        )
    elif province is not None:
        qs = qs.filter(
            Q(province=province)
            | Q(
                province__isnull=True, municipality__isnull=True, community_id=province.community_id
            )
        )
    if target_group:
        qs = qs.filter(target_group=target_group)
    return qs.select_related(
        "owner_organisation", "community", "province", "municipality"
    ).order_by("name", "id")


def resource_for_viewer(*, resource_id: int) -> Resource:
    resource = (
        Resource.objects.filter(pk=resource_id)
        .select_related("owner_organisation", "community", "province", "municipality")
        .first()
    )
    if resource is None:
        raise Http404
    return resource


def resources_for_actions(*, community_code: str) -> QuerySet[Resource]:
    return Resource.objects.filter(is_active=True, community_id=community_code).order_by(
        "name", "id"
    )
