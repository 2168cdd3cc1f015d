"""The household pages of the workspace: composition (who lives together) and economy.

Only the service that owns the household categories (social services) edits them, for a
person in its organisation's caseload; anyone else gets the 404 of a missing page, as for
another service's sections (``cases.record_views``). The composition page lists who lives
in the household today (minors marked), who lived there before, and the forms to add a
member, to end a membership, or to create the household of a person who has none. Each
form posts to its own address and, on an error or a stale save, the page is shown again
with what the user typed. Writes go through ``cases.household``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from diagnostics.arope import household_indicators
from ris.accounts.access import role_required
from ris.reference.models import DeprivationItem

from . import household as services
from .household_forms import (
    HouseholdCreateForm,
    HouseholdEconomyForm,
    MemberAddForm,
    MemberEndForm,
    creation_conflict_rows,
    economy_conflict_rows,
)
from .models import HouseholdMember, Person
from .record_views import WRITER_ROLES, _apply_errors, attended_person, own_space

NS = "workspace"


def _composition_url(person_id: int, anchor: str = "") -> str:
    url = reverse(f"{NS}:household_composition", args=[person_id])
    return f"{url}#{anchor}" if anchor else url


def _record_url(person_id: int, anchor: str) -> str:
    return f"{reverse(f'{NS}:person_record', args=[person_id])}#{anchor}"


def _editable_person(request, person_id: int, category: str) -> Person:
    """Owner service and caseload, or the 404 of a missing page; the person's names for the page."""
    if not services.may_edit(request.viewer, category):
        raise Http404
    attended_person(request, person_id)
    return Person.objects.only("id", "first_name", "last_name_1", "last_name_2", "address_line").get(pk=person_id)


def _date_text(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def _member_row(member: HouseholdMember, today: dt.date, person_id: int) -> dict:
    age = member.person.age_on(today)
    return {
        "id": member.pk, "name": member.person.full_name, "relationship": member.get_relationship_display(),
        "birth_date": member.person.birth_date, "birth_date_text": _date_text(member.person.birth_date),
        "age": age, "minor": age < services.MINOR_AGE, "since": member.start_date,
        "since_text": _date_text(member.start_date), "until_text": _date_text(member.end_date),
        "is_self": member.person_id == person_id,
    }


class Composition:
    """The person's household today, its members now and before (two queries)."""

    def __init__(self, person_id: int):
        self.today = timezone.localdate()
        self.membership = services.current_membership(person_id, self.today)
        self.household = self.membership.household if self.membership else None
        rows = services.memberships_of(self.household.pk) if self.household else []
        self.living = [m for m in rows if services.lives_on(m, self.today)]
        self.former = [m for m in rows if m.end_date is not None and m.end_date <= self.today]
        self.person_id = person_id

    def version_initial(self) -> dict:
        return {"household": self.household.pk, "version": self.household.version} if self.household else {}


def _at_current_version(request, composition: Composition) -> dict:
    """What the user typed, now at the household and version stored (saving it again is deliberate)."""
    data = request.POST.copy()
    data["household"] = str(composition.household.pk)
    data["version"] = str(composition.household.version)
    return data


def _render_composition(request, person: Person, composition: Composition, *, create_form=None, add_form=None,
                        end_form=None, conflict=None, status=200):
    viewer = request.viewer
    initial = composition.version_initial()
    if composition.household is None:
        create_form = create_form or HouseholdCreateForm(initial={"address_line": person.address_line})
        add_form = end_form = None
    else:
        create_form = None
        add_form = add_form or MemberAddForm(initial=initial, viewer=viewer, prefix="alta")
        end_form = end_form or MemberEndForm(initial=initial, members=composition.living, prefix="baja")
    living = [_member_row(m, composition.today, person.pk) for m in composition.living]
    return render(request, "cases/household/composition.html", {
        "person": person, "person_id": person.pk, "ns": NS, "household": composition.household,
        "living": living, "former": [_member_row(m, composition.today, person.pk) for m in composition.former],
        "minors": sum(1 for row in living if row["minor"]),
        "create_form": create_form, "add_form": add_form, "end_form": end_form, "conflict": conflict,
    }, status=status)


@role_required(*WRITER_ROLES)
@own_space
def household_composition(request, person_id: int):
    person = _editable_person(request, person_id, services.COMPOSITION)
    return _render_composition(request, person, Composition(person_id))


@role_required(*WRITER_ROLES)
@own_space
def household_create(request, person_id: int):
    person = _editable_person(request, person_id, services.COMPOSITION)
    if request.method != "POST":
        return redirect(_composition_url(person_id))
    composition = Composition(person_id)
    form = HouseholdCreateForm(request.POST)
    if composition.household is not None:  # someone gave the person a household meanwhile
        form.is_valid()
        conflict = {"message": services.created_meanwhile_message(),
                    "rows": creation_conflict_rows(form, composition.membership)}
        return _render_composition(request, person, composition, conflict=conflict, status=409)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.household_create(viewer=request.viewer, person_id=person_id, relationship=data["relationship"],
                                      start_date=data["start_date"], address_line=data["address_line"])
        except services.HouseholdChanged:
            composition = Composition(person_id)
            conflict = {"message": services.created_meanwhile_message()}
            if composition.membership is not None:
                conflict["rows"] = creation_conflict_rows(form, composition.membership)
            return _render_composition(request, person, composition, create_form=form, conflict=conflict,
                                       status=409)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Unidad de convivencia registrada. Ya puede añadir a las demás personas "
                                        "que conviven."))
            return redirect(_composition_url(person_id, "alta-title"))
    return _render_composition(request, person, composition, create_form=form)


