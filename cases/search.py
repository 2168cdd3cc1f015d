"""Search of persons: over the caseload only, tolerant of accents, case and typos.

What the searcher types is split into a name part, a document (DNI/NIE/passport)
and a birth date (dd/mm/aaaa); the parts that are present must all match:

- the document and the birth date, exactly;
- the name, in passes; **the first pass that finds someone in the caseload is the answer**:

  1. *words* — every word typed is a word of the name: the same word, the beginning of one
     (from ``PREFIX_MIN_LENGTH`` letters typed) or one typo away from one (from
     ``TYPO_MIN_LENGTH`` letters: a letter changed, missing, extra, or two neighbouring letters
     swapped). The words a typed word stands for are looked up first in the table of every word
     that appears in some name (``cases_person_name_word``, kept by triggers, migration 0005),
     then the persons through the GIN index on the words of ``Person.search_name``
     (``person_search_words``). Both are index lookups of a handful of words, so a full name,
     written as recorded or with one wrong letter in a word, costs a few milliseconds;
  2. *similar names* — only when the words pass finds nobody (a word the record lacks, two
     typos in one word, words run together): pg_trgm's ``<%`` word-similarity operator against
     ``Person.search_name`` with its GIN trigram index, at ``WORD_SIMILARITY_THRESHOLDS`` in
     turn (0.6, then 0.4), as before.

  Every pass orders what it finds the same way: the name exactly as typed first (so that
  "sara navarro navarro" is not outranked by Sara Navarro Alonso, which holds every typed
  trigram too), then ``word_similarity`` of the whole typed name, ``strict_word_similarity``,
  surnames, first name and id. The typed name goes through ``ris_unaccent(lower(...))`` in
  SQL, as the stored ``search_name`` did.

Every searchable field belongs to the basic sheet, which every organisation that
attends the person sees (docs/decisions/0003), so filtering by the caseload is the
whole access rule: a search can never match on data the searcher may not see. The word
table holds the words of every name in the system, but it only says which words to look for:
what is found is always filtered by the caseload, and the same queries run whether or not a
typed word exists anywhere.

The search answers nothing about anyone outside the caseload. Whether a person is already
registered elsewhere is told only at registration and at the start of a referral, and only for
an exact document + birth date match: "esta persona ya consta en el sistema" (``check_identity``),
written to the disclosure log as a ``lookup`` event; a document that is someone else's with another
birth date gets a neutral refusal, logged too. See docs/decisions/0008.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramStrictWordSimilarity, TrigramWordSimilarity
from django.db import connection, models, transaction
from django.db.models import Func, Value
from django.db.models.functions import Lower, Trim
from django.db.models.lookups import Exact
from django.utils.translation import gettext as _

from ris.accounts.viewer import Viewer
from sharing.caseload import organisation_attends, persons_attended_by
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import Channel, DisclosureLogEntry

from .identity import CONTROL_LETTERS, normalise_document
from .merge import surviving_id
from .models import Person

#: A typed word of at least this many letters also matches the words it begins ("garc" → García).
PREFIX_MIN_LENGTH = 3
#: A typed word of at least this many letters also matches the words one typo away ("garzia" →
#: García, "vilaverde" → Villaverde). Shorter words would match too many others ("paz" → "paez").
TYPO_MIN_LENGTH = 4
#: Every word of every ``search_name`` (migration 0005; only ever grows).
NAME_WORDS_TABLE = "cases_person_name_word"
#: ``word_similarity`` thresholds of the ``<%`` operator, tried in turn, after the words pass,
#: until one finds someone. pg_trgm's default, 0.6, is selective and already forgives a wrong
#: letter in a full name ("jose garzia perez" scores 0.71). A single word with a wrong letter
#: keeps only 3 of its 7 trigrams in a row ("garzia" → "garcía" scores 0.43), so when 0.6 finds
#: nobody the search runs again at 0.4; the looser matches this lets in ("garrido") rank below,
#: by word then strict-word similarity. Set per transaction, so nothing else is affected.
WORD_SIMILARITY_THRESHOLDS = (0.6, 0.4)
WORD_SIMILARITY_THRESHOLD = WORD_SIMILARITY_THRESHOLDS[-1]
#: Fewer letters than this in the name part cannot be matched by trigrams with any sense.
MIN_NAME_LENGTH = 3
DEFAULT_LIMIT = 50

#: The letters a typo changes or slips in (names are compared without accents).
_TYPO_LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: A typed word: a run of letters (digits go to the document; hyphens, apostrophes, dots and
#: commas separate words, as PostgreSQL's text-search parser does in the stored names).
_WORD = re.compile(r"[^\W\d_]+")
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
        """Document and birth date, nothing else: what registration and the start of a referral
        check in the whole system (``check_identity``); the search looks in the caseload only."""
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


# --- The words pass ------------------------------------------------------------------------------


def typed_words(name: str) -> list[str]:
    """The words of the name part, lower case, each once, in the order typed."""
    return list(dict.fromkeys(_WORD.findall(name.lower())))


def one_typo_away(word: str) -> set[str]:
    """Every string one typo away from ``word`` (not ``word`` itself): one letter changed, one
    missing, one extra, or two neighbouring letters swapped."""
    found: set[str] = set()
    for i in range(len(word) + 1):
        head, tail = word[:i], word[i:]
        found.update(head + letter + tail for letter in _TYPO_LETTERS)  # extra
        if tail:
            found.add(head + tail[1:])  # missing
            found.update(head + letter + tail[1:] for letter in _TYPO_LETTERS)  # changed
        if len(tail) > 1:
            found.add(head + tail[1] + tail[0] + tail[2:])  # swapped
    found.discard(word)
    return found


def _without_accents(word: str) -> str:
    """Python's approximation of ``ris_unaccent``: the base letters of ``word``."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def name_word_alternatives(name: str) -> list[list[str]]:
    """For each typed word, the words of the system's names it may stand for (see the module
    docstring), always with the typed word itself as ``ris_unaccent(lower(...))`` makes it, so
    that a word nobody bears still takes part (and matches nobody).

    One query on ``NAME_WORDS_TABLE``. The word itself and its prefix go through
    ``ris_unaccent`` in SQL; the typos are spelt out here, from the word without its accents
    (hundreds of strings per word: compared as they are, so that the lookup stays a hashed or
    indexed ``= ANY``). Words that normalise to nothing are left out.
    """
    words = typed_words(name)
    if not words:
        return []
    parts: list[str] = []
    params: list = []
    for i, word in enumerate(words):
        parts.append("SELECT %s::int, ris_unaccent(lower(%s::text))")
        params += [i, word]
        conditions = ["w.word = ris_unaccent(lower(%s::text))"]
        condition_params: list = [word]
        if len(word) >= PREFIX_MIN_LENGTH:
            conditions.append("w.word LIKE ris_unaccent(lower(%s::text)) || '%%'")
            condition_params.append(word)
        if len(word) >= TYPO_MIN_LENGTH:
            conditions.append("w.word = ANY (%s::text[])")
            condition_params.append(sorted(one_typo_away(_without_accents(word))))
        parts.append(
            f"SELECT %s::int, w.word FROM {NAME_WORDS_TABLE} AS w WHERE {' OR '.join(conditions)}"
        )
        params += [i, *condition_params]
    alternatives: list[list[str]] = [[] for _ in words]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for i, found in cursor.fetchall():
            if found and found not in alternatives[i]:
                alternatives[i].append(found)
    return [group for group in alternatives if group]


