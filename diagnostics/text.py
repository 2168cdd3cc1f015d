"""Formatting for alert texts: Spanish dates and amounts, and whom to ask."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _

from sharing.categories import BY_CODE, COMMON, EMPLOYMENT, SOCIAL, THIRD_SECTOR


def fmt_date(value) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def fmt_eur(value) -> str:
    """1234.5 → "1.234,50 €"."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    whole, _sep, cents = f"{amount:,.2f}".partition(".")
    return f"{whole.replace(',', '.')},{cents} €"


def service_phrase(service: str) -> str:
    return {
        SOCIAL: _("servicios sociales"),
        EMPLOYMENT: _("el servicio de empleo"),
        THIRD_SECTOR: _("la entidad social"),
    }.get(service, "")


def ask_about(categories) -> str:
    """ "servicios sociales y el servicio de empleo": the owners of the categories given."""
    services: list[str] = []
    for code in categories:
        owner = BY_CODE[code].owner_service
        if owner != COMMON and owner not in services:
            services.append(owner)
    phrases = [service_phrase(s) for s in sorted(services)]
    if not phrases:
        return ""
    if len(phrases) == 1:
        return phrases[0]
    return _("%(a)s y %(b)s") % {"a": ", ".join(phrases[:-1]), "b": phrases[-1]}


def compose(title: str, details: list[str], indicator_categories) -> str:
    """The conclusion of the rule, the details the recipient may see, and whom to ask for the rest."""
    ask = ask_about(indicator_categories)
    if not details:
        return f"{title}: " + (_("revisar con %(who)s.") % {"who": ask}) if ask else f"{title}."
    text = f"{title}. " + " ".join(details)
    if ask:
        text += " " + _("Revisar con %(who)s el resto de la información.") % {"who": ask}
    return text