def _posted_stale(request, composition: Composition, prefix: str = "") -> bool:
    """The form was read from another household than the person's today, or at another version
    (checked before validating it: a member who left meanwhile is no longer a valid choice)."""
    key = f"{prefix}-" if prefix else ""
    household = composition.household
    return household is None or (request.POST.get(f"{key}household"), request.POST.get(f"{key}version")) != (
        str(household.pk), str(household.version))


def _stale_composition(request, person: Person, message: str, *, form_name: str, make_form):
    """The page again, as it is now, with what the user typed at the version stored now."""
    composition = Composition(person.pk)
    form = None
    if composition.household is not None:
        # unbound, with what was typed as initial values: a member who left meanwhile is simply no
        # longer offered, instead of being reported as an error of the user's
        key = f"{form_name}-"
        typed = {name[len(key):]: value for name, value in request.POST.items() if name.startswith(key)}
        typed.update(composition.version_initial())
        form = make_form(None, composition)
        form.initial = typed
    forms_ = {"add_form" if form_name == "alta" else "end_form": form}
    return _render_composition(request, person, composition, status=409, **forms_,
                               conflict={"message": message, "kept": form is not None})


def _add_form(data, composition: Composition, viewer) -> MemberAddForm:
    return MemberAddForm(data, viewer=viewer, prefix="alta")


def _end_form(data, composition: Composition) -> MemberEndForm:
    return MemberEndForm(data, members=composition.living, prefix="baja")


@role_required(*WRITER_ROLES)
@own_space
def household_member_add(request, person_id: int):
    person = _editable_person(request, person_id, services.COMPOSITION)
    if request.method != "POST":
        return redirect(_composition_url(person_id))
    composition = Composition(person_id)

    def make_form(data, composition):
        return _add_form(data, composition, request.viewer)

    if _posted_stale(request, composition, "alta"):
        return _stale_composition(request, person, services.HouseholdChanged().messages[0], form_name="alta",
                                  make_form=make_form)
    form = make_form(request.POST, composition)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.member_add(
                viewer=request.viewer, person_id=person_id, household_id=composition.household.pk,
                version=data["version"], member_person_id=data["person"].pk, relationship=data["relationship"],
                start_date=data["start_date"],
            )
        except services.HouseholdChanged as exc:
            return _stale_composition(request, person, exc.messages[0], form_name="alta", make_form=make_form)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s convive ahora en la unidad de convivencia.")
                             % {"name": data["person"].full_name})
            return redirect(_composition_url(person_id, "miembros-title"))
    return _render_composition(request, person, composition, add_form=form)


