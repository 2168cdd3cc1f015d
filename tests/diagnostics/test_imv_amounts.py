"""The IMV amounts (renta garantizada) RIS ships for the possible-beneficiary rule, by year.

The rule compares a household's income with the amount of the latest year not after the day
it evaluates, by the number of members (capped at the largest size loaded). 2026 raised every
2025 amount 11,4 % (press figures, ris/reference/data/imv_renta_garantizada_2026.csv).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from ris.reference.models import MinimumIncomeThreshold

pytestmark = pytest.mark.django_db

PUBLISHED_2026 = {1: "733.91", 2: "954.10", 3: "1174.27", 4: "1394.45", 5: "1614.62"}


def amounts(year: int) -> dict[int, Decimal]:
    return dict(
        MinimumIncomeThreshold.objects.filter(year=year).values_list("members", "monthly_eur")
    )


def test_the_2026_amounts_are_the_published_ones():
    assert amounts(2026) == {m: Decimal(v) for m, v in PUBLISHED_2026.items()}


def test_2026_is_2025_raised_11_4_percent_within_a_cent():
    before, after = amounts(2025), amounts(2026)
    assert before.keys() == after.keys()
    for members, amount in before.items():
        raised = (amount * Decimal("1.114")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert abs(raised - after[members]) <= Decimal("0.02"), members


def test_each_year_keeps_the_scale_of_30_percent_per_extra_member():
    for year in (2025, 2026):
        table = amounts(year)
        for members, amount in table.items():
            expected = table[1] * (1 + Decimal("0.3") * (members - 1))
            assert abs(amount - expected) <= Decimal("0.05"), (year, members)


def test_every_row_names_its_source_file():
    for year, source in MinimumIncomeThreshold.objects.values_list("year", "source"):
        assert f"imv_renta_garantizada_{year}.csv" in source
