"""A person's identity is validated before it is saved, in Spanish, and the database agrees.

DNI: eight digits and the control letter (remainder of the number divided by 23).
NIE: X, Y or Z (0, 1, 2), seven digits and the control letter of the whole number.
A person is in one household at a time.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.identity import control_letter
from cases.models import HouseholdMember, Person
from tests.factories import HouseholdFactory, HouseholdMemberFactory, PersonFactory

pytestmark = pytest.mark.django_db


def new_person(**overrides) -> Person:
    values = {
        "first_name": "Lucía",
        "last_name_1": "García",
        "last_name_2": "Pérez",
        "document_type": Person.DocumentType.DNI,
        "document_number": "12345678Z",
        "birth_date": dt.date(1985, 3, 14),
        "sex": "F",
    }
    values.update(overrides)
    return Person(**values)


def messages_of(error: ValidationError, field: str) -> list[str]:
    return error.message_dict.get(field, [])


def all_messages(error: ValidationError) -> list[str]:
    return [m for messages in error.message_dict.values() for m in messages]


# --- Documents --------------------------------------------------------------------------


def test_the_examples_have_the_right_control_letters():
    assert control_letter(12345678) == "Z"
    assert control_letter(int("0" + "1234567")) == "L"  # X1234567 → 01234567


def test_wrong_dni_letter_is_refused_naming_the_right_letter():
    with pytest.raises(ValidationError) as caught:
        new_person(document_number="12345678A").full_clean()
    assert messages_of(caught.value, "document_number") == [
        "La letra del DNI no es correcta: para 12345678 corresponde la letra Z."
    ]


@pytest.mark.parametrize(
    "number", ["1234567Z", "123456789Z", "ABCDEFGHZ", "12345678", "12345678ZZ"]
)
def test_malformed_dni_is_refused(number):
    with pytest.raises(ValidationError) as caught:
        new_person(document_number=number).full_clean()
    assert messages_of(caught.value, "document_number") == [
        "El DNI debe tener 8 cifras seguidas de una letra (por ejemplo, 12345678Z)."
    ]


def test_wrong_nie_letter_is_refused_naming_the_right_letter():
    with pytest.raises(ValidationError) as caught:
        new_person(document_type=Person.DocumentType.NIE, document_number="X1234567A").full_clean()
    assert messages_of(caught.value, "document_number") == [
        "La letra del NIE no es correcta: corresponde la letra L."
    ]


@pytest.mark.parametrize("number", ["X123456L", "A1234567L", "X12345678L", "12345678Z"])
def test_malformed_nie_is_refused(number):
    with pytest.raises(ValidationError) as caught:
        new_person(document_type=Person.DocumentType.NIE, document_number=number).full_clean()
    [message] = messages_of(caught.value, "document_number")
    assert message.startswith("El NIE debe empezar por X, Y o Z")


def test_valid_dni_is_accepted():
    person = new_person(document_number="12345678Z")
    person.full_clean()
    person.save()
    assert Person.objects.with_document("dni", "12345678Z").get() == person


def test_valid_nie_is_accepted():
    person = new_person(document_type=Person.DocumentType.NIE, document_number="X1234567L")
    person.full_clean()
    assert person.document_number == "X1234567L"


@pytest.mark.parametrize("typed", ["12.345.678-z", "12345678z", " 12 345 678 Z "])
def test_dni_is_normalised(typed):
    person = new_person(document_number=typed)
    person.full_clean()
    assert person.document_number == "12345678Z"


def test_birth_date_in_the_future_is_refused():
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        new_person(birth_date=tomorrow).full_clean()
    assert messages_of(caught.value, "birth_date") == ["La fecha no puede ser posterior a hoy."]


def test_no_document_needs_a_reason():
    with pytest.raises(ValidationError) as caught:
        new_person(document_type=Person.DocumentType.NONE, document_number="").full_clean()
    assert "Indique por qué la persona no tiene documento." in messages_of(
        caught.value, "no_document_reason"
    )


def test_no_document_with_a_reason_is_accepted():
    person = new_person(
        document_type=Person.DocumentType.NONE,
        document_number="",
        no_document_reason=Person.NoDocumentReason.LOST,
    )
    person.full_clean()
    person.save()


def test_factory_persons_are_valid_and_unique():
    persons = PersonFactory.create_batch(5)
    for person in persons:
        person.full_clean()
    assert len({p.document_number for p in persons}) == 5


# --- One person, one record --------------------------------------------------------------


def test_second_person_with_the_same_dni_is_refused_by_full_clean():
    PersonFactory(document_number="12345678Z")
    with pytest.raises(ValidationError) as caught:
        new_person(first_name="Otra", document_number="12.345.678-z").full_clean()
    # the same neutral answer as for a wrong birth date: it does not confirm who holds it
    assert "No se puede usar este número de documento con esta fecha de nacimiento." in " ".join(
        all_messages(caught.value)
    )


def test_second_person_with_the_same_dni_is_refused_by_the_database():
    PersonFactory(document_number="12345678Z")
    with pytest.raises(IntegrityError, match="person_unique_document"), transaction.atomic():
        new_person(first_name="Otra", document_number="12345678Z").save()


def test_persons_without_document_do_not_collide():
    for _ in range(2):
        new_person(
            document_type=Person.DocumentType.NONE,
            document_number="",
            no_document_reason=Person.NoDocumentReason.MINOR,
        ).save()
    assert Person.objects.filter(document_type="none").count() == 2


# --- One household at a time -------------------------------------------------------------

OVERLAP_MESSAGE = "Esta persona ya figura en una unidad de convivencia en esas fechas."


def test_member_of_two_households_at_once_is_refused_by_validate_constraints():
    first = HouseholdMemberFactory(start_date=dt.date(2024, 1, 1), end_date=None)
    second = HouseholdMember(
        household=HouseholdFactory(),
        person=first.person,
        relationship=HouseholdMember.Relationship.PARTNER,
        start_date=dt.date(2024, 6, 1),
    )
    with pytest.raises(ValidationError) as caught:
        second.validate_constraints()
    assert OVERLAP_MESSAGE in caught.value.messages


def test_member_of_two_households_at_once_is_refused_by_the_database():
    first = HouseholdMemberFactory(start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
    second = HouseholdMember(
        household=HouseholdFactory(),
        person=first.person,
        relationship=HouseholdMember.Relationship.HOLDER,
        start_date=dt.date(2024, 12, 1),
        end_date=dt.date(2025, 2, 1),
    )
    with (
        pytest.raises(IntegrityError, match="household_member_one_household_at_a_time"),
        transaction.atomic(),
    ):
        second.save()


def test_consecutive_memberships_are_accepted():
    first = HouseholdMemberFactory(start_date=dt.date(2023, 1, 1), end_date=dt.date(2024, 1, 1))
    moved = HouseholdMember(
        household=HouseholdFactory(),
        person=first.person,
        relationship=HouseholdMember.Relationship.HOLDER,
        start_date=dt.date(2024, 1, 1),
    )
    moved.full_clean()
    moved.save()
    assert HouseholdMember.objects.filter(person=first.person).count() == 2


def test_different_people_at_the_same_dates_do_not_collide():
    HouseholdMemberFactory(start_date=dt.date(2024, 1, 1))
    other = HouseholdMember(
        household=HouseholdFactory(),
        person=PersonFactory(),
        relationship=HouseholdMember.Relationship.HOLDER,
        start_date=dt.date(2024, 1, 1),
    )
    other.validate_constraints()
    other.save()
