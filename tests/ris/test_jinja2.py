"""The record body's Jinja2 environment (decision 0013): its ``url`` is ``reverse``, route by
route, and its ``_`` is Django's gettext in the active language."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from ris.jinja2 import gettext, url

ROUTES = [
    ("workspace:person_record", (5,)),
    ("workspace:person_record", (123456,)),
    ("workspace:attachment_download", (5, 7)),
    ("workspace:attachment_download", (77, 1)),
    ("workspace:entry_update", (5, "intervenciones", 9)),
    ("workspace:entry_update", (12, "otra-seccion", 3)),
    ("portal:attachment_download", (5, 7)),
    ("portal:consent_receipt", (1, 2)),
    ("workspace:household_composition", (44,)),
    ("workspace:home", ()),
]


@pytest.mark.parametrize(("name", "args"), ROUTES)
def test_url_is_what_reverse_gives(name, args):
    assert url(name, *args) == reverse(name, args=args)


def test_each_call_gets_its_own_arguments():
    first = url("workspace:attachment_download", 5, 7)
    second = url("workspace:attachment_download", 6, 8)
    assert first != second
    assert second == reverse("workspace:attachment_download", args=(6, 8))


def test_arguments_that_are_not_numbers_or_slugs_go_through_reverse():
    # "a/b" is no slug: reverse itself decides, and refuses it for a slug route
    with pytest.raises(NoReverseMatch):
        url("workspace:entry_update", 5, "a/b", 9)
    with pytest.raises(NoReverseMatch):
        url("workspace:person_record", "x")


def test_gettext_follows_the_active_language():
    with translation.override("en"):
        assert gettext("Ficha básica") == "Basic details"
    with translation.override("es"):
        assert gettext("Ficha básica") == "Ficha básica"
    with translation.override("en"):
        assert gettext("Ficha básica") == "Basic details"
