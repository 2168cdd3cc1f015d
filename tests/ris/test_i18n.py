"""The interface is in Spanish by default and fully available in English.

The English catalogue (``locale/en/LC_MESSAGES/django.po``) has every entry translated
and none fuzzy, each translation keeps the placeholders of its message, and the
committed ``django.mo`` (compiled with ``manage.py compilemessages -l en``, committed
because a fresh machine may lack GNU gettext) says exactly what the ``.po`` says.

Through the site: without a choice, pages are in Spanish; a signed-in social worker
who picks English in the language form gets the start page in English, and the login
page after signing out too; the person's record page names the data categories in
English.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import models as m
from consent.purposes import Purpose
from sharing.categories import BY_CODE
from tests.factories import ConsentFactory, PersonFactory, enrol, make_section_entry

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"


# --- A small .po reader (polib is not a dependency) -------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.msgstr_plural[i] for i in sorted(self.msgstr_plural)]


_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def read_po(path: Path) -> list[Entry]:
    """Every entry of ``path``, the header (empty msgid) included; obsolete ones skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None
    pending_flags: set[str] = set()

    def finish():
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert current is not None and target is not None, f"{path}:{number}: stray string"
            name, index = target
            if index is None:
                setattr(current, name, getattr(current, name) + _unquote(line))
            else:
                current.msgstr_plural[index] += _unquote(line)
            continue
        match = _KEYWORD.match(line)
        assert match, f"{path}:{number}: cannot read {raw!r}"
        keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3))
        if keyword == "msgctxt" or (keyword == "msgid" and target != ("msgctxt", None)):
            finish()
            current = Entry(line=number, flags=pending_flags)
            pending_flags = set()
        assert current is not None
        if keyword == "msgctxt":
            current.msgctxt, target = value, ("msgctxt", None)
        elif keyword == "msgid":
            current.msgid, target = value, ("msgid", None)
        elif keyword == "msgid_plural":
            current.msgid_plural, target = value, ("msgid_plural", None)
        elif index is None:
            current.msgstr, target = value, ("msgstr", None)
        else:
            current.msgstr_plural[int(index)] = value
            target = ("msgstr_plural", int(index))
    finish()
    return entries


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    entries = read_po(PO_FILE)
    assert entries and entries[0].msgid == "", "the catalogue has no header"
    return entries


@pytest.fixture(scope="module")
def messages(catalogue) -> list[Entry]:
    return catalogue[1:]


# --- The catalogue ---------------------------------------------------------------------


def test_reader_reads_plurals_contexts_and_continuations(tmp_path):
    po = tmp_path / "sample.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#, python-format\nmsgid "Hay %(n)s menor."\nmsgid_plural "Hay %(n)s menores."\n'
        'msgstr[0] "There is %(n)s minor."\nmsgstr[1] "There are %(n)s "\n"minors."\n\n'
        'msgctxt "mes"\nmsgid "Mayo"\nmsgstr "May"\n\n'
        '#, fuzzy\nmsgid ""\n"Línea \\"uno\\"\\n"\nmsgstr ""\n\n'
        '#~ msgid "Viejo"\n#~ msgstr "Old"\n',
        encoding="utf-8",
    )
    header, plural, with_context, fuzzy = read_po(po)
    assert header.msgstr == "Language: en\n"
    assert plural.flags == {"python-format"}
    assert plural.translations == ["There is %(n)s minor.", "There are %(n)s minors."]
    assert (with_context.msgctxt, with_context.msgid, with_context.msgstr) == ("mes", "Mayo", "May")
    assert fuzzy.msgid == 'Línea "uno"\n' and fuzzy.flags == {"fuzzy"} and fuzzy.msgstr == ""


def test_catalogue_is_for_english_with_two_plural_forms(catalogue):
    header = catalogue[0]
    assert "fuzzy" not in header.flags
    assert "Language: en\n" in header.msgstr
    assert "Content-Type: text/plain; charset=UTF-8\n" in header.msgstr
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header.msgstr


