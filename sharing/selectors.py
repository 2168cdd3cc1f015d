"""Reads for the data protection officer: the access report and pending reviews."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.merge import absorbed_q

from .models import BreakGlassAccess, DisclosureLogEntry


def access_report(*, person_id: int) -> QuerySet[DisclosureLogEntry]:
    """Who saw what of this person, when and on what basis (RGPD art. 15)."""
    return (
        DisclosureLogEntry.objects.filter(absorbed_q(person_id))  # lines of merged records too
        .select_related("user", "organisation")
        .order_by("-at", "-id")
    )


def break_glass_pending() -> QuerySet[BreakGlassAccess]:
    return BreakGlassAccess.objects.filter(reviewed_at__isnull=True).select_related("user", "organisation", "person")
