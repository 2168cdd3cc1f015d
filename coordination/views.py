"""Pages of the coordination app: thin views that parse, call one service or selector, and render.

Anything a viewer may not act on is a 404 (``PermissionDenied`` from a service becomes
``Http404`` here). Pages that show another service's data append their disclosure log
lines with one ``disclosure_log_append`` call, in the transaction that builds the response.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import Person
from consent.purposes import Purpose
from diagnostics.record import record_with_diagnostics
from ris.accounts.access import role_required
from ris.accounts.models import Role
from sharing.caseload import persons_attended_by
from sharing.disclosure import disclosure_log_append
from sharing.models import Channel
from sharing.record import visible_person

from . import selectors, services
from .forms import (
    ActionStateForm,
    AgreementActionForm,
    AgreementForm,
    AnswerForm,
    CommitmentForm,
    ComplianceForm,
    ConferenceCaseForm,
    ConferenceForm,
    InformationRequestFilterForm,
    InformationRequestForm,
    LinkRequestDeclineForm,
    LinkRequestForm,
    PlanActionEditForm,
    PlanActionForm,
    PlanForm,
    PlanGoalForm,
    ReferralCompleteForm,
    ReferralFilterForm,
    ReferralForm,
    ReferralRejectForm,
    ResourceForm,
    ResourceSearchForm,
)

STAFF_ROLES = (
    Role.SOCIAL_WORKER,
    Role.EMPLOYMENT_COUNSELLOR,
    Role.NGO_TECHNICIAN,
    Role.COORDINATOR,
)
ALL_ROLES = tuple(Role.values)
RESOURCE_EDITORS = (Role.COORDINATOR, Role.ADMINISTRATOR)
PAGE_SIZE = 25


def _ns(request) -> str:
    """The namespace these pages are served under: the workspace's, or the NGO portal's."""
    match = request.resolver_match
    return "portal" if match is not None and match.namespace == "portal" else "coordination"


def _record_ns(request) -> str:
    """The namespace of the record pages that go with ``_ns``."""
    return "portal" if _ns(request) == "portal" else "workspace"


def _request_id(request) -> str:
    return getattr(request, "id", "")


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        form.add_error(None, exc)


def _listing(request, queryset) -> dict:
    """The page asked for, and the query string without "page" for the pager's links."""
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "page": Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": params.urlencode(),
    }


def _attended_person(request, person_id: int, purpose: str) -> Person:
    """The person, if the viewer's organisation attends them (sharing logs a refusal); else 404."""
    facts = visible_person(
        viewer=request.viewer,
        person_id=person_id,
        purpose=purpose,
        channel=Channel.WEB,
        request_id=_request_id(request),
    )
    if not facts.attends:  # an emergency access does not let anyone refer, ask or plan
        raise Http404
    return Person.objects.only("id", "first_name", "last_name_1", "last_name_2").get(pk=person_id)


# --- Derivaciones ---------------------------------------------------------------------------------


@role_required(*STAFF_ROLES)
def referral_list(request):
    viewer = request.viewer
    form = ReferralFilterForm(request.GET or None)
    box = state = ""
    if form.is_bound and form.is_valid():
        box, state = form.cleaned_data["bandeja"], form.cleaned_data["estado"]
    listing = _listing(
        request,
        selectors.referrals_for(organisation_id=viewer.organisation_id, box=box, state=state),
    )
    counts = selectors.referral_counts_for(organisation_id=viewer.organisation_id)
    links_pending = selectors.link_requests_received(
        organisation_id=viewer.organisation_id
    ).count()
    return render(
        request,
        "coordination/referral_list.html",
        {
            "form": form,
            **listing,
            "counts": counts,
            "links_pending": links_pending,
            "section": "referrals",
        },
    )


