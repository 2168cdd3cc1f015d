"""factory_boy factories for the foundation models.

Organisations take their autonomous community from the INE reference data that the
migrations load (Castilla y León, "07", unless ``community_code`` says otherwise).
Persons get valid, unique DNIs. ``make_section_entry`` creates a valid entry of any
section of the record; ``enrol`` opens an enrolment through ``sharing.caseload`` so
that the organisation's permission on the person is written too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.db import models
from django.utils import timezone
from factory.django import DjangoModelFactory, Password

from cases.identity import control_letter
from cases.models import Attachment, Household, HouseholdMember, Person, ServiceEntry, Sex
from consent.models import Consent, ConsentRevocation
from consent.purposes import Purpose
from ris.accounts.models import Membership, Organisation, Role, ServiceKind, User
from ris.reference.models import AutonomousCommunity
from sharing.caseload import enrolment_open
from sharing.categories import BY_CODE, COMMON
from sharing.models import Enrolment

TEST_PASSWORD = "contraseña-de-prueba-RIS"
CASTILLA_Y_LEON = "07"
CASTILLA_LA_MANCHA = "08"
VALLADOLID = "47186"


def valid_dni(n: int) -> str:
    """The n-th test DNI: eight digits from 30000000 on, with the right control letter."""
    number = 30_000_000 + n
    return f"{number:08d}{control_letter(number)}"


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    class Params:
        community_code = CASTILLA_Y_LEON

    name = factory.Sequence(lambda n: f"Organización de prueba {n}")
    code = factory.Sequence(lambda n: f"org-prueba-{n}")
    kind = ServiceKind.SOCIAL
    level = Organisation.Level.UNIT
    community = factory.LazyAttribute(
        lambda o: AutonomousCommunity.objects.get(code=o.community_code)
    )


class UserFactory(DjangoModelFactory):
    """A user who signs in with ``TEST_PASSWORD``."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"usuario{n}")
    first_name = factory.Faker("first_name", locale="es_ES")
    last_name = factory.Faker("last_name", locale="es_ES")
    email = factory.LazyAttribute(lambda u: f"{u.username}@ris.example.org")
    password = Password(TEST_PASSWORD)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.SOCIAL_WORKER


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    first_name = factory.Faker("first_name", locale="es_ES")
    last_name_1 = factory.Faker("last_name", locale="es_ES")
    last_name_2 = factory.Faker("last_name", locale="es_ES")
    document_type = Person.DocumentType.DNI
    document_number = factory.Sequence(valid_dni)
    birth_date = factory.Faker("date_of_birth", minimum_age=18, maximum_age=64)
    sex = factory.Iterator([Sex.FEMALE, Sex.MALE])


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = Household

    address_line = factory.Faker("street_address", locale="es_ES")
    housing_tenure = Household.Tenure.RENTED


class HouseholdMemberFactory(DjangoModelFactory):
    """A member since a year ago, still living there."""

    class Meta:
        model = HouseholdMember

    household = factory.SubFactory(HouseholdFactory)
    person = factory.SubFactory(PersonFactory)
    relationship = HouseholdMember.Relationship.HOLDER
    start_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=365))


class ConsentFactory(DjangoModelFactory):
    """Consent in force from today for a year: every category, to every service."""

    class Meta:
        model = Consent
        skip_postgeneration_save = True

    person = factory.SubFactory(PersonFactory)
    given_on = factory.LazyFunction(timezone.localdate)
    valid_from = factory.LazyFunction(timezone.localdate)
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=365))
    grantee_services = factory.LazyFunction(lambda: list(ServiceKind.values))
    all_categories = True
    purposes = factory.LazyFunction(
        lambda: [Purpose.ASSESSMENT, Purpose.REFERRAL, Purpose.ITINERARY]
    )
    privacy_notice_version = "2025.1"
    recorded_by = factory.SubFactory(UserFactory)
    recorded_by_org = factory.SubFactory(OrganisationFactory)


class ConsentRevocationFactory(DjangoModelFactory):
    class Meta:
        model = ConsentRevocation

    consent = factory.SubFactory(ConsentFactory)
    revoked_by = factory.SubFactory(UserFactory)
    channel = ConsentRevocation.Channel.IN_PERSON


def enrol(person: Person, organisation: Organisation, *, by: User | None = None) -> Enrolment:
    """The organisation starts attending the person (enrolment and object permission)."""
    return enrolment_open(
        organisation=organisation, person=person, origin=Enrolment.Origin.REGISTRATION, by=by
    )


def make_section_entry(
    model: type[ServiceEntry],
    *,
    person: Person | None = None,
    organisation: Organisation | None = None,
    recorded_by: User | None = None,
    **values,
) -> ServiceEntry:
    """A valid, saved entry of any section; required fields not given get plain values.

    The organisation defaults to a new one of the service that owns the section's
    category (social services for the common categories).
    """
    if organisation is None:
        owner = BY_CODE[model.CATEGORY].owner_service
        organisation = OrganisationFactory(kind=ServiceKind.SOCIAL if owner == COMMON else owner)
    entry = model(
        person=person or PersonFactory(),
        recorded_by_org=organisation,
        recorded_by_service=organisation.kind,
        recorded_by=recorded_by,
        **values,
    )
    for field in model._meta.concrete_fields:
        if field.name in values or field.attname in values or not _needs_value(field):
            continue
        setattr(entry, field.name, _sample_value(field))
    entry.full_clean()
    entry.save()
    return entry


#: The smallest file a PDF reader opens: what the upload check accepts as a PDF.
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def make_attachment(
    *,
    person: Person,
    organisation: Organisation,
    recorded_by: User | None,
    category: str,
    title: str = "Informe",
    kind: str = "informe",
    content: bytes = PDF_BYTES,
    name: str = "informe.pdf",
) -> Attachment:
    """A stored attachment of ``organisation``'s service, filed under ``category``, with its
    file, size and sha256 as an upload would leave them."""
    return Attachment.objects.create(
        person=person,
        recorded_by_service=organisation.kind,
        recorded_by_org=organisation,
        recorded_by=recorded_by,
        category=category,
        kind=kind,
        title=title,
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        file=ContentFile(content, name=name),
    )


_ENTRY_BASE_FIELDS = {f.name for f in ServiceEntry._meta.fields}


def _needs_value(field: models.Field) -> bool:
    return not (
        field.name in _ENTRY_BASE_FIELDS
        or field.primary_key
        or field.null
        or field.blank
        or field.has_default()
        or not field.editable
    )


def _sample_value(field: models.Field):
    if field.choices:
        return field.choices[0][0]
    if field.is_relation:
        sample = field.related_model._default_manager.order_by("pk").first()
        if sample is None:
            raise LookupError(f"No {field.related_model.__name__} row to point {field} at")
        return sample
    if isinstance(field, models.DateTimeField):
        return timezone.now() - dt.timedelta(days=1)
    if isinstance(field, models.DateField):
        return timezone.localdate() - dt.timedelta(days=30)
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DecimalField):
        return Decimal("100.00")
    if isinstance(field, models.IntegerField):
        return 1
    if isinstance(field, models.CharField | models.TextField):
        return f"{field.verbose_name} (prueba)"[: field.max_length]
    raise TypeError(f"No sample value for {field!r}: pass it to make_section_entry")
