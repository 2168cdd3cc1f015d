"""Search of persons: over the caseload only, tolerant of accents, case and typos.

What the searcher types is split into a name part, a document (DNI/NIE/passport)
and a birth date (dd/mm/aaaa); the parts that are present must all match:

- the name, with the ``<%`` word-similarity operator of ``pg_trgm`` against
  ``Person.search_name`` (the stored ``ris_unaccent(lower(full name))`` with its GIN
  trigram index), the query passed through the same ``ris_unaccent(lower(...))`` in
  SQL; results ordered by similarity;
- the document and the birth date, exactly.

Every searchable field belongs to the basic sheet, which every organisation that
attends the person sees (docs/decisions/0003), so filtering by the caseload is the
whole access rule: a search can never match on data the searcher may not see.

Outside the caseload there is one answer only, and only for an exact document +
birth date match: "esta persona ya consta en el sistema" (``lookup_outside_caseload``),
written to the disclosure log as a ``lookup`` event. See docs/decisions/0008.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramStrictWordSimilarity, TrigramWordSimilarity
from django.db import connection, models, transaction
from django.db.models import Func, Value
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from ris.accounts.viewer import Viewer
from sharing.caseload import organisation_attends, persons_attended_by
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import Channel, DisclosureLogEntry

from .identity import CONTROL_LETTERS, normalise_document
from .merge import surviving_id
from .models import Person

#: ``word_similarity`` thresholds of the ``<%`` operator, tried in turn until one finds someone.
#: pg_trgm's default, 0.6, is selective (fast on the GIN index) and already forgives a wrong
#: letter in a full name ("jose garzia perez" scores 0.67). A single word with a wrong letter
#: keeps only 3 of its 7 trigrams in a row ("garzia" → "garcía" scores 0.43), so when 0.6 finds
#: nobody the search runs again at 0.4; the looser matches this lets in ("garrido") rank below,
#: by word then strict-word similarity. Set per transaction, so nothing else is affected.
WORD_SIMILARITY_THRESHOLDS = (0.6, 0.4)
WORD_SIMILARITY_THRESHOLD = WORD_SIMILARITY_THRESHOLDS[-1]
#: Fewer letters than this in the name part cannot be matched by trigrams with any sense.
MIN_NAME_LENGTH = 3
DEFAULT_LIMIT = 50

_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DNI_SHAPE = re.compile(r"^(\d{8})([A-Z])$")
_NIE_SHAPE = re.compile(r"^([XYZ])(\d{7})([A-Z])$")


@dataclass(frozen=True)
class ParsedQuery:
    """What a search box held, split into the parts that are matched differently."""

    raw: str = ""
    name: str = ""
    document: str = ""
    birth_date: dt.date | None = None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.name or self.document or self.birth_date)

    @property
    def searchable(self) -> bool:
        return not self.errors and not self.empty

    @property
    def exact_identity(self) -> bool:
        """Document and birth date, nothing else: the only query answered outside the caseload."""
        return bool(self.document and self.birth_date and not self.name)


def _parse_date(token: str) -> tuple[dt.date | None, str]:
    match = _DATE.match(token)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _ISO_DATE.match(token)
        if not match:
            return None, ""
        year, month, day = (int(g) for g in match.groups())
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None, _("La fecha %(date)s no existe: escríbala como dd/mm/aaaa.") % {"date": token}
    return value, ""


def _document_warning(document: str) -> str:
    """A DNI or NIE with a wrong control letter never matches: say so rather than find nothing."""
    if match := _DNI_SHAPE.match(document):
        number, letter = match.groups()
    elif match := _NIE_SHAPE.match(document):
        number, letter = str("XYZ".index(match.group(1))) + match.group(2), match.group(3)
    else:
        return ""
    if CONTROL_LETTERS[int(number) % 23] != letter:
        return _("La letra del documento %(doc)s no es correcta: revise el número.") % {
            "doc": document
        }
    return ""


def parse_query(raw: str) -> ParsedQuery:
    """Split the search box: dates (dd/mm/aaaa), documents (with digits), the rest is the name."""
    raw = (raw or "").strip()[:200]
    names: list[str] = []
    document = ""
    birth_date = None
    errors: list[str] = []
    warnings: list[str] = []
    for token in raw.split():
        date, error = _parse_date(token)
        if error:
            errors.append(error)
            continue
        if date is not None:
            if birth_date is not None and birth_date != date:
                errors.append(_("Escriba una sola fecha de nacimiento."))
            birth_date = date
            continue
        if any(ch.isdigit() for ch in token):
            doc = normalise_document(token)
            if document and document != doc:
                errors.append(_("Escriba un solo número de documento."))
            document = doc
            if warning := _document_warning(doc):
                warnings.append(warning)
            continue
        names.append(token)
    name = " ".join(names)
    if name and len(name.replace(" ", "")) < MIN_NAME_LENGTH and not (document or birth_date):
        errors.append(
            _("Escriba al menos %(n)s letras del nombre o los apellidos.") % {"n": MIN_NAME_LENGTH}
        )
    return ParsedQuery(
        raw=raw,
        name=name,
        document=document,
        birth_date=birth_date,
        errors=tuple(errors),
        warnings=tuple(warnings),
    )


def search_key(text: str) -> Func:
    """The query as the index sees names: ``ris_unaccent(lower(text))``, computed in SQL."""
    return Func(Lower(Value(text)), function="ris_unaccent", output_field=models.TextField())


def set_word_similarity_threshold(value: float = WORD_SIMILARITY_THRESHOLD) -> None:
    """For the current transaction only (``set_config(..., true)``): use in ``atomic``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(value)]
        )