@role_required(*STAFF_ROLES)
def referral_create(request, person_id: int):
    """Refer a person the organisation attends; with ``?vinculacion=<id>``, in answer to that
    request for a link (the receiver is then the organisation that asked)."""
    viewer = request.viewer
    person = _attended_person(request, person_id, Purpose.REFERRAL)
    link = None
    if "vinculacion" in request.GET:
        link_id = request.GET["vinculacion"]
        if not link_id.isdigit():
            raise Http404
        link = selectors.link_request_received_for_viewer(
            viewer=viewer, link_request_id=int(link_id), person_id=person.pk
        )
    form = ReferralForm(
        request.POST or None,
        viewer=viewer,
        receiver=link.from_organisation if link is not None else None,
        initial={"reason": link.reason} if link is not None else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_send(
                viewer=viewer,
                person_id=person.pk,
                to_organisation_id=data["to_organisation"].pk,
                reason=data["reason"],
                categories=data["categories"],
                purpose=data["purpose"],
                link_request_id=link.pk if link is not None else None,
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("Derivación enviada a %(org)s.") % {"org": referral.to_organisation.name}
            )
            return redirect(_ns(request) + ":referral_detail", referral_id=referral.pk)
    return render(
        request,
        "coordination/referral_form.html",
        {"form": form, "person": person, "link": link, "section": "referrals"},
    )


def _render_referral(
    request, referral_id: int, *, reject_form=None, complete_form=None, status: int = 200
):
    viewer = request.viewer
    referral = selectors.referral_for_viewer(viewer=viewer, referral_id=referral_id)
    with transaction.atomic():
        view = selectors.referral_view(
            viewer=viewer, referral=referral, request_id=_request_id(request)
        )
        disclosure_log_append(view.log_lines)
    return render(
        request,
        "coordination/referral_detail.html",
        {
            "view": view,
            "referral": referral,
            "actions": referral.allowed_actions(),
            "reject_form": reject_form or ReferralRejectForm(),
            "complete_form": complete_form or ReferralCompleteForm(),
            "section": "referrals",
        },
        status=status,
    )


@role_required(*STAFF_ROLES)
def referral_detail(request, referral_id: int):
    return _render_referral(request, referral_id)


def _referral_action(
    request, referral_id: int, call, success: str, *, form=None, form_name: str = ""
):
    referral = selectors.referral_for_viewer(viewer=request.viewer, referral_id=referral_id)
    try:
        call(referral.pk)
    except PermissionDenied as exc:
        raise Http404 from exc
    except ValidationError as exc:
        if form is not None:
            _add_errors(form, exc)
            return _render_referral(request, referral.pk, status=200, **{form_name: form})
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect(_ns(request) + ":referral_detail", referral_id=referral.pk)


@role_required(*STAFF_ROLES)
@require_POST
def referral_accept(request, referral_id: int):
    return _referral_action(
        request,
        referral_id,
        lambda pk: services.referral_accept(viewer=request.viewer, referral_id=pk),
        _("Derivación aceptada: la persona figura ya entre las que atiende su organización."),
    )


@role_required(*STAFF_ROLES)
@require_POST
def referral_reject(request, referral_id: int):
    form = ReferralRejectForm(request.POST)
    reason = form.cleaned_data["rejection_reason"] if form.is_valid() else ""
    return _referral_action(
        request,
        referral_id,
        lambda pk: services.referral_reject(viewer=request.viewer, referral_id=pk, reason=reason),
        _("Derivación rechazada."),
        form=form,
        form_name="reject_form",
    )


@role_required(*STAFF_ROLES)
@require_POST
def referral_complete(request, referral_id: int):
    form = ReferralCompleteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _referral_action(
        request,
        referral_id,
        lambda pk: services.referral_complete(viewer=request.viewer, referral_id=pk, note=note),
        _("Derivación finalizada."),
        form=form,
        form_name="complete_form",
    )


@role_required(*STAFF_ROLES)
@require_POST
def referral_cancel(request, referral_id: int):
    return _referral_action(
        request,
        referral_id,
        lambda pk: services.referral_cancel(viewer=request.viewer, referral_id=pk),
        _("Derivación anulada."),
    )


# --- Solicitudes de vinculación ----------------------------------------------------------------


@role_required(*STAFF_ROLES)
def referral_link_request(request):
    """After "esta persona ya consta en el sistema" (``cases.views.person_link_request``, which
    logged the exact lookup and kept the person in the session): ask the organisations that attend
    the person to refer them. The page shows nothing about the person, not even who attends them;
    without a person checked that way it only explains how to start."""
    from cases.views import LINK_SESSION_KEY

    viewer = request.viewer
    person_id = request.session.get(LINK_SESSION_KEY)
    if not isinstance(person_id, int):
        return render(
            request,
            "coordination/link_request_form.html",
            {"form": None, "section": "referrals"},
        )
    if persons_attended_by(viewer.organisation_id).filter(pk=person_id).exists():
        del request.session[LINK_SESSION_KEY]  # attended meanwhile: nothing to ask
        return redirect(_record_ns(request) + ":person_record", person_id=person_id)
    form = LinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.link_request_create(
                viewer=viewer, person_id=person_id, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            del request.session[LINK_SESSION_KEY]
            messages.success(
                request,
                _(
                    "Solicitud enviada a las organizaciones que atienden a la persona. Si la "
                    "persona da su consentimiento, le enviarán una derivación."
                ),
            )
            return redirect(_ns(request) + ":link_request_list")
    return render(
        request, "coordination/link_request_form.html", {"form": form, "section": "referrals"}
    )


@role_required(*STAFF_ROLES)
def link_request_list(request):
    """Requests of other organisations about persons this one attends (to answer), and this
    organisation's own (their state only: the person is named once the organisation attends
    them)."""
    org = request.viewer.organisation_id
    received = list(selectors.link_requests_received(organisation_id=org))
    listing = _listing(request, selectors.link_requests_sent(organisation_id=org))
    return render(
        request,
        "coordination/link_request_list.html",
        {
            "received": received,
            **listing,
            "decline_form": LinkRequestDeclineForm(),
            "section": "referrals",
        },
    )


@role_required(*STAFF_ROLES)
@require_POST
def link_request_decline(request, link_request_id: int):
    viewer = request.viewer
    link = selectors.link_request_received_for_viewer(
        viewer=viewer, link_request_id=link_request_id
    )
    form = LinkRequestDeclineForm(request.POST)
    reason = form.cleaned_data["decline_reason"] if form.is_valid() else ""
    try:
        services.link_request_decline(viewer=viewer, link_request_id=link.pk, reason=reason)
    except PermissionDenied as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Solicitud de vinculación respondida."))
    return redirect(_ns(request) + ":link_request_list")


# --- Consultas bajo demanda -----------------------------------------------------------------------


@role_required(*STAFF_ROLES)
def request_list(request):
    viewer = request.viewer
    form = InformationRequestFilterForm(request.GET or None)
    box = form.cleaned_data["bandeja"] if form.is_bound and form.is_valid() else ""
    listing = _listing(
        request, selectors.information_requests_for(organisation_id=viewer.organisation_id, box=box)
    )
    return render(
        request, "coordination/request_list.html", {"form": form, **listing, "section": "requests"}
    )


@role_required(*STAFF_ROLES)
def request_create(request, person_id: int):
    viewer = request.viewer
    person = _attended_person(request, person_id, Purpose.FOLLOW_UP)
    form = InformationRequestForm(request.POST or None, viewer=viewer, person_id=person.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            info = services.information_request_create(
                viewer=viewer,
                person_id=person.pk,
                to_organisation_id=data["to_organisation"].pk,
                question=data["question"],
                categories=data["categories"],
                purpose=data["purpose"],
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Consulta enviada."))
            return redirect(_ns(request) + ":request_detail", request_id=info.pk)
    return render(
        request,
        "coordination/request_form.html",
        {"form": form, "person": person, "section": "requests"},
    )


def _render_request(request, request_id: int, *, answer_form=None, status: int = 200):
    viewer = request.viewer
    info = selectors.information_request_for_viewer(viewer=viewer, request_id=request_id)
    with transaction.atomic():
        answer = selectors.answer_view(
            viewer=viewer, info_request=info, request_id=_request_id(request)
        )
        disclosure_log_append(answer.log_lines)
    may_answer = info.to_organisation_id == viewer.organisation_id and not info.is_answered
    return render(
        request,
        "coordination/request_detail.html",
        {
            "info": info,
            "answer": answer,
            "may_answer": may_answer,
            "answer_form": answer_form or AnswerForm(),
            "section": "requests",
        },
        status=status,
    )


@role_required(*STAFF_ROLES)
def request_detail(request, request_id: int):
    return _render_request(request, request_id)


@role_required(*STAFF_ROLES)
@require_POST
def request_answer(request, request_id: int):
    info = selectors.information_request_for_viewer(viewer=request.viewer, request_id=request_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.information_request_answer(
                viewer=request.viewer, request_id=info.pk, answer=form.cleaned_data["answer"]
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Respuesta enviada."))
            return redirect(_ns(request) + ":request_detail", request_id=info.pk)
    return _render_request(request, info.pk, answer_form=form)


# --- Itinerarios conjuntos ------------------------------------------------------------------------


@role_required(*STAFF_ROLES)
def plan_list(request):
    viewer = request.viewer
    overdue = request.GET.get("revision") == "vencida"
    qs = (
        selectors.overdue_plan_reviews(organisation_id=viewer.organisation_id)
        if overdue
        else selectors.plans_for(organisation_id=viewer.organisation_id)
    )
    return render(
        request,
        "coordination/plan_list.html",
        {**_listing(request, qs), "overdue": overdue, "section": "plans"},
    )


@role_required(*STAFF_ROLES)
def person_plans(request, person_id: int):
    viewer = request.viewer
    person = _attended_person(request, person_id, Purpose.ITINERARY)
    qs = selectors.plans_for(organisation_id=viewer.organisation_id).filter(person_id=person.pk)
    return render(
        request,
        "coordination/person_plans.html",
        {**_listing(request, qs), "person": person, "section": "plans"},
    )


@role_required(*STAFF_ROLES)
def plan_create(request, person_id: int):
    viewer = request.viewer
    person = _attended_person(request, person_id, Purpose.ITINERARY)
    form = PlanForm(
        request.POST or None,
        person_id=person.pk,
        initial={"organisations": [viewer.organisation_id]},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_create(
                viewer=viewer,
                person_id=person.pk,
                title=data["title"],
                start_date=data["start_date"],
                review_date=data["review_date"],
                state=data["state"],
                person_agreed=data["person_agreed"],
                signed_on=data["signed_on"],
                organisation_ids=[o.pk for o in data["organisations"]],
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Itinerario creado."))
            return redirect(_ns(request) + ":plan_detail", plan_id=plan.pk)
    return render(
        request, "coordination/plan_form.html", {"form": form, "person": person, "section": "plans"}
    )


@role_required(*STAFF_ROLES)
def plan_detail(request, plan_id: int):
    viewer = request.viewer
    plan = selectors.plan_for_viewer(viewer=viewer, plan_id=plan_id)
    with transaction.atomic():
        view = selectors.plan_view(viewer=viewer, plan=plan, request_id=_request_id(request))
        disclosure_log_append(view.log_lines)
    return render(
        request,
        "coordination/plan_detail.html",
        {
            "view": view,
            "plan": plan,
            "action_states": ActionStateForm.base_fields["state"].choices,
            "section": "plans",
        },
    )


@role_required(*STAFF_ROLES)
def plan_edit(request, plan_id: int):
    viewer = request.viewer
    plan = selectors.plan_for_viewer(viewer=viewer, plan_id=plan_id)
    initial = {name: getattr(plan, name) for name in services.PLAN_FIELDS}
    initial.update(version=plan.version, organisations=[o.pk for o in plan.organisations.all()])
    form = PlanForm(request.POST or None, person_id=plan.person_id, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = data["version"] if data["version"] is not None else -1
        try:
            services.plan_update(
                viewer=viewer,
                plan_id=plan.pk,
                version=version,
                data={name: data[name] for name in services.PLAN_FIELDS},
                organisation_ids=[o.pk for o in data["organisations"]],
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
            plan.refresh_from_db()
        else:
            messages.success(request, _("Itinerario actualizado."))
            return redirect(_ns(request) + ":plan_detail", plan_id=plan.pk)
    return render(
        request,
        "coordination/plan_form.html",
        {"form": form, "plan": plan, "person": plan.person, "section": "plans"},
    )


@role_required(*STAFF_ROLES)
def goal_create(request, plan_id: int):
    viewer = request.viewer
    plan = selectors.plan_for_viewer(viewer=viewer, plan_id=plan_id)
    form = PlanGoalForm(request.POST or None, viewer=viewer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_goal_create(
                viewer=viewer,
                plan_id=plan.pk,
                **{name: data[name] for name in services.GOAL_FIELDS},
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Objetivo añadido al itinerario."))
            return redirect(_ns(request) + ":plan_detail", plan_id=plan.pk)
    return render(
        request,
        "coordination/goal_form.html",
        {"form": form, "plan": plan, "goal": None, "section": "plans"},
    )


@role_required(*STAFF_ROLES)
def goal_edit(request, goal_id: int):
    """Only the owner edits a goal, with the version it read: a stale save keeps the input and
    shows the version saved meanwhile."""
    viewer = request.viewer
    goal = selectors.plan_goal_for_viewer(viewer=viewer, goal_id=goal_id)
    initial = {name: getattr(goal, name) for name in services.GOAL_FIELDS}
    initial["version"] = goal.version
    form = PlanGoalForm(request.POST or None, viewer=viewer, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = data["version"] if data["version"] is not None else -1
        try:
            services.plan_goal_update(
                viewer=viewer,
                goal_id=goal.pk,
                version=version,
                data={name: data[name] for name in services.GOAL_FIELDS},
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
            goal.refresh_from_db()
        else:
            messages.success(request, _("Objetivo actualizado."))
            return redirect(_ns(request) + ":plan_detail", plan_id=goal.plan_id)
    return render(
        request,
        "coordination/goal_form.html",
        {"form": form, "plan": goal.plan, "goal": goal, "section": "plans"},
    )


def _linkable_goals(request, plan) -> selectors.LinkableGoals:
    """The goals the action form lists (those the viewer sees in full), their reading logged."""
    with transaction.atomic():
        goals = selectors.linkable_goals(
            viewer=request.viewer, plan=plan, request_id=_request_id(request)
        )
        disclosure_log_append(goals.log_lines)
    return goals


@role_required(*STAFF_ROLES)
def action_create(request, plan_id: int):
    viewer = request.viewer
    plan = selectors.plan_for_viewer(viewer=viewer, plan_id=plan_id)
    goals = _linkable_goals(request, plan)
    form = PlanActionForm(request.POST or None, viewer=viewer, goals=goals.choices())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_action_create(
                viewer=viewer,
                plan_id=plan.pk,
                action_type=data["action_type"],
                description=data["description"],
                category=data["category"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                review_date=data["review_date"],
                resource_id=data["resource"].pk if data["resource"] else None,
                goal_id=data["goal"],
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Acción añadida al itinerario."))
            return redirect(_ns(request) + ":plan_detail", plan_id=plan.pk)
    return render(
        request,
        "coordination/action_form.html",
        {"form": form, "plan": plan, "action": None, "section": "plans"},
    )


#: the edit form's fields that are the action's own (the resource and the goal are ids)
ACTION_FORM_FIELDS = (
    "action_type",
    "description",
    "category",
    "start_date",
    "end_date",
    "review_date",
)


@role_required(*STAFF_ROLES)
def action_edit(request, action_id: int):
    """Only the owner edits an action, with the version it read: a stale save keeps the input and
    shows the version saved meanwhile. The goal select lists the plan's goals the viewer sees in
    full; a link to a goal it no longer sees shows as no goal and stays unless another is chosen."""
    viewer = request.viewer
    action = selectors.plan_action_for_viewer(viewer=viewer, action_id=action_id)
    plan = action.plan
    goals = _linkable_goals(request, plan)
    initial = {name: getattr(action, name) for name in ACTION_FORM_FIELDS}
    initial.update(
        resource=action.resource_id,
        goal=action.goal_id if action.goal_id in goals else None,
        version=action.version,
    )
    form = PlanActionEditForm(
        request.POST or None,
        viewer=viewer,
        goals=goals.choices(),
        current_resource_id=action.resource_id,
        from_agreement=action.from_agreement,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = data["version"] if data["version"] is not None else -1
        changes = {name: data[name] for name in ACTION_FORM_FIELDS if name in form.fields}
        changes["resource_id"] = data["resource"].pk if data["resource"] else None
        if "goal" in form.changed_data:
            changes["goal_id"] = data["goal"]
        try:
            services.plan_action_update(
                viewer=viewer, action_id=action.pk, version=version, data=changes
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
            action.refresh_from_db()
        else:
            messages.success(request, _("Acción actualizada."))
            return redirect(_ns(request) + ":plan_detail", plan_id=plan.pk)
    return render(
        request,
        "coordination/action_form.html",
        {
            "form": form,
            "plan": plan,
            "action": action,
            # the saved goal is named only if the viewer sees it in full, like on the plan page
            "action_goal": next((g for g in goals.goals if g.pk == action.goal_id), None),
            "section": "plans",
        },
    )


@role_required(*STAFF_ROLES)
@require_POST
def action_state(request, action_id: int):
    viewer = request.viewer
    action = selectors.plan_action_for_viewer(viewer=viewer, action_id=action_id)
    form = ActionStateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Elija un estado válido."))
    else:
        try:
            services.plan_action_set_state(
                viewer=viewer,
                action_id=action.pk,
                version=form.cleaned_data["version"],
                state=form.cleaned_data["state"],
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Estado de la acción actualizado."))
    return redirect(_ns(request) + ":plan_detail", plan_id=action.plan_id)


@role_required(*STAFF_ROLES)
def commitment_create(request, plan_id: int):
    viewer = request.viewer
    plan = selectors.plan_for_viewer(viewer=viewer, plan_id=plan_id)
    form = CommitmentForm(request.POST or None, viewer=viewer)
    if request.method == "POST" and form.is_valid():
        try:
            services.commitment_create(
                viewer=viewer,
                plan_id=plan.pk,
                description=form.cleaned_data["description"],
                category=form.cleaned_data["category"],
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Compromiso añadido."))
            return redirect(_ns(request) + ":plan_detail", plan_id=plan.pk)
    return render(
        request,
        "coordination/commitment_form.html",
        {"form": form, "plan": plan, "section": "plans"},
    )


@role_required(*STAFF_ROLES)
def compliance_create(request, commitment_id: int):
    viewer = request.viewer
    commitment = selectors.commitment_for_viewer(viewer=viewer, commitment_id=commitment_id)
    form = ComplianceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.compliance_record(
                viewer=viewer,
                commitment_id=commitment.pk,
                date=data["date"],
                complied=data["complied"],
                note=data["note"],
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Seguimiento registrado."))
            return redirect(_ns(request) + ":plan_detail", plan_id=commitment.plan_id)
    return render(
        request,
        "coordination/compliance_form.html",
        {"form": form, "commitment": commitment, "section": "plans"},
    )


# --- Comisiones -----------------------------------------------------------------------------------


@role_required(*STAFF_ROLES)
def conference_list(request):
    listing = _listing(request, selectors.conferences_for(viewer=request.viewer))
    return render(
        request, "coordination/conference_list.html", {**listing, "section": "conferences"}
    )


@role_required(*STAFF_ROLES)
def conference_create(request):
    viewer = request.viewer
    form = ConferenceForm(request.POST or None, viewer=viewer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            conference = services.conference_create(
                viewer=viewer,
                title=data["title"],
                date=data["date"],
                kind=data["kind"],
                community_code=data["community"].pk,
                territory=data["territory"],
                attendee_membership_ids=[m.pk for m in data["attendees"]],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Comisión creada."))
            return redirect(_ns(request) + ":conference_detail", conference_id=conference.pk)
    return render(
        request, "coordination/conference_form.html", {"form": form, "section": "conferences"}
    )


@role_required(*STAFF_ROLES)
def conference_detail(request, conference_id: int):
    viewer = request.viewer
    conference = selectors.conference_for_viewer(viewer=viewer, conference_id=conference_id)
    with transaction.atomic():
        view = selectors.conference_view(
            viewer=viewer, conference=conference, request_id=_request_id(request)
        )
        disclosure_log_append(view.log_lines)
    return render(
        request,
        "coordination/conference_detail.html",
        {
            "view": view,
            "conference": conference,
            "agreement_form": AgreementForm(viewer=viewer),
            "section": "conferences",
        },
    )


@role_required(*STAFF_ROLES)
def conference_case_add(request, conference_id: int):
    viewer = request.viewer
    conference = selectors.conference_for_viewer(viewer=viewer, conference_id=conference_id)
    chosen = None
    if request.GET.get("persona", "").isdigit():  # coming from the person's record
        chosen = (
            persons_attended_by(viewer.organisation_id).filter(pk=request.GET["persona"]).first()
        )
    initial = {"persona": chosen.pk} if chosen is not None else {}
    form = ConferenceCaseForm(request.POST or None, viewer=viewer, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.conference_case_add(
                viewer=viewer, conference_id=conference.pk, person_id=form.person.pk
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Caso añadido a la comisión."))
            return redirect(_ns(request) + ":conference_detail", conference_id=conference.pk)
    return render(
        request,
        "coordination/conference_case_form.html",
        {"form": form, "conference": conference, "chosen": chosen, "section": "conferences"},
    )


@role_required(*STAFF_ROLES)
def conference_case(request, conference_id: int, case_id: int):
    """One case's summary as sharing gives it for the purpose "comisión" (htmx partial or page)."""
    viewer = request.viewer
    case, attended = selectors.conference_case_for_viewer(
        viewer=viewer, conference_id=conference_id, case_id=case_id
    )
    record = None
    if attended:
        record = record_with_diagnostics(  # the assessments too, filtered like the record page
            viewer=viewer,
            person_id=case.person_id,
            purpose=Purpose.CASE_CONFERENCE,
            channel=Channel.WEB,
            request_id=_request_id(request),
        )
    context = {
        "case": case,
        "record": record,
        "conference": case.conference,
        "section": "conferences",
    }
    template = (
        "coordination/_case_summary.html"
        if getattr(request, "htmx", False)
        else "coordination/conference_case.html"
    )
    return render(request, template, context)


@role_required(*STAFF_ROLES)
@require_POST
def agreement_create(request, case_id: int):
    viewer = request.viewer
    case = selectors.case_for_viewer(viewer=viewer, case_id=case_id)
    form = AgreementForm(request.POST, viewer=viewer)
    form.is_valid()
    data = form.cleaned_data
    try:
        services.agreement_create(
            viewer=viewer,
            case_id=case.pk,
            text=data.get("text", ""),
            category=data.get("category", ""),
        )
    except PermissionDenied as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Acuerdo registrado."))
    return redirect(_ns(request) + ":conference_detail", conference_id=case.conference_id)


@role_required(*STAFF_ROLES)
def agreement_to_action(request, agreement_id: int):
    viewer = request.viewer
    with transaction.atomic():
        shown = selectors.agreement_for_viewer(
            viewer=viewer, agreement_id=agreement_id, request_id=_request_id(request)
        )
        disclosure_log_append(shown.log_lines)
    agreement = shown.agreement
    form = AgreementActionForm(
        request.POST or None, viewer=viewer, person_id=agreement.case.person_id
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            action = services.agreement_to_action(
                viewer=viewer,
                agreement_id=agreement.pk,
                plan_id=data["plan"].pk,
                action_type=data["action_type"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                review_date=data["review_date"],
                resource_id=data["resource"].pk if data["resource"] else None,
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("El acuerdo es ya una acción del itinerario."))
            return redirect(_ns(request) + ":plan_detail", plan_id=action.plan_id)
    return render(
        request,
        "coordination/agreement_action_form.html",
        {"form": form, "agreement": agreement, "section": "conferences"},
    )


# --- Mapa de recursos -----------------------------------------------------------------------------


@role_required(*ALL_ROLES)
def resource_list(request):
    viewer = request.viewer
    form = ResourceSearchForm(request.GET or None)
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = dict(
            text=data["q"],
            community_code=data["comunidad"].pk if data["comunidad"] else "",
            province=data["provincia"],
            municipality=data["municipio"],
            target_group=data["colectivo"],
        )
    listing = _listing(request, selectors.resources_search(**filters))
    return render(
        request,
        "coordination/resource_list.html",
        {
            "form": form,
            **listing,
            "may_edit": viewer.role in RESOURCE_EDITORS,
            "section": "resources",
        },
    )


@role_required(*ALL_ROLES)
def resource_detail(request, resource_id: int):
    resource = selectors.resource_for_viewer(resource_id=resource_id)
    may_edit = services.may_edit_resource(request.viewer, resource)
    return render(
        request,
        "coordination/resource_detail.html",
        {"resource": resource, "may_edit": may_edit, "section": "resources"},
    )


def _resource_form(request, resource=None):
    viewer = request.viewer
    initial = (
        {}
        if resource
        else {"community": viewer.community_code, "owner_organisation": viewer.organisation_id}
    )
    form = ResourceForm(request.POST or None, instance=resource, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.resource_save(viewer=viewer, resource=resource, data=form.cleaned_data)
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Recurso guardado."))
            return redirect(_ns(request) + ":resource_detail", resource_id=saved.pk)
    return render(
        request,
        "coordination/resource_form.html",
        {"form": form, "resource": resource, "section": "resources"},
    )


@role_required(*RESOURCE_EDITORS)
def resource_create(request):
    return _resource_form(request)


@role_required(*RESOURCE_EDITORS)
def resource_edit(request, resource_id: int):
    resource = selectors.resource_for_viewer(resource_id=resource_id)
    if not services.may_edit_resource(request.viewer, resource):
        raise Http404
    return _resource_form(request, resource)
