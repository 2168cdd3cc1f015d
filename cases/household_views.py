"""The household pages of the workspace: composition (who lives together) and economy.

Only the service that owns the household categories (social services) edits them, for a
person in its organisation's caseload; anyone else gets the 404 of a missing page, as for
another service's sections (``cases.record_views``). The composition page lists who lives
in the household today (minors marked), who lived there before, and the forms to add a
member, to end a membership, or to create the household of a person who has none. Each
form posts to its own address and, on an error or a stale save, the page is shown again
with what the user typed. Writes go through ``cases.household``.

A member with no DNI or NIE who is not in RIS yet is registered from this page as registration
registers anyone (``cases.views.person_register``, decision 0008): a passport is looked for in
the whole system (``cases.search.check_identity``: in the caseload, that person is offered
instead; elsewhere with the same birth date, only "ya consta" and the link request; with
another, the neutral refusal), then similar names born the same day are looked for in the
caseload only and shown, and a new person is created only once the user ticks that it is none
of those shown, or the user adds the one it is instead. Nothing about anyone outside the
caseload is shown by name.
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
from .forms import ConfirmNewPersonForm
from .household_forms import (
    HouseholdCreateForm,
    HouseholdEconomyForm,
    MemberAddForm,
    MemberEndForm,
    MemberRegisterForm,
    creation_conflict_rows,
    economy_conflict_rows,
)
from .identity import DOCUMENT_REFUSED
from .models import HouseholdMember, Person
from .record_views import WRITER_ROLES, _apply_errors, _request_id, attended_person, own_space
from .screening import screen_registration

NS = "workspace"
#: Form prefixes of the composition page: add a person attended, add one with no DNI/NIE, end one.
ADD, REGISTER, END = "alta", "sin", "baja"
#: Which argument of ``_render_composition`` each prefix's form is.
FORM_ARGUMENTS = {ADD: "add_form", REGISTER: "register_form", END: "end_form"}


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
                        register_form=None, end_form=None, conflict=None, found=None, status=200):
    """The page; ``found`` is what the checks before registering a member found (``household_member_register``)."""
    viewer = request.viewer
    initial = composition.version_initial()
    if composition.household is None:
        create_form = create_form or HouseholdCreateForm(initial={"address_line": person.address_line})
        add_form = register_form = end_form = None
    else:
        create_form = None
        add_form = add_form or MemberAddForm(initial=initial, viewer=viewer, prefix=ADD)
        register_form = register_form or MemberRegisterForm(initial=initial, prefix=REGISTER)
        end_form = end_form or MemberEndForm(initial=initial, members=composition.living, prefix=END)
    living = [_member_row(m, composition.today, person.pk) for m in composition.living]
    return render(request, "cases/household/composition.html", {
        "person": person, "person_id": person.pk, "ns": NS, "household": composition.household,
        "living": living, "former": [_member_row(m, composition.today, person.pk) for m in composition.former],
        "minors": sum(1 for row in living if row["minor"]),
        "create_form": create_form, "add_form": add_form, "register_form": register_form, "end_form": end_form,
        "conflict": conflict, "found": found or {},
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
    forms_ = {FORM_ARGUMENTS[form_name]: form}
    return _render_composition(request, person, composition, status=409, **forms_,
                               conflict={"message": message, "kept": form is not None})


def _add_form(data, composition: Composition, viewer) -> MemberAddForm:
    return MemberAddForm(data, viewer=viewer, prefix=ADD)


def _register_form(data, composition: Composition) -> MemberRegisterForm:
    return MemberRegisterForm(data, prefix=REGISTER)


def _end_form(data, composition: Composition) -> MemberEndForm:
    return MemberEndForm(data, members=composition.living, prefix=END)


@role_required(*WRITER_ROLES)
@own_space
def household_member_add(request, person_id: int):
    person = _editable_person(request, person_id, services.COMPOSITION)
    if request.method != "POST":
        return redirect(_composition_url(person_id))
    composition = Composition(person_id)

    def make_form(data, composition):
        return _add_form(data, composition, request.viewer)

    if _posted_stale(request, composition, ADD):
        return _stale_composition(request, person, services.HouseholdChanged().messages[0], form_name=ADD,
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
            return _stale_composition(request, person, exc.messages[0], form_name=ADD, make_form=make_form)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s convive ahora en la unidad de convivencia.")
                             % {"name": data["person"].full_name})
            return redirect(_composition_url(person_id, "miembros-title"))
    return _render_composition(request, person, composition, add_form=form)


# --- A member with no DNI or NIE, registered from the page ----------------------------------------------------


def _chosen_person_id(request) -> int | None:
    """The person the organisation attends whom the user recognised and chose to add instead (a button)."""
    value = request.POST.get(f"{REGISTER}-existing", "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def chosen_mismatch_message() -> str:
    """The answer to "add this person instead" for anyone not (or no longer) offered: the same for any id."""
    return _("La persona que escogió no coincide con los datos escritos. Revise las personas que se muestran "
             "ahora, si hay alguna.")


def _add_existing(request, person: Person, composition: Composition, form: MemberRegisterForm,
                  member_person: Person):
    """The user recognised a person the organisation attends: add that person, as the form above would."""
    data = form.cleaned_data
    try:
        services.member_add(
            viewer=request.viewer, person_id=person.pk, household_id=composition.household.pk,
            version=data["version"], member_person_id=member_person.pk, relationship=data["relationship"],
            start_date=data["start_date"],
        )
    except services.HouseholdChanged as exc:
        return _stale_composition(request, person, exc.messages[0], form_name=REGISTER, make_form=_register_form)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "document_number" in exc.error_dict:  # no longer attended meanwhile
            exc = ValidationError(exc.error_dict["document_number"])
        _apply_errors(form, exc)
        return _render_composition(request, person, composition, register_form=form)
    messages.success(request, _("%(name)s convive ahora en la unidad de convivencia.")
                     % {"name": member_person.full_name})
    return redirect(_composition_url(person.pk, "miembros-title"))


@role_required(*WRITER_ROLES)
@own_space
def household_member_register(request, person_id: int):
    """A member with no DNI or NIE who is not in RIS yet. In registration's order
    (``cases.views.person_register``): the form → a passport anywhere (``check_identity``, context
    registration: it is one) → similar names born that day, in the caseload only → registered and
    added (``services.member_register``), or the attended person the user recognised added instead."""
    person = _editable_person(request, person_id, services.COMPOSITION)
    if request.method != "POST":
        return redirect(_composition_url(person_id))
    composition = Composition(person_id)
    if _posted_stale(request, composition, REGISTER):
        return _stale_composition(request, person, services.HouseholdChanged().messages[0], form_name=REGISTER,
                                  make_form=_register_form)
    form = _register_form(request.POST, composition)

    def again(found: dict | None = None):
        return _render_composition(request, person, composition, register_form=form, found=found)

    if not form.is_valid():
        return again()
    viewer = request.viewer
    data = form.person_data()
    chosen = _chosen_person_id(request)

    # a passport is looked for in the whole system; similar names in the caseload only (registration's checks)
    screening = screen_registration(viewer=viewer, data=data, post=request.POST, request_id=_request_id(request),
                                    prefix=REGISTER)
    if screening.attended_id is not None:  # in the caseload: the viewer sees its basic sheet
        attended = Person.objects.only(
            "id", "first_name", "last_name_1", "last_name_2", "birth_date", "document_type", "document_number",
        ).get(pk=screening.attended_id)
        if chosen == attended.pk:
            return _add_existing(request, person, composition, form, attended)
        if chosen is not None:
            form.add_error(None, chosen_mismatch_message())
        return again({"kind": "document", "candidates": [attended]})
    if screening.elsewhere:  # "ya consta", and the link request: nothing else (decision 0008)
        return again({"elsewhere": True, "link_document": data["document_number"],
                      "link_birth_date": data["birth_date"]})
    if screening.refused:  # someone else's document: the answer does not say so
        form.add_error("document_number", DOCUMENT_REFUSED)
        return again()

    duplicates = screening.duplicates
    shown = {"kind": "similar", "candidates": duplicates, "duplicates": bool(duplicates),
             "seen": screening.duplicates_seen, "confirm": screening.confirm}
    if chosen is not None:
        match = next((p for p in duplicates if p.pk == chosen), None)
        if match is not None:
            return _add_existing(request, person, composition, form, match)
        # not (or no longer) one of the likely duplicates of what is typed: the same answer for any id
        form.add_error(None, chosen_mismatch_message())
        return again({**shown, "confirm": ConfirmNewPersonForm(prefix=REGISTER)})
    if not screening.may_create:
        return again(shown)

    cleaned = form.cleaned_data
    try:
        member = services.member_register(
            viewer=viewer, person_id=person_id, household_id=composition.household.pk, version=cleaned["version"],
            person_data=data, relationship=cleaned["relationship"], start_date=cleaned["start_date"],
        )
    except services.HouseholdChanged as exc:
        return _stale_composition(request, person, exc.messages[0], form_name=REGISTER, make_form=_register_form)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        _apply_errors(form, exc)
        return again()
    messages.success(request, _("Persona dada de alta: %(name)s convive ahora en la unidad de convivencia y su "
                                "organización la atiende.") % {"name": member.person.full_name})
    return redirect(_composition_url(person_id, "miembros-title"))


@role_required(*WRITER_ROLES)
@own_space
def household_member_end(request, person_id: int):
    person = _editable_person(request, person_id, services.COMPOSITION)
    if request.method != "POST":
        return redirect(_composition_url(person_id))
    composition = Composition(person_id)
    if _posted_stale(request, composition, END):
        return _stale_composition(request, person, services.HouseholdChanged().messages[0], form_name=END,
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
            return _stale_composition(request, person, exc.messages[0], form_name=END, make_form=_end_form)
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