def matching(persons: models.QuerySet[Person], query: ParsedQuery) -> models.QuerySet[Person]:
    """``persons`` narrowed to those matching every part of ``query``, best name match first.

    The name part needs ``set_word_similarity_threshold`` in the same transaction.
    """
    if query.document:
        persons = persons.filter(document_number=query.document)
    if query.birth_date:
        persons = persons.filter(birth_date=query.birth_date)
    if query.name:
        key = search_key(query.name)
        persons = (
            persons.filter(search_name__trigram_word_similar=key)
            .annotate(
                similarity=TrigramWordSimilarity(key, "search_name"),
                word_match=TrigramStrictWordSimilarity(key, "search_name"),
            )
            .order_by(
                "-similarity", "-word_match", "last_name_1", "last_name_2", "first_name", "pk"
            )
        )
    else:
        persons = persons.order_by("last_name_1", "last_name_2", "first_name", "pk")
    return persons


RESULT_FIELDS = (
    "id",
    "first_name",
    "last_name_1",
    "last_name_2",
    "document_type",
    "document_number",
    "birth_date",
)


@dataclass
class SearchResult:
    query: ParsedQuery
    persons: list[Person] = field(default_factory=list)
    truncated: bool = False
    #: outside the caseload, an exact document + birth date match exists (nothing else is said)
    exists_elsewhere: bool = False


def search_caseload(
    *, viewer: Viewer, query: ParsedQuery, limit: int = DEFAULT_LIMIT, request_id: str = ""
) -> SearchResult:
    """The viewer's caseload persons matching ``query`` (at most ``limit``), in at most five queries
    (two tries of the name at decreasing similarity, an exact lookup outside the caseload, its log).

    When nothing in the caseload matches a query that is exactly a document and a birth
    date, the whole system is asked for that exact pair, and the answer is only whether the
    person exists (logged as a ``lookup``).
    """
    result = SearchResult(query=query)
    if not query.searchable:
        return result
    rows: list[Person] = []
    with transaction.atomic():
        for threshold in WORD_SIMILARITY_THRESHOLDS if query.name else (None,):
            if threshold is not None:
                set_word_similarity_threshold(threshold)
            found = matching(persons_attended_by(viewer.organisation_id), query).only(
                *RESULT_FIELDS
            )
            rows = list(found[: limit + 1])
            if rows:
                break
    result.truncated = len(rows) > limit
    result.persons = rows[:limit]
    if not rows and query.exact_identity:
        result.exists_elsewhere = (
            lookup_outside_caseload(
                viewer=viewer,
                document=query.document,
                birth_date=query.birth_date,
                context="search",
                request_id=request_id,
            )
            is not None
        )
    return result


def find_by_identity(*, document: str, birth_date: dt.date) -> int | None:
    """The surviving record with exactly this document and birth date, anywhere in the system."""
    person_id = (
        Person.objects.filter(document_number=normalise_document(document), birth_date=birth_date)
        .values_list("pk", flat=True)
        .first()
    )
    return None if person_id is None else surviving_id(person_id)


def lookup_outside_caseload(
    *, viewer: Viewer, document: str, birth_date: dt.date, context: str, request_id: str = ""
) -> int | None:
    """Exact identity match outside the viewer's caseload, logged; ``None`` if none or if attended.

    ``context`` says why the check was made (``search``, ``registration``, ``referral``); it
    goes to the log's basis. The id returned is for the caller to start a link (a referral);
    pages must show nothing about the person but the fact that they exist.
    """
    person_id = find_by_identity(document=document, birth_date=birth_date)
    if person_id is None or organisation_attends(viewer.organisation_id, person_id):
        return None
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
                basis=f"lookup:{context}",
                request_id=request_id,
            )
        ]
    )
    return person_id
