"""Working days in Spain: Monday to Friday, except national holidays and those of the
organisation's autonomous community (the ``holidays`` library, ``holidays.Spain(subdiv=...)``).

Organisations carry the INE code of their autonomous community; ``holidays`` speaks ISO
3166-2 subdivision codes. Local (municipal) holidays are not in the library and are not
counted.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

#: INE CODAUTO → ISO 3166-2:ES subdivision, as ``holidays.Spain`` names them.
INE_TO_ISO = {
    "01": "AN",
    "02": "AR",
    "03": "AS",
    "04": "IB",
    "05": "CN",
    "06": "CB",
    "07": "CL",
    "08": "CM",
    "09": "CT",
    "10": "VC",
    "11": "EX",
    "12": "GA",
    "13": "MD",
    "14": "MC",
    "15": "NC",
    "16": "PV",
    "17": "RI",
    "18": "CE",
    "19": "ML",
}


@lru_cache(maxsize=64)
def _calendar(subdiv: str | None, years: tuple[int, ...]) -> holidays.HolidayBase:
    return holidays.Spain(subdiv=subdiv, years=years)


def is_working_day(day: dt.date, community_code: str | None) -> bool:
    if day.weekday() >= 5:
        return False
    calendar = _calendar(INE_TO_ISO.get(community_code or ""), (day.year,))
    return day not in calendar


def nth_working_day_back(today: dt.date, n: int, community_code: str | None) -> dt.date:
    """The n-th working day counting back from ``today`` (today itself is the first if it is one)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = today
    found = 0
    while True:
        if is_working_day(day, community_code):
            found += 1
            if found == n:
                return day
        day -= dt.timedelta(days=1)


def working_days_between(start: dt.date, end: dt.date, community_code: str | None) -> int:
    """Working days in (start, end]: how many working days have passed since ``start``."""
    count = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        count += is_working_day(day, community_code)
        day += dt.timedelta(days=1)
    return count


def overdue_cutoff(today: dt.date, working_days: int, community_code: str | None) -> dt.date:
    """A request sent on a day before the returned date has waited more than ``working_days``
    working days by ``today``: more than n working days in (sent, today] ⇔ sent < the
    (n+1)-th working day counting back from today."""
    return nth_working_day_back(today, working_days + 1, community_code)
