"""Shared fixtures for the care-rules tests: the US calendar and the default rules."""

from __future__ import annotations

import pytest

from bot.care.calendar import BusinessCalendar, HolidaySpec
from bot.care.rules import CareRules


@pytest.fixture(scope="session")
def us_calendar() -> BusinessCalendar:
    return BusinessCalendar(HolidaySpec(country="US"))


@pytest.fixture(scope="session")
def rules() -> CareRules:
    return CareRules()