def test_catalogue_covers_the_interface(messages):
    """A sanity check that makemessages ran over the whole project, not one app."""
    msgids = {entry.msgid for entry in messages}
    assert len(messages) > 1000
    assert {"Entrar en RIS", "Salir", "Derivación", "Consentimiento registrado."} <= msgids


def test_every_entry_is_translated_and_none_is_fuzzy(messages):
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in messages if "fuzzy" in e.flags]
    untranslated = [
        f"line {e.line}: {e.msgid!r}"
        for e in messages
        if not all(text.strip() for text in e.translations)
        or (e.msgid_plural is not None and sorted(e.msgstr_plural) != [0, 1])
    ]
    assert not fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy)
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{[^{}]*\}")


def test_translations_keep_the_placeholders(messages):
    """Same %(name)s / {} placeholders, and the same trailing space or newline, as the source."""
    wrong = []
    for e in messages:
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        for source, text in zip(sources, e.translations, strict=True):
            if sorted(_PLACEHOLDER.findall(text)) != sorted(_PLACEHOLDER.findall(source)):
                wrong.append(f"line {e.line}: {source!r} → {text!r}")
            if source[-1:].isspace() != text[-1:].isspace():
                wrong.append(f"line {e.line}: trailing space or newline differs in {text!r}")
    assert not wrong, "\n".join(wrong)


def test_translations_use_english_legal_references(messages):
    """RGPD is the GDPR in English; the Spanish acronym must not leak into the English text."""
    leaks = [e.msgid for e in messages for text in e.translations if "RGPD" in text]
    assert not leaks, leaks


def test_committed_mo_matches_the_po(messages):
    """The .mo says what the .po says: recompile with compilemessages after editing the .po."""
    assert MO_FILE.exists(), "run: manage.py compilemessages -l en"
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.info().get("language") == "en"
    stale = []
    for e in messages:
        if e.msgid_plural is None:
            got = compiled.pgettext(e.msgctxt, e.msgid) if e.msgctxt else compiled.gettext(e.msgid)
            if got != e.msgstr:
                stale.append(f"{e.msgid!r}: .mo has {got!r}")
        else:
            for n, index in ((1, 0), (2, 1)):
                got = (
                    compiled.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                    if e.msgctxt
                    else compiled.ngettext(e.msgid, e.msgid_plural, n)
                )
                if got != e.msgstr_plural[index]:
                    stale.append(f"{e.msgid!r}[{index}]: .mo has {got!r}")
    assert not stale, "the .mo is out of date with the .po:\n" + "\n".join(stale[:20])
    # …and holds nothing the .po no longer has (header, plus one key per plural form).
    keys = 1 + sum(1 if e.msgid_plural is None else 2 for e in messages)
    assert len(compiled._catalog) == keys


# --- Through the site -----------------------------------------------------------------


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def choose_language(client: Client, code: str, next_url: str = "/"):
    """What the language form in the header does."""
    return client.post(reverse("set_language"), {"language": code, "next": next_url})


@pytest.mark.django_db
def test_pages_are_in_spanish_by_default(client_for, social_worker):
    client = client_for(social_worker)
    response = client.get(reverse("workspace:home"))
    html = _html(response)
    assert response.headers["Content-Language"] == "es"
    assert 'lang="es"' in html
    assert "Personas que atiende mi organización" in html
    assert "Salir" in html
    assert "People served by my organisation" not in html

    login = Client().get(reverse("login"))
    html = _html(login)
    assert login.headers["Content-Language"] == "es"
    assert "Entrar en RIS" in html and "Contraseña" in html


