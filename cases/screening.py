"""What registration checks before a person is created, wherever a person is registered (the
registration page, and a household member without DNI/NIE added from the household page).

In order: a document typed is looked for in the whole system (``cases.search.check_identity``,
context "registration": in the caseload the person is offered; elsewhere only "ya consta", logged;
another person's document a neutral refusal); then similar names born the same day, in the
caseload only (``selectors.likely_duplicates``), which the user must confirm having looked at, all
of them, before a new person is created (decision 0008).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ris.accounts.viewer import Viewer

from .forms import ConfirmNewPersonForm
from .models import Person
from .search import check_identity
from .selectors import likely_duplicates


@dataclass
class Screening:
    #: the same document, on a person the organisation attends
    attended_id: int | None = None
    #: the same document and birth date on a person the organisation does not attend ("ya consta")
    elsewhere: bool = False
    #: the document is another person's: the answer does not say so
    refused: bool = False
    #: similar persons in the caseload, and the confirmation that none of them is this one
    duplicates: list[Person] = field(default_factory=list)
    confirm: ConfirmNewPersonForm | None = None
    confirmed: bool = False

    @property
    def by_document(self) -> bool:
        """The document decided the answer: the similar names were not looked at."""
        return self.attended_id is not None or self.elsewhere or self.refused

    @property
    def may_create(self) -> bool:
        return not self.by_document and (not self.duplicates or self.confirmed)

    @property
    def duplicates_seen(self) -> str:
        """The ids shown, posted back with the confirmation (it covers only those)."""
        return ",".join(str(p.pk) for p in self.duplicates)


def screen_registration(*, viewer: Viewer, data: dict, post, request_id: str = "",
                        prefix: str | None = None) -> Screening:
    """Screen the basic sheet ``data`` (a registration form's ``person_data()``) of a person about
    to be registered. ``post``: the request's POST, with the confirmation and the ids it covered
    (fields ``confirm_new`` and ``duplicates_seen``, under ``prefix``)."""
    if data.get("document_number"):
        found = check_identity(viewer=viewer, document=data["document_number"], birth_date=data["birth_date"],
                               context="registration", request_id=request_id)
        if found.attended_id is not None or found.elsewhere_id is not None or found.refused:
            return Screening(attended_id=found.attended_id, elsewhere=found.elsewhere_id is not None,
                             refused=found.refused)
    duplicates = likely_duplicates(
        organisation_id=viewer.organisation_id, first_name=data["first_name"], last_name_1=data["last_name_1"],
        last_name_2=data["last_name_2"], birth_date=data["birth_date"],
    )
    if not duplicates:
        return Screening()
    name = f"{prefix}-" if prefix else ""
    confirm = ConfirmNewPersonForm(post if f"{name}confirm_new" in post else None, prefix=prefix)
    values = (x.strip() for x in post.get(f"{name}duplicates_seen", "").split(","))
    seen = {int(x) for x in values if x.isascii() and x.isdigit()}
    all_seen = {p.pk for p in duplicates} <= seen
    confirmed = confirm.is_bound and confirm.is_valid() and all_seen
    if confirm.is_bound and confirm.is_valid() and not all_seen:
        confirm = ConfirmNewPersonForm(prefix=prefix)  # new similar persons appeared: look at them first
    return Screening(duplicates=duplicates, confirm=confirm, confirmed=confirmed)
