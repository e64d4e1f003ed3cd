"""Caseload name matching: typos, accents, possessives, titles, ambiguity, no false matches."""

import pytest

from bot.parsing import Caseload, PatientRef


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("called Maria Lopez", "Maria Lopez"),
        ("called Maria Lopes", "Maria Lopez"),
        ("Mria Lopez doing ok", "Maria Lopez"),
        ("called dorothy", "Dorothy Chen"),
        ("called dorthy", "Dorothy Chen"),
        ("Rosa Martinez ortho", "Rosa Martínez"),
        ("ROSA MARTINEZ", "Rosa Martínez"),
        ("Linda Nguyen's son called", "Linda Nguyen"),
        ("William Brown\u2019s wife", "William Brown"),
        ("James O'Brien seen", "James O'Brien"),
        ("unable to reach james o'brien", "James O'Brien"),
        ("james obrien", "James O'Brien"),
        ("spoke w/ Mr Jensen", "Harold Jensen"),
        ("Mrs. Brown called", "William Brown"),
        ("show me Harold", "Harold Jensen"),
        ("robert king", "Robert King"),
        ("Okafor HV", "Samuel Okafor"),
    ],
)
def test_matches(caseload: Caseload, text: str, expected: str) -> None:
    mention = caseload.find(text).mention
    assert mention.patient is not None
    assert mention.patient.name == expected
    assert mention.candidates == ()


def test_first_name_shared_is_ambiguous(caseload: Caseload) -> None:
    mention = caseload.find("called Maria").mention
    assert mention.patient is None
    assert {c.name for c in mention.candidates} == {"Maria Lopez", "Maria Santos"}
    assert mention.patient_text == "Maria"


def test_full_name_beats_shared_first_name(caseload: Caseload) -> None:
    mention = caseload.find("called Maria Santos").mention
    assert mention.patient == PatientRef(None, "Maria Santos")


def test_two_patients_with_same_name_are_candidates() -> None:
    twins = Caseload([PatientRef(1, "Ann Lee"), PatientRef(2, "Ann Lee")])
    mention = twins.find("called Ann Lee").mention
    assert mention.patient is None
    assert [c.id for c in mention.candidates] == [1, 2]


@pytest.mark.parametrize(
    "text",
    [
        "called PCP at Mercy today",
        "hello",
        "who is overdue?",
        "called the pharmacy re refills tomorrow",
        "Dr Kim called back",
        "spoke to the insurance company",
        "grace period for the copay",  # 'grace' is a first name but a lone lower-case word here
    ],
)
def test_no_false_matches(caseload: Caseload, text: str) -> None:
    mention = caseload.find(text).mention
    assert mention.patient is None
    assert mention.candidates == ()


def test_unknown_name_is_offered_back(caseload: Caseload) -> None:
    mention = caseload.find("called Bob Jones re meds").mention
    assert mention.patient is None
    assert mention.patient_text == "Bob Jones"


def test_place_is_not_offered_as_name(caseload: Caseload) -> None:
    assert caseload.find("discharged from Mercy General").mention.patient_text is None


def test_empty_caseload(caseload: Caseload) -> None:
    assert Caseload(()).find("called Maria Lopez").mention.patient is None


def test_a_150_patient_caseload_finds_the_one_named() -> None:
    """A full caseload (150 patients) still finds the right one (its speed is measured in
    benchmarks/bench_parse.py)."""
    first = ["Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo"]
    last = [f"Surname{chr(97 + i)}{chr(97 + j)}" for i in range(5) for j in range(3)]
    big = Caseload.from_names(f"{f} {s}" for f in first for s in last)
    assert len(big) == 150
    mention = big.find("called Cara Surnameab re meds, no answer x2, f/u Friday").mention
    assert mention.patient is not None
    assert mention.patient.name == "Cara Surnameab"
    fuzzy = big.find("tried calling Hanna Surnamebc, LVM, call back tomorrow").mention
    assert fuzzy.patient is not None
    assert fuzzy.patient.name == "Hana Surnamebc"