@role_required(*WRITER_ROLES)
@own_space
def household_member_end(request, person_id: int):
    person = _editable_person(request, person_id, services.COMPOSITION)
    if request.method != "POST":
        return redirect(_composition_url(person_id))
    composition = Composition(person_id)
    if _posted_stale(request, composition, "baja"):
        return _stale_composition(request, person, services.HouseholdChanged().messages[0], form_name="baja",
                                  make_form=_end_form)
    form = _end_form(request.POST, composition)
    if form.is_valid():
        data = form.cleaned_data
        try:
            member = services.member_end(
                viewer=request.viewer, person_id=person_id, household_id=composition.household.pk,
                version=data["version"], member_id=data["member"], end_date=data["end_date"],
            )
        except services.HouseholdChanged as exc:
            return _stale_composition(request, person, exc.messages[0], form_name="baja", make_form=_end_form)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            member_name = next((m.person.full_name for m in composition.living if m.pk == member.pk), "")
            messages.success(request, _("Baja registrada: %(name)s deja de convivir desde el %(day)s.")
                             % {"name": member_name, "day": _date_text(member.end_date)})
            if member.person_id == person_id:  # the person left: the record shows where they are now
                return redirect(_record_url(person_id, "hogar-title"))
            return redirect(_composition_url(person_id, "miembros-title"))
    return _render_composition(request, person, composition, end_form=form)


# --- Economy --------------------------------------------------------------------------------------------------


def _economy_form(data, composition: Composition, items: list[DeprivationItem]) -> HouseholdEconomyForm:
    household = composition.household
    working = [m for m in composition.living if services.is_working_age(m.person, composition.today)]
    selected = [] if data is not None else list(household.deprivation_items.values_list("code", flat=True))
    return HouseholdEconomyForm(data, instance=household, working_members=working, items=items, selected=selected)


def _stale_economy(request, context: dict, form: HouseholdEconomyForm, items: list[DeprivationItem],
                   message: str):
    """The form again with what the user typed, at the version stored now, and a table of what they
    typed beside what is saved now."""
    composition = Composition(context["person_id"])
    context["household"] = current = composition.household
    if current is None:
        context["conflict"] = {"message": message}
        return render(request, "cases/household/economy.html", context, status=409)
    form.is_valid()  # what was typed, cleaned where it can be
    codes = list(current.deprivation_items.values_list("code", flat=True))
    months = {m.pk: m.months_worked_last_year for m in composition.living}
    conflict = {"message": message, "rows": economy_conflict_rows(form, current, codes, months), "kept": True}
    form = _economy_form(_at_current_version(request, composition), composition, items)
    form.is_valid()
    return _render_economy(request, context, form, composition, conflict=conflict, status=409)


def _render_economy(request, context: dict, form: HouseholdEconomyForm, composition: Composition, *,
                    conflict=None, status=200):
    context.update(form=form, conflict=conflict, working_members=form.month_bound_fields(),
                   members_count=len(composition.living),
                   # what the saved data give today, by the AROPE definition (decision 0007)
                   indicators=household_indicators(household_id=composition.household.pk,
                                                   on=timezone.localdate()))
    return render(request, "cases/household/economy.html", context, status=status)


@role_required(*WRITER_ROLES)
@own_space
def household_economy(request, person_id: int):
    person = _editable_person(request, person_id, services.ECONOMY)
    composition = Composition(person_id)
    context = {"person": person, "person_id": person_id, "ns": NS, "household": composition.household}
    if composition.household is None:
        return render(request, "cases/household/economy.html", context)
    items = list(DeprivationItem.objects.order_by("code"))
    posting = request.method == "POST"
    form = _economy_form(request.POST if posting else None, composition, items)
    if posting and _posted_stale(request, composition):
        return _stale_economy(request, context, form, items, services.HouseholdChanged().messages[0])
    if posting and form.is_valid():
        data = form.cleaned_data
        try:
            services.economy_update(
                viewer=request.viewer, person_id=person_id, household_id=composition.household.pk,
                version=data["version"], data=form.model_data, deprivation_codes=data["deprivation_items"],
                months=form.months,
            )
        except services.HouseholdChanged as exc:
            return _stale_economy(request, context, form, items, exc.messages[0])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Economía del hogar guardada."))
            return redirect(_record_url(person_id, "cat-situacion_economica-social"))
    return _render_economy(request, context, form, composition)