def _tsquery_lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def words_tsquery(alternatives: list[list[str]]) -> str:
    """``(a | a2 | …) & (b | …)``: each typed word, as one of its alternatives, in the name."""
    return " & ".join(
        "(" + " | ".join(_tsquery_lexeme(word) for word in group) + ")" for group in alternatives
    )


class NameWordsMatch(Func):
    """``to_tsvector('simple', search_name) @@ '…'::tsquery``, in the words index's own terms."""

    output_field = models.BooleanField()

    def __init__(self, tsquery: str):
        super().__init__(models.F("search_name"), Value(tsquery))

    def as_sql(self, compiler, connection, **extra_context):
        name, name_params = compiler.compile(self.source_expressions[0])
        tsquery, tsquery_params = compiler.compile(self.source_expressions[1])
        sql = f"to_tsvector('simple'::regconfig, {name}) @@ ({tsquery})::tsquery"
        return sql, [*name_params, *tsquery_params]


# --- Matching and the search ---------------------------------------------------------------------


def matching(
    persons: models.QuerySet[Person],
    query: ParsedQuery,
    *,
    words: list[list[str]] | None = None,
) -> models.QuerySet[Person]:
    """``persons`` narrowed to those matching every part of ``query``, best name match first.

    The name matches by its words when ``words`` (from ``name_word_alternatives``, not empty)
    is given; otherwise by trigram word similarity, which needs ``set_word_similarity_threshold``
    in the same transaction.
    """
    if query.document:
        persons = persons.filter(document_number=query.document)
    if query.birth_date:
        persons = persons.filter(birth_date=query.birth_date)
    if query.name:
        key = search_key(query.name)
        if words is not None:
            persons = persons.filter(NameWordsMatch(words_tsquery(words)))
        else:
            persons = persons.filter(search_name__trigram_word_similar=key)
        persons = persons.annotate(
            exact=Exact(Trim("search_name"), key),
            similarity=TrigramWordSimilarity(key, "search_name"),
            word_match=TrigramStrictWordSimilarity(key, "search_name"),
        ).order_by(
            "-exact", "-similarity", "-word_match", "last_name_1", "last_name_2", "first_name", "pk"
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


def search_caseload(
    *, viewer: Viewer, query: ParsedQuery, limit: int = DEFAULT_LIMIT, request_id: str = ""
) -> SearchResult:
    """The viewer's caseload persons matching ``query`` (at most ``limit``).

    A name is searched in passes, and the first pass that finds someone is the answer: the words
    pass (two queries: the words the typed ones stand for, then the persons), then each
    trigram threshold (two queries each) — see the module docstring. Nothing outside the caseload
    is looked at, not even for an exact document and birth date: that answer belongs to
    registration and the start of a referral (``check_identity``).
    """
    result = SearchResult(query=query)
    if not query.searchable:
        return result

    def first_rows(persons: models.QuerySet[Person]) -> list[Person]:
        return list(persons.only(*RESULT_FIELDS)[: limit + 1])

    caseload = persons_attended_by(viewer.organisation_id)
    if not query.name:
        rows = first_rows(matching(caseload, query))
    else:
        words = name_word_alternatives(query.name)
        rows = first_rows(matching(caseload, query, words=words)) if words else []
        if not rows:
            with transaction.atomic():  # the thresholds are set for this transaction only
                for threshold in WORD_SIMILARITY_THRESHOLDS:
                    set_word_similarity_threshold(threshold)
                    rows = first_rows(matching(caseload, query))
                    if rows:
                        break
    result.truncated = len(rows) > limit
    result.persons = rows[:limit]
    return result


# --- Is this person already registered? (registration, the start of a referral) -----------------

#: Where an exact document + birth date outside the caseload is answered "esta persona ya consta
#: en el sistema" (docs/decisions/0008): registering a person (so that the record is linked, not
#: duplicated), and starting a referral to link it. Nowhere else, the search included.
IDENTITY_CONTEXTS = ("registration", "referral")


@dataclass(frozen=True)
class IdentityCheck:
    """What registration, or the start of a referral, may be told about a document and a birth
    date."""

    #: a record with this document that the viewer's organisation attends (it sees its basic sheet)
    attended_id: int | None = None
    #: the record with exactly this document and birth date, outside the caseload: the page says
    #: only "ya consta", and the id is for the caller to start the link
    elsewhere_id: int | None = None
    #: the document is another record's, with another birth date, outside the caseload: the page
    #: refuses with ``cases.identity.DOCUMENT_REFUSED``, which does not say that the document exists
    refused: bool = False


def _lookup_line(
    viewer: Viewer, person_id: int | None, *, level: str, basis: str, request_id: str
) -> LogLine:
    return LogLine(
        event=DisclosureLogEntry.Event.LOOKUP,
        channel=Channel.WEB,
        user_id=viewer.user_id,
        organisation_id=viewer.organisation_id,
        role=viewer.role,
        person_id=person_id,
        category="ficha_basica",
        level=level,
        basis=basis,
        request_id=request_id,
    )


def check_identity(
    *, viewer: Viewer, document: str, birth_date: dt.date, context: str, request_id: str = ""
) -> IdentityCheck:
    """Whether a document (and birth date) is already registered, as ``context`` may be told.

    In the viewer's caseload: the record, whatever the birth date (the viewer sees its basic sheet).
    Outside it, only the exact document + birth date answers, "ya consta" (``elsewhere_id``), and
    the answer is a ``lookup`` line in the disclosure log (basic sheet, indicator, basis
    ``lookup:<context>``). The same document with another birth date is a neutral refusal
    (``refused``), logged on that record too (level hidden, ``lookup:<context>:other_birth_date``),
    so that the data protection officer sees who typed a person's document; at the start of a
    referral a document nobody has is a failed lookup, logged with no person
    (``lookup:referral:no_match``). At registration it is simply a new person. Nothing else is
    logged: in the caseload nothing is disclosed.
    """
    if context not in IDENTITY_CONTEXTS:
        raise ValueError(
            f"identity lookups answer registration and referrals only, not {context!r}"
        )
    document = normalise_document(document)
    if not document:
        return IdentityCheck()
    holders = list(
        Person.objects.filter(document_number=document)
        .order_by("pk")
        .values_list("pk", "birth_date")
    )
    if not holders:
        if context == "referral":  # a failed lookup (at registration: a new person)
            disclosure_log_append(
                [
                    _lookup_line(
                        viewer,
                        None,
                        level="hidden",
                        basis="lookup:referral:no_match",
                        request_id=request_id,
                    )
                ]
            )
        return IdentityCheck()
    exact = next((pk for pk, born in holders if born == birth_date), None)
    person_id = surviving_id(exact if exact is not None else holders[0][0])
    if organisation_attends(viewer.organisation_id, person_id):
        return IdentityCheck(attended_id=person_id)
    if exact is not None:
        disclosure_log_append(
            [
                _lookup_line(
                    viewer,
                    person_id,
                    level="indicator",
                    basis=f"lookup:{context}",
                    request_id=request_id,
                )
            ]
        )
        return IdentityCheck(elsewhere_id=person_id)
    disclosure_log_append(
        [
            _lookup_line(
                viewer,
                person_id,
                level="hidden",
                basis=f"lookup:{context}:other_birth_date",
                request_id=request_id,
            )
        ]
    )
    return IdentityCheck(refused=True)


def find_by_identity(*, document: str, birth_date: dt.date) -> int | None:
    """The surviving record with exactly this document and birth date, anywhere in the system.
    Says nothing and logs nothing: for pages, use ``check_identity``."""
    person_id = (
        Person.objects.filter(document_number=normalise_document(document), birth_date=birth_date)
        .values_list("pk", flat=True)
        .first()
    )
    return None if person_id is None else surviving_id(person_id)


def lookup_outside_caseload(
    *, viewer: Viewer, document: str, birth_date: dt.date, context: str, request_id: str = ""
) -> int | None:
    """``check_identity``'s "ya consta": the record outside the caseload with exactly this document
    and birth date (logged), or ``None`` (attended, someone else's document, or nobody's: logged
    as ``check_identity`` says)."""
    return check_identity(
        viewer=viewer,
        document=document,
        birth_date=birth_date,
        context=context,
        request_id=request_id,
    ).elsewhere_id
