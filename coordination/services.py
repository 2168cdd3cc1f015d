"""Writes of the coordination app.

Each function checks who may act (``PermissionDenied``: the view answers 404) and what the
state allows (``ValidationError`` with a Spanish message: the view shows it and keeps the
user's input). Referrals move only along ``Referral.TRANSITIONS``; accepting one opens the
receiver's enrolment through ``sharing.caseload`` in the same transaction. Plans and plan
actions carry a version (optimistic locking).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import ReferenceProfessional
from consent.purposes import Purpose
from ris.accounts.models import Membership, Organisation, Role, User
from ris.accounts.viewer import Viewer
from sharing.caseload import enrolment_open, organisation_attends
from sharing.categories import BY_CODE
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import Channel, DisclosureLogEntry, Enrolment
from sharing.policy import FULL, load_facts

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
from .selectors import (
    GOAL_NOT_LINKABLE,
    agreement_decisions,
    consent_check,
    linkable_goals,
    may_convert,
    organisations_attending,
    writable_categories,
)


class StaleVersion(ValidationError):
    def __init__(self, what: str) -> None:
        super().__init__(
            _(
                "Otra persona ha guardado cambios en %(what)s mientras lo editaba. "
                "Sus datos no se han perdido: "
                "revise la versión actual y vuelva a aplicar sus cambios."
            )
            % {"what": what},
            code="stale",
        )


def _reevaluate(person_id: int) -> None:
    """Referrals and plans feed several alert rules: re-evaluate the person after commit."""
    from diagnostics.tasks import queue_person_evaluation

    queue_person_evaluation(person_id)


def _clean_categories(categories: list[str]) -> list[str]:
    categories = list(dict.fromkeys(categories or []))
    if not categories:
        raise ValidationError({"categories": _("Indique al menos una categoría.")})
    unknown = [c for c in categories if c not in BY_CODE]
    if unknown:
        raise ValidationError(
            {"categories": _("Categoría desconocida: %(c)s.") % {"c": ", ".join(unknown)}}
        )
    return categories


def _labels(codes) -> str:
    return ", ".join(f"«{BY_CODE[c].label}»" for c in codes)


def _purpose_label(purpose: str) -> str:
    return str(Purpose(purpose).label)


# --- Derivaciones ---------------------------------------------------------------------------------


def _referral_consent(
    *, person_id: int, organisation: Organisation, categories: list[str], purpose: str
) -> tuple[str, list[int]]:
    """(a Spanish explanation of what the consents in force do not cover, or "", the consents used).

    The receiver needs "derivación" and, when the referral names another purpose, that one too.
    """
    ids: set[int] = set()
    for needed in dict.fromkeys([Purpose.REFERRAL.value, purpose]):
        check = consent_check(
            person_id=person_id, organisation=organisation, categories=categories, purpose=needed
        )
        if not check.covered:
            if len(check.missing) == len(categories):
                return _(
                    "No consta un consentimiento vigente de la persona que autorice a %(org)s "
                    "para la finalidad "
                    "«%(purpose)s». Recoja el consentimiento antes de derivar."
                ) % {"org": organisation.name, "purpose": _purpose_label(needed)}, []
            return _(
                "El consentimiento vigente no autoriza a %(org)s a ver %(categories)s "
                "para la finalidad "
                "«%(purpose)s». Quite esas categorías o recoja un consentimiento que las cubra."
            ) % {
                "org": organisation.name,
                "categories": _labels(check.missing),
                "purpose": _purpose_label(needed),
            }, []
        ids.update(check.consent_ids)
    return "", sorted(ids)


@transaction.atomic
def referral_send(
    *,
    viewer: Viewer,
    person_id: int,
    to_organisation_id: int,
    reason: str,
    categories: list[str],
    purpose: str = Purpose.REFERRAL,
    link_request_id: int | None = None,
) -> Referral:
    """Send a referral. The sender must attend the person; a consent in force must grant the
    receiver (organisation or service kind) "derivación" (and the referral's purpose) for every
    category. ``link_request_id``: the referral answers that request for a link (the receiver is
    the organisation that asked), which it closes."""
    facts = load_facts(viewer=viewer, person_id=person_id, purpose=Purpose.REFERRAL)
    if not facts.attends:
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Explique el motivo de la derivación.")})
    if purpose not in Purpose.values or purpose == Purpose.EVALUATION:
        raise ValidationError({"purpose": _("Elija una finalidad válida.")})
    categories = _clean_categories(categories)
    receiver = Organisation.objects.filter(pk=to_organisation_id, is_active=True).first()
    if receiver is None:
        raise ValidationError({"to_organisation": _("Elija una organización activa.")})
    if receiver.pk == viewer.organisation_id:
        raise ValidationError({"to_organisation": _("No puede derivar a su propia organización.")})
    problem, consent_ids = _referral_consent(
        person_id=person_id, organisation=receiver, categories=categories, purpose=purpose
    )
    if problem:
        raise ValidationError(problem, code="no_consent")
    if Referral.objects.filter(
        person_id=person_id, to_organisation=receiver, state=Referral.State.SENT
    ).exists():
        raise ValidationError(
            _("Ya hay una derivación pendiente de esta persona a %(org)s.") % {"org": receiver.name}
        )
    link = None
    if link_request_id is not None:
        link = (
            LinkRequest.objects.select_for_update()
            .filter(pk=link_request_id, person_id=person_id, state=LinkRequest.State.PENDING)
            .exclude(from_organisation_id=viewer.organisation_id)
            .first()
        )
        if link is None:
            raise ValidationError(_("Esta solicitud de vinculación ya ha sido atendida."))
        if link.from_organisation_id != receiver.pk:
            raise ValidationError(
                {
                    "to_organisation": _(
                        "Para atender la solicitud de vinculación, derive a la organización que "
                        "la hizo."
                    )
                }
            )
    referral = Referral.objects.create(
        person_id=person_id,
        from_organisation_id=viewer.organisation_id,
        to_organisation=receiver,
        reason=reason,
        categories=categories,
        purpose=purpose,
        consent_ids=consent_ids,
        sent_by_id=viewer.user_id,
        sent_at=timezone.now(),
    )
    if link is not None:
        link.state, link.referral = LinkRequest.State.REFERRED, referral
        link.answered_at, link.answered_by_id = referral.sent_at, viewer.user_id
        link.answered_by_organisation_id = viewer.organisation_id
        link.save(
            update_fields=[
                "state",
                "referral",
                "answered_at",
                "answered_by",
                "answered_by_organisation",
            ]
        )
    _reevaluate(person_id)
    return referral


def _transition(viewer: Viewer, referral_id: int, action: str) -> tuple[Referral, str]:
    """Lock the referral, check the viewer's side and the transition table; return the new state."""
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person", "to_organisation")
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        raise PermissionDenied
    side = Referral.SIDE[action]
    own = referral.to_organisation_id if side == "receiver" else referral.from_organisation_id
    if own != viewer.organisation_id:
        raise PermissionDenied
    allowed = referral.allowed_actions()
    if action not in allowed:
        raise ValidationError(
            _("No se puede %(action)s una derivación en estado «%(state)s».")
            % {
                "action": Referral.Action(action).label,
                "state": Referral.State(referral.state).label,
            },
            code="transition",
        )
    return referral, allowed[action]


@transaction.atomic
def referral_accept(*, viewer: Viewer, referral_id: int) -> Referral:
    """The receiver accepts: it now attends the person (enrolment with origin "referral") and the
    accepting user becomes its reference professional, in this same transaction. The person's
    evaluation is queued once, on commit: the referral is answered, and the receiver, attending
    now, receives the person's alerts still open (decision 0007)."""
    referral, new_state = _transition(viewer, referral_id, Referral.Action.ACCEPT)
    problem, _ids = _referral_consent(
        person_id=referral.person_id,
        organisation=referral.to_organisation,
        categories=referral.categories,
        purpose=referral.purpose,
    )
    if problem:
        raise ValidationError(
            _(
                "No se puede aceptar: el consentimiento que amparaba la derivación ya no está "
                "en vigor o ya no la "
                "cubre. Puede rechazarla indicando el motivo."
            ),
            code="no_consent",
        )
    now = timezone.now()
    referral.state, referral.accepted_at, referral.accepted_by_id = new_state, now, viewer.user_id
    referral.save(update_fields=["state", "accepted_at", "accepted_by"])
    enrolment_open(
        organisation=referral.to_organisation,
        person=referral.person,
        origin=Enrolment.Origin.REFERRAL,
        by=User.objects.get(pk=viewer.user_id),
        evaluate=False,  # queued below, once
    )
    ReferenceProfessional.objects.get_or_create(
        person_id=referral.person_id,
        organisation_id=viewer.organisation_id,
        defaults={"professional_id": viewer.user_id},
    )
    _reevaluate(referral.person_id)
    return referral


@transaction.atomic
def referral_reject(*, viewer: Viewer, referral_id: int, reason: str) -> Referral:
    reason = (reason or "").strip()
    referral, new_state = _transition(viewer, referral_id, Referral.Action.REJECT)
    if not reason:
        raise ValidationError({"rejection_reason": _("Indique el motivo del rechazo.")})
    referral.state, referral.rejected_at, referral.rejected_by_id = (
        new_state,
        timezone.now(),
        viewer.user_id,
    )
    referral.rejection_reason = reason
    referral.save(update_fields=["state", "rejected_at", "rejected_by", "rejection_reason"])
    _reevaluate(referral.person_id)
    return referral


@transaction.atomic
def referral_complete(*, viewer: Viewer, referral_id: int, note: str = "") -> Referral:
    referral, new_state = _transition(viewer, referral_id, Referral.Action.COMPLETE)
    referral.state, referral.completed_at, referral.completed_by_id = (
        new_state,
        timezone.now(),
        viewer.user_id,
    )
    referral.completion_note = (note or "").strip()
    referral.save(update_fields=["state", "completed_at", "completed_by", "completion_note"])
    _reevaluate(referral.person_id)
    return referral


@transaction.atomic
def referral_cancel(*, viewer: Viewer, referral_id: int) -> Referral:
    referral, new_state = _transition(viewer, referral_id, Referral.Action.CANCEL)
    referral.state, referral.cancelled_at, referral.cancelled_by_id = (
        new_state,
        timezone.now(),
        viewer.user_id,
    )
    referral.save(update_fields=["state", "cancelled_at", "cancelled_by"])
    _reevaluate(referral.person_id)
    return referral


# --- Solicitudes de vinculación ----------------------------------------------------------------


@transaction.atomic
def link_request_create(*, viewer: Viewer, person_id: int, reason: str) -> LinkRequest:
    """After "esta persona ya consta en el sistema": the viewer's organisation, which does not
    attend the person, asks the organisations that do to refer the person to it. ``person_id``
    comes from the logged exact lookup (``cases.search.lookup_outside_caseload``); the request is
    logged too (a ``lookup`` line with the basis ``link_request:<id>``), in this transaction."""
    from cases.models import Person

    if organisation_attends(viewer.organisation_id, person_id):
        raise PermissionDenied  # nothing to link: the view opens the record instead
    if not Person.objects.filter(pk=person_id, merged_into__isnull=True).exists():
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Explique para qué necesita la vinculación.")})
    if LinkRequest.objects.filter(
        person_id=person_id,
        from_organisation_id=viewer.organisation_id,
        state=LinkRequest.State.PENDING,
    ).exists():
        raise ValidationError(
            _("Su organización ya tiene una solicitud de vinculación pendiente para esta persona.")
        )
    link = LinkRequest.objects.create(
        person_id=person_id,
        from_organisation_id=viewer.organisation_id,
        reason=reason,
        requested_by_id=viewer.user_id,
        requested_at=timezone.now(),
    )
    disclosure_log_append(
        [
            LogLine(
                event=DisclosureLogEntry.Event.LOOKUP,
                channel=Channel.WEB,
                user_id=viewer.user_id,
                organisation_id=viewer.organisation_id,
                role=viewer.role,
                person_id=person_id,
                category="ficha_basica",
                level="indicator",
                purpose=Purpose.REFERRAL,
                basis=f"link_request:{link.pk}",
            )
        ]
    )
    return link


@transaction.atomic
def link_request_decline(*, viewer: Viewer, link_request_id: int, reason: str) -> LinkRequest:
    """An organisation that attends the person answers that it will not refer them (the reason
    is read by the requester)."""
    link = (
        LinkRequest.objects.select_for_update()
        .filter(pk=link_request_id)
        .exclude(from_organisation_id=viewer.organisation_id)
        .first()
    )
    if link is None or not organisation_attends(viewer.organisation_id, link.person_id):
        raise PermissionDenied
    if link.state != LinkRequest.State.PENDING:
        raise ValidationError(_("Esta solicitud de vinculación ya ha sido atendida."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"decline_reason": _("Indique por qué no deriva a la persona.")})
    link.state, link.decline_reason = LinkRequest.State.DECLINED, reason
    link.answered_at, link.answered_by_id = timezone.now(), viewer.user_id
    link.answered_by_organisation_id = viewer.organisation_id
    link.save(
        update_fields=[
            "state",
            "decline_reason",
            "answered_at",
            "answered_by",
            "answered_by_organisation",
        ]
    )
    return link


# --- Consultas bajo demanda -----------------------------------------------------------------------


@transaction.atomic
def information_request_create(
    *,
    viewer: Viewer,
    person_id: int,
    to_organisation_id: int,
    question: str,
    categories: list[str],
    purpose: str = Purpose.FOLLOW_UP,
) -> InformationRequest:
    """Only between two organisations that both attend the person."""
    if not organisation_attends(viewer.organisation_id, person_id):
        raise PermissionDenied
    question = (question or "").strip()
    if not question:
        raise ValidationError({"question": _("Escriba la consulta.")})
    if purpose not in Purpose.values or purpose == Purpose.EVALUATION:
        raise ValidationError({"purpose": _("Elija una finalidad válida.")})
    categories = _clean_categories(categories)
    if to_organisation_id == viewer.organisation_id:
        raise ValidationError(
            {"to_organisation": _("No puede consultarse a su propia organización.")}
        )
    if not organisations_attending(person_id=person_id).filter(pk=to_organisation_id).exists():
        raise ValidationError(
            {
                "to_organisation": _(
                    "Solo puede consultar a una organización que también atienda a esta persona."
                )
            }
        )
    return InformationRequest.objects.create(
        person_id=person_id,
        from_organisation_id=viewer.organisation_id,
        to_organisation_id=to_organisation_id,
        question=question,
        categories=categories,
        purpose=purpose,
        asked_by_id=viewer.user_id,
        asked_at=timezone.now(),
    )


@transaction.atomic
def information_request_answer(
    *, viewer: Viewer, request_id: int, answer: str
) -> InformationRequest:
    info = InformationRequest.objects.select_for_update().filter(pk=request_id).first()
    if info is None or info.to_organisation_id != viewer.organisation_id:
        raise PermissionDenied
    if not organisation_attends(viewer.organisation_id, info.person_id):
        raise PermissionDenied
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": _("Escriba la respuesta.")})
    if info.is_answered:
        raise ValidationError(_("Esta consulta ya fue respondida."), code="answered")
    info.answer, info.answered_at, info.answered_by_id = answer, timezone.now(), viewer.user_id
    info.save(update_fields=["answer", "answered_at", "answered_by"])
    return info


# --- Itinerarios conjuntos ------------------------------------------------------------------------


def _plan_organisations(person_id: int, viewer: Viewer, organisation_ids) -> list[int]:
    ids = set(int(i) for i in organisation_ids or []) | {viewer.organisation_id}
    attending = set(
        organisations_attending(person_id=person_id).filter(pk__in=ids).values_list("pk", flat=True)
    )
    outside = ids - attending
    if outside:
        raise ValidationError(
            {"organisations": _("Solo pueden participar organizaciones que atienden a la persona.")}
        )
    return sorted(ids)


def _check_plan_fields(plan: JointPlan) -> None:
    try:
        plan.full_clean(exclude=["person", "organising_organisation", "created_by"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


@transaction.atomic
def plan_create(
    *,
    viewer: Viewer,
    person_id: int,
    title: str,
    start_date: dt.date,
    review_date: dt.date,
    organisation_ids: list[int] | None = None,
    state: str = JointPlan.State.DRAFT,
    person_agreed: bool = False,
    signed_on: dt.date | None = None,
) -> JointPlan:
    if not organisation_attends(viewer.organisation_id, person_id):
        raise PermissionDenied
    ids = _plan_organisations(person_id, viewer, organisation_ids)
    plan = JointPlan(
        person_id=person_id,
        title=(title or "").strip(),
        start_date=start_date,
        review_date=review_date,
        state=state,
        person_agreed=person_agreed,
        signed_on=signed_on,
        organising_organisation_id=viewer.organisation_id,
        created_by_id=viewer.user_id,
    )
    _check_plan_fields(plan)
    plan.save()
    plan.organisations.set(ids)
    _reevaluate(person_id)
    return plan


def _participant_plan(viewer: Viewer, plan_id: int, *, lock: bool = False) -> JointPlan:
    qs = JointPlan.objects.select_for_update(of=("self",)) if lock else JointPlan.objects
    plan = qs.filter(pk=plan_id, organisations__id=viewer.organisation_id).first()
    if plan is None or not organisation_attends(viewer.organisation_id, plan.person_id):
        raise PermissionDenied
    return plan


PLAN_FIELDS = ("title", "start_date", "review_date", "state", "person_agreed", "signed_on")


@transaction.atomic
def plan_update(
    *,
    viewer: Viewer,
    plan_id: int,
    version: int,
    data: dict[str, Any],
    organisation_ids: list[int] | None = None,
) -> JointPlan:
    """Change the plan's own fields if nobody saved it since ``version`` was read."""
    plan = _participant_plan(viewer, plan_id, lock=True)
    if plan.version != version:
        raise StaleVersion(_("este itinerario"))
    for name, value in data.items():
        if name not in PLAN_FIELDS:
            raise ValueError(name)
        setattr(plan, name, value)
    _check_plan_fields(plan)
    if organisation_ids is not None:
        wanted = set(
            _plan_organisations(
                plan.person_id, viewer, [*organisation_ids, plan.organising_organisation_id]
            )
        )
        current = set(plan.organisations.values_list("pk", flat=True))
        if wanted != current:
            if viewer.organisation_id != plan.organising_organisation_id:
                raise ValidationError(
                    {
                        "organisations": _(
                            "Solo la organización que impulsa el itinerario puede cambiar "
                            "los participantes."
                        )
                    }
                )
            plan.organisations.set(wanted)
    plan.version = version + 1
    plan.save()
    _reevaluate(plan.person_id)
    return plan


def _check_own_category(viewer: Viewer, category: str, message: str = "") -> None:
    if category not in dict(writable_categories(viewer.service)):
        raise ValidationError(
            {
                "category": message
                or _(
                    "Su servicio solo puede registrar acciones y compromisos en sus propias áreas."
                )
            }
        )


@transaction.atomic
def plan_action_create(
    *,
    viewer: Viewer,
    plan_id: int,
    action_type: str,
    description: str,
    category: str,
    start_date: dt.date,
    end_date: dt.date | None = None,
    review_date: dt.date | None = None,
    resource_id: int | None = None,
    goal_id: int | None = None,
) -> PlanAction:
    """An action of the viewer's own organisation and service, serving ``goal_id`` if given: a
    goal of the plan that the viewer sees in full (``_check_linkable_goal``)."""
    plan = _participant_plan(viewer, plan_id)
    _check_own_category(viewer, category)
    if (
        resource_id is not None
        and not Resource.objects.filter(pk=resource_id, is_active=True).exists()
    ):
        raise ValidationError({"resource": _("Elija un recurso activo del catálogo.")})
    if goal_id is not None:
        _check_linkable_goal(viewer, plan, goal_id)
    action = PlanAction(
        plan=plan,
        owner_organisation_id=viewer.organisation_id,
        owner_service=viewer.service,
        action_type=action_type,
        description=(description or "").strip(),
        category=category,
        start_date=start_date,
        end_date=end_date,
        review_date=review_date,
        resource_id=resource_id,
        goal_id=goal_id,
        created_by_id=viewer.user_id,
    )
    _check_action(action)
    action.save()
    _reevaluate(action.plan.person_id)
    return action


def _check_linkable_goal(viewer: Viewer, plan: JointPlan, goal_id: int) -> None:
    """An action may serve a goal of its plan, of any service, that the viewer sees in full. A goal
    of another plan, an unknown one and one the viewer sees only as an indicator or not at all get
    the same answer, which names none of them."""
    if goal_id not in linkable_goals(viewer=viewer, plan=plan, goal_id=goal_id):
        raise ValidationError({"goal": GOAL_NOT_LINKABLE})


def _check_action(action: PlanAction) -> None:
    try:
        action.full_clean(exclude=["plan", "owner_organisation", "created_by", "resource"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


#: what the owner may change in an action (its state: ``plan_action_set_state``)
ACTION_FIELDS = (
    "action_type",
    "description",
    "category",
    "start_date",
    "end_date",
    "review_date",
    "resource_id",
    "goal_id",
)
#: what an action that was a conference agreement keeps from it
AGREEMENT_FIELDS = ("description", "category")


@transaction.atomic
def plan_action_update(
    *, viewer: Viewer, action_id: int, version: int, data: dict[str, Any]
) -> PlanAction:
    """Only the organisation that owns the action changes it, and only if nobody saved it since
    ``version`` was read. ``data`` holds the fields to change (``ACTION_FIELDS``): without
    ``goal_id`` the link stays as it is, also to a goal the viewer no longer sees; a new goal must
    be one the viewer sees in full. An action that was a conference agreement keeps its text and
    area, so it stays seen exactly as the agreement was."""
    action = PlanAction.objects.select_for_update().filter(pk=action_id).first()
    if action is None or action.owner_organisation_id != viewer.organisation_id:
        raise PermissionDenied
    plan = _participant_plan(viewer, action.plan_id)
    if action.version != version:
        raise StaleVersion(_("esta acción"))
    from_agreement = ConferenceAgreement.objects.filter(plan_action=action).exists()
    old_resource_id = action.resource_id
    for name, value in data.items():
        if name not in ACTION_FIELDS:
            raise ValueError(name)
        if name == "description":
            value = (value or "").strip()
        if from_agreement and name in AGREEMENT_FIELDS and value != getattr(action, name):
            raise ValidationError(
                {
                    name: _(
                        "Esta acción procede de un acuerdo de comisión: conserva su texto y su área."
                    )
                }
            )
        setattr(action, name, value)
    _check_own_category(viewer, action.category)
    if (
        action.resource_id is not None
        and action.resource_id != old_resource_id
        and not Resource.objects.filter(pk=action.resource_id, is_active=True).exists()
    ):
        raise ValidationError({"resource": _("Elija un recurso activo del catálogo.")})
    if data.get("goal_id") is not None:
        _check_linkable_goal(viewer, plan, data["goal_id"])
    _check_action(action)
    action.version = version + 1
    action.save()
    _reevaluate(plan.person_id)
    return action


@transaction.atomic
def plan_action_set_state(
    *, viewer: Viewer, action_id: int, version: int, state: str
) -> PlanAction:
    """Only the organisation that owns the action changes its state."""
    action = PlanAction.objects.select_for_update().filter(pk=action_id).first()
    if action is None or action.owner_organisation_id != viewer.organisation_id:
        raise PermissionDenied
    _participant_plan(viewer, action.plan_id)
    if state not in PlanAction.State.values:
        raise ValidationError({"state": _("Elija un estado válido.")})
    if action.version != version:
        raise StaleVersion(_("esta acción"))
    action.state = state
    action.version = version + 1
    action.save(update_fields=["state", "version", "updated_at"])
    _reevaluate(action.plan.person_id)
    return action


GOAL_FIELDS = ("description", "category", "state", "start_date", "target_date", "review_date")


def _check_goal(goal: PlanGoal) -> None:
    try:
        goal.full_clean(exclude=["plan", "owner_organisation", "created_by"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


@transaction.atomic
def plan_goal_create(
    *,
    viewer: Viewer,
    plan_id: int,
    description: str,
    category: str,
    start_date: dt.date,
    target_date: dt.date | None = None,
    review_date: dt.date | None = None,
    state: str = PlanGoal.State.PENDING,
) -> PlanGoal:
    """An objective of the viewer's own organisation and service, in one of its own areas."""
    plan = _participant_plan(viewer, plan_id)
    _check_own_category(
        viewer, category, _("Su servicio solo puede registrar objetivos en sus propias áreas.")
    )
    goal = PlanGoal(
        plan=plan,
        owner_organisation_id=viewer.organisation_id,
        owner_service=viewer.service,
        description=(description or "").strip(),
        category=category,
        state=state,
        start_date=start_date,
        target_date=target_date,
        review_date=review_date,
        created_by_id=viewer.user_id,
    )
    _check_goal(goal)
    goal.save()
    _reevaluate(plan.person_id)
    return goal


@transaction.atomic
def plan_goal_update(
    *, viewer: Viewer, goal_id: int, version: int, data: dict[str, Any]
) -> PlanGoal:
    """Only the organisation that owns the objective changes it, and only if nobody saved it since
    ``version`` was read."""
    goal = PlanGoal.objects.select_for_update().filter(pk=goal_id).first()
    if goal is None or goal.owner_organisation_id != viewer.organisation_id:
        raise PermissionDenied
    _participant_plan(viewer, goal.plan_id)
    if goal.version != version:
        raise StaleVersion(_("este objetivo"))
    for name, value in data.items():
        if name not in GOAL_FIELDS:
            raise ValueError(name)
        setattr(goal, name, (value or "").strip() if name == "description" else value)
    _check_own_category(
        viewer, goal.category, _("Su servicio solo puede registrar objetivos en sus propias áreas.")
    )
    _check_goal(goal)
    goal.version = version + 1
    goal.save()
    _reevaluate(goal.plan.person_id)
    return goal


@transaction.atomic
def commitment_create(
    *, viewer: Viewer, plan_id: int, description: str, category: str
) -> PlanCommitment:
    """A commitment that the viewer's organisation will check."""
    plan = _participant_plan(viewer, plan_id)
    _check_own_category(viewer, category)
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("Describa el compromiso.")})
    return PlanCommitment.objects.create(
        plan=plan,
        description=description,
        category=category,
        checked_by_organisation_id=viewer.organisation_id,
        checked_by_service=viewer.service,
        created_by_id=viewer.user_id,
    )


@transaction.atomic
def compliance_record(
    *, viewer: Viewer, commitment_id: int, date: dt.date, complied: bool, note: str = ""
) -> CommitmentCompliance:
    """Recorded only by the organisation that checks the commitment."""
    commitment = PlanCommitment.objects.filter(pk=commitment_id).first()
    if commitment is None or commitment.checked_by_organisation_id != viewer.organisation_id:
        raise PermissionDenied
    _participant_plan(viewer, commitment.plan_id)
    if date > timezone.localdate():
        raise ValidationError({"date": _("La fecha no puede ser posterior a hoy.")})
    return CommitmentCompliance.objects.create(
        commitment=commitment,
        date=date,
        complied=complied,
        note=(note or "").strip(),
        recorded_by_id=viewer.user_id,
        recorded_by_org_id=viewer.organisation_id,
    )


# --- Comisiones -----------------------------------------------------------------------------------


def _may_use_conference(viewer: Viewer, conference: CaseConference) -> bool:
    return (
        conference.organising_organisation_id == viewer.organisation_id
        or conference.attendees.filter(
            user_id=viewer.user_id,
            organisation_id=viewer.organisation_id,
        ).exists()
    )


@transaction.atomic
def conference_create(
    *,
    viewer: Viewer,
    title: str,
    date: dt.date,
    kind: str = CaseConference.Kind.TECHNICAL,
    community_code: str | None = None,
    territory: str = "",
    attendee_membership_ids: list[int] | None = None,
) -> CaseConference:
    """The viewer's organisation convenes and the viewer attends; attendees are memberships."""
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Indique el título de la comisión.")})
    conference = CaseConference.objects.create(
        kind=kind,
        date=date,
        title=title,
        community_id=community_code or viewer.community_code,
        territory=(territory or "").strip(),
        organising_organisation_id=viewer.organisation_id,
        created_by_id=viewer.user_id,
    )
    pairs = {(viewer.user_id, viewer.organisation_id)}
    memberships = Membership.objects.filter(
        pk__in=attendee_membership_ids or [], is_active=True, organisation__is_active=True
    )
    pairs.update(memberships.values_list("user_id", "organisation_id"))
    ConferenceAttendee.objects.bulk_create(
        [
            ConferenceAttendee(conference=conference, user_id=u, organisation_id=o)
            for u, o in sorted(pairs)
        ]
    )
    return conference


@transaction.atomic
def conference_case_add(*, viewer: Viewer, conference_id: int, person_id: int) -> ConferenceCase:
    """An attendee presents a person their organisation attends."""
    conference = CaseConference.objects.filter(pk=conference_id).first()
    if conference is None or not _may_use_conference(viewer, conference):
        raise PermissionDenied
    if not organisation_attends(viewer.organisation_id, person_id):
        raise ValidationError(
            _("Solo puede presentar casos de personas que atiende su organización.")
        )
    if ConferenceCase.objects.filter(conference=conference, person_id=person_id).exists():
        raise ValidationError(_("Este caso ya está en la comisión."))
    try:
        with transaction.atomic():
            return ConferenceCase.objects.create(
                conference=conference,
                person_id=person_id,
                presented_by_organisation_id=viewer.organisation_id,
                presented_by_id=viewer.user_id,
            )
    except IntegrityError as exc:
        raise ValidationError(_("Este caso ya está en la comisión.")) from exc


@transaction.atomic
def agreement_create(
    *, viewer: Viewer, case_id: int, text: str, category: str
) -> ConferenceAgreement:
    """An agreement about a case the viewer's organisation attends, filed by the viewer's service
    under one of its own areas: attendees see it as sharing gives them that area."""
    case = ConferenceCase.objects.select_related("conference").filter(pk=case_id).first()
    if case is None or not _may_use_conference(viewer, case.conference):
        raise PermissionDenied
    if not organisation_attends(viewer.organisation_id, case.person_id):
        raise PermissionDenied
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Escriba el acuerdo.")})
    if not category:
        raise ValidationError({"category": _("Indique el área a la que se refiere el acuerdo.")})
    _check_own_category(
        viewer, category, _("Su servicio solo puede registrar acuerdos en sus propias áreas.")
    )
    return ConferenceAgreement.objects.create(
        case=case,
        text=text,
        category=category,
        recorded_by_service=viewer.service,
        recorded_by_id=viewer.user_id,
        recorded_by_org_id=viewer.organisation_id,
        recorded_at=timezone.now(),
    )


@transaction.atomic
def agreement_to_action(
    *,
    viewer: Viewer,
    agreement_id: int,
    plan_id: int,
    action_type: str,
    start_date: dt.date,
    end_date: dt.date | None = None,
    review_date: dt.date | None = None,
    resource_id: int | None = None,
) -> PlanAction:
    """Turn an agreement into an action of the viewer's service in one of the person's plans.

    The action keeps the agreement's area, and only the kind of service that recorded the
    agreement converts it, so the action is seen exactly as the agreement was; the viewer must
    see the agreement in full."""
    agreement = (
        ConferenceAgreement.objects.select_for_update(of=("self",))
        .select_related("case__conference", "recorded_by_org")
        .filter(pk=agreement_id)
        .first()
    )
    if agreement is None or not _may_use_conference(viewer, agreement.case.conference):
        raise PermissionDenied
    if not organisation_attends(viewer.organisation_id, agreement.case.person_id):
        raise PermissionDenied
    facts = load_facts(
        viewer=viewer, person_id=agreement.case.person_id, purpose=Purpose.CASE_CONFERENCE
    )
    if agreement_decisions(facts, [agreement])[agreement.pk].level != FULL:
        raise PermissionDenied
    if not may_convert(viewer, agreement):
        raise ValidationError(
            _(
                "Solo el servicio que registró el acuerdo puede convertirlo en una acción: la "
                "acción conserva su área."
            )
        )
    if agreement.plan_action_id is not None:
        raise ValidationError(_("Este acuerdo ya se convirtió en una acción del itinerario."))
    plan = JointPlan.objects.filter(pk=plan_id, person_id=agreement.case.person_id).first()
    if plan is None:
        raise ValidationError({"plan": _("Elija un itinerario de esta persona.")})
    action = plan_action_create(
        viewer=viewer,
        plan_id=plan.pk,
        action_type=action_type,
        description=agreement.text,
        category=agreement.category,
        start_date=start_date,
        end_date=end_date,
        review_date=review_date,
        resource_id=resource_id,
    )
    agreement.plan_action = action
    agreement.save(update_fields=["plan_action"])
    return action


# --- Mapa de recursos -----------------------------------------------------------------------------


RESOURCE_FIELDS = (
    "name",
    "owner_organisation",
    "description",
    "community",
    "province",
    "municipality",
    "target_group",
    "eligibility",
    "places",
    "funding_source",
    "start_date",
    "end_date",
    "contact",
    "is_active",
)


def may_edit_resource(
    viewer: Viewer, resource: Resource | None = None, community_code: str | None = None
) -> bool:
    """Administrators edit any resource; coordinators those of their own autonomous community."""
    if viewer.role == Role.ADMINISTRATOR:
        return True
    if viewer.role != Role.COORDINATOR:
        return False
    community = resource.community_id if resource is not None else community_code
    return community in (None, viewer.community_code)


@transaction.atomic
def resource_save(
    *, viewer: Viewer, data: dict[str, Any], resource: Resource | None = None
) -> Resource:
    if resource is not None and not may_edit_resource(viewer, resource):
        raise PermissionDenied
    target = resource or Resource()
    for name, value in data.items():
        if name not in RESOURCE_FIELDS:
            raise ValueError(name)
        setattr(target, name, value)
    if not may_edit_resource(viewer, community_code=target.community_id):
        raise ValidationError(
            {"community": _("Solo puede registrar recursos de su comunidad autónoma.")}
        )
    municipality = target.municipality
    if municipality is not None:
        if target.province_id and municipality.province_id != target.province_id:
            raise ValidationError(
                {"municipality": _("El municipio no pertenece a la provincia indicada.")}
            )
        target.province_id = municipality.province_id
    if target.province is not None and target.province.community_id != target.community_id:
        raise ValidationError(
            {"province": _("La provincia no pertenece a la comunidad autónoma indicada.")}
        )
    target.full_clean()
    target.save()
    return target