@pytest.mark.django_db
def test_social_worker_switches_to_english(client_for, social_worker):
    client = client_for(social_worker)
    response = choose_language(client, "en", next_url=reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("home")

    start = client.get(reverse("home"), follow=True)
    assert start.redirect_chain[-1][0] == reverse("workspace:home")
    html = _html(start)
    assert start.headers["Content-Language"] == "en"
    assert 'lang="en"' in html
    assert "People served by my organisation" in html
    assert "Search my cases" in html
    assert "Sign out" in html
    assert "Single social record" in html
    assert "Personas que atiende mi organización" not in html
    assert "Salir" not in html

    # The choice outlives the session: after signing out, the login page is in English.
    login = client.post(reverse("logout"), follow=True)
    assert login.redirect_chain[-1][0] == reverse("login")
    html = _html(login)
    assert login.headers["Content-Language"] == "en"
    assert "Sign in to RIS" in html
    assert "Password" in html
    assert "Contraseña" not in html

    # …and switching back gives Spanish again.
    choose_language(client, "es", next_url=reverse("login"))
    assert "Entrar en RIS" in _html(client.get(reverse("login")))


@pytest.mark.django_db
def test_english_form_errors(client):
    """Messages from Python code (forms) are translated too, not only templates."""
    choose_language(client, "en", next_url=reverse("login"))
    response = client.post(reverse("login"), {"username": "nadie", "password": "mal"})
    html = _html(response)
    assert "Incorrect username or password." in html
    assert "Usuario o contraseña incorrectos" not in html


@pytest.mark.django_db
def test_record_page_in_english_shows_translated_category_labels(
    client_for,
    social_worker,
    social_services_centre,
    employment_office,
    employment_counsellor,
):
    """Category labels are msgids (``gettext_noop`` in ``sharing.categories``), translated when
    shown: the record page in English names the areas, and the services, in English."""
    person = PersonFactory(first_name="Lucía", last_name_1="Marín", last_name_2="Sáez")
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    make_section_entry(
        m.ExclusionSituation,
        person=person,
        organisation=social_services_centre,
        recorded_by=social_worker,
        need_assessment="VALOR-EXCLUSION",
    )
    make_section_entry(
        m.UnemploymentBenefit,
        person=person,
        organisation=employment_office,
        recorded_by=employment_counsellor,
        monthly_amount=Decimal("812.34"),
        start_date=timezone.localdate(),
    )
    ConsentFactory(
        person=person,
        grantee_services=["social"],
        purposes=[Purpose.FOLLOW_UP.value],
        recorded_by=social_worker,
        recorded_by_org=social_services_centre,
    )

    client = client_for(social_worker)
    url = reverse("workspace:person_record", args=[person.pk])
    choose_language(client, "en", next_url=url)
    response = client.get(url, {"finalidad": Purpose.FOLLOW_UP.value})
    html = _html(response)
    assert response.headers["Content-Language"] == "en"

    heading = re.search(r'<h3 id="cat-exclusion_social-social">(.*?)</h3>', html, re.S)
    assert heading, "the social exclusion area is not on the page"
    assert heading.group(1).startswith(
        "Social exclusion situation <small>· Social services</small>"
    )
    # state benefits are an indicator for social services: the benefits map's yes/no line
    assert "No detail: you may only know whether any is being received today." in html
    assert "VALOR-EXCLUSION" in html and "812.34" not in html
    for code in ("exclusion_social", "prestaciones_estatales"):
        assert BY_CODE[code].source_label not in html  # the Spanish label does not leak
    # the record body's own strings (its template is Jinja2) follow the language too, and
    # switching language does not keep the other language's translations
    assert '<h2 id="ficha-title">Basic details</h2>' in html
    assert '<h2 id="documentos-title">Attached documents</h2>' in html
    assert "Ficha básica" not in html

    # …and the same categories are in Spanish again when the user switches back.
    choose_language(client, "es", next_url=url)
    html = _html(client.get(url, {"finalidad": Purpose.FOLLOW_UP.value}))
    assert "Situación de exclusión social <small>· Servicios sociales</small>" in html
    assert '<h2 id="ficha-title">Ficha básica</h2>' in html and "Basic details" not in html
