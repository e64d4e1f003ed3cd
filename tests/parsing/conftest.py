"""Shared fixtures for the parsing tests: a fixed moment, zone and caseload."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.parsing import Caseload

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 10, 15, tzinfo=CHICAGO)  # a Monday
NAMES = [
    "Maria Lopez", "Maria Santos", "John Smith", "Dorothy Chen", "Robert King", "Aisha Patel",
    "James O'Brien", "Linda Nguyen", "Samuel Okafor", "Grace Kim", "Harold Jensen",
    "Rosa Martínez", "William Brown",
]  # fmt: skip


@pytest.fixture(scope="session")
def caseload() -> Caseload:
    return Caseload.from_names(NAMES)
