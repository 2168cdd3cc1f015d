"""The Jinja2 environment of the one page rendered with Jinja2: the record body (decision 0013).

Its strings are translated with Django's catalogue, and extracted by ``makemessages`` like any
other: the templates call ``_("…")`` with a constant string only, and format sentences with
placeholders with ``|format(name=value)``.
"""

from __future__ import annotations

import re

from django.template.defaultfilters import linebreaksbr
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.text import capfirst
from jinja2 import Environment

#: msgid → translation, per language: the catalogues do not change while the process runs.
_TRANSLATED: dict[str, dict[str, str]] = {}

#: (script prefix, route name, kinds of the arguments) → the route's path, "{}" for each argument
_PATTERNS: dict[tuple, str] = {}
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_MARKER = re.compile(r"(?:98765432100|zqxjvmarker)([0-9])")


def gettext(message: str) -> str:
    """Django's gettext, remembered per language (the page asks for about 150 strings)."""
    translated = _TRANSLATED.setdefault(translation.get_language() or "", {})
    text = translated.get(message)
    if text is None:
        text = translated[message] = translation.gettext(message)
    return text


def url(name: str, *args) -> str:
    """``reverse(name, args=args)``, each route resolved once per process: the page links every
    entry, document and consent to the same few routes. Numbers and slugs only; anything else
    goes through ``reverse`` itself."""
    kinds = tuple(isinstance(arg, int) for arg in args)
    if len(args) > 9 or not all(kind or (isinstance(arg, str) and _SLUG.fullmatch(arg))
                                for arg, kind in zip(args, kinds)):
        return reverse(name, args=args)
    key = (get_script_prefix(), name, kinds)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        # reverse with markers the route's converters accept, then keep the path around them
        markers = [f"98765432100{i}" if kind else f"zqxjvmarker{i}" for i, kind in enumerate(kinds)]
        path = reverse(name, args=markers).replace("{", "{{").replace("}", "}}")
        pattern = _PATTERNS[key] = _MARKER.sub(lambda m: "{%s}" % m.group(1), path)
    return pattern.format(*args)


def environment(**options) -> Environment:
    env = Environment(**options)
    env.globals.update(_=gettext, url=url, static=static)
    env.filters.update(capfirst=capfirst, linebreaksbr=linebreaksbr)
    return env
