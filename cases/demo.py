"""The demo world: a believable Spanish pilot to show, try and benchmark RIS.

``ensure_demo_world`` creates two territories in two autonomous communities (Toledo,
Castilla-La Mancha; Valladolid, Castilla y León), their social services centres,
employment offices and two NGOs, one demo account per role, about sixty persons in
twenty-five households with their sections, consents in every state, legal bases
and an objection. It is deterministic (a fixed random seed) and its dates are
relative to today, so the world stays believable. It is idempotent: an existing
demo world is detected by its organisation codes and left alone.

``add_synthetic_persons`` adds any number of plain synthetic persons for
benchmarks, with set-based ``INSERT ... SELECT generate_series`` statements.

The demo world is written through the apps' own services (``cases.services``,
``consent.services``, ``sharing.caseload``), so it obeys the same rules and leaves
the same change history as a user's work; the synthetic bulk writes the same rows
in SQL.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.utils import timezone

from consent.models import Consent, ConsentRevocation, LegalBasis
from consent.purposes import Purpose
from consent.services import consent_correct, consent_record, consent_revoke, objection_record
from ris.accounts.models import Membership, Organisation, Role, ServiceKind, User
from ris.accounts.viewer import Viewer
from ris.reference.models import (
    AutonomousCommunity,
    BasicSocialService,
    DeprivationItem,
    EducationLevel,
    Municipality,
    Occupation,
    Province,
)
from sharing.caseload import enrolment_open
from sharing.models import Enrolment, SharingAgreement

from . import demo_names as names
from .identity import CONTROL_LETTERS, control_letter
from .models import (
    ActivePolicyItinerary,
    ChildPovertyDetection,
    CompanyIntermediation,
    CriminalRecord,
    DiaryEntry,
    EmployabilityLevel,
    EmploymentHistoryEntry,
    ExclusionSituation,
    FamilySituation,
    HealthRecord,
    Household,
    HouseholdMember,
    InformalWork,
    JobSeekerRecord,
    LegalStatus,
    MinimumIncome,
    MotivationAssessment,
    Person,
    PlannedService,
    ReferenceProfessional,
    ServiceEntry,
    SocialCompetences,
    SocialFolderIntervention,
    UnemploymentBenefit,
)
from .services import entry_create, person_register

DEMO_PASSWORD = "ris-demo-2026"
RANDOM_SEED = 2026
PRIVACY_NOTICE_VERSION = "2025.1"
# The demo world draws DNI numbers below this; synthetic persons take numbers from here up.
SYNTHETIC_FIRST_DNI = 60_000_000
SYNTHETIC_LAST_DNI = 99_999_999

SOCIAL, EMPLOYMENT, THIRD_SECTOR = ServiceKind.SOCIAL, ServiceKind.EMPLOYMENT, ServiceKind.THIRD_SECTOR
SHARING_PURPOSES = [Purpose.ASSESSMENT, Purpose.REFERRAL, Purpose.ITINERARY, Purpose.FOLLOW_UP,
                    Purpose.CASE_CONFERENCE]
#: Half of the usual consents also authorise "prevención (alertas)", so that an alert on a risk
#: seen by one service can reach the other services that attend the person (decision 0007).
PREVENTION_PURPOSES = [*SHARING_PURPOSES, Purpose.PREVENTION]


class DemoWorldError(Exception):
    """The database holds part of a demo world: refuse to guess."""


# --- The fixed cast: territories, organisations, accounts -------------------------------------

@dataclass(frozen=True)
class TerritorySpec:
    key: str
    community: str
    province: str
    municipality: str
    postal_code: str


TERRITORIES: tuple[TerritorySpec, ...] = (
    TerritorySpec("toledo", community="08", province="45", municipality="45168", postal_code="45007"),
    TerritorySpec("valladolid", community="07", province="47", municipality="47186", postal_code="47012"),
)
TERRITORY_BY_KEY = {t.key: t for t in TERRITORIES}


@dataclass(frozen=True)
class OrganisationSpec:
    code: str
    name: str
    kind: str
    territory: str


ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec("css-poligono-toledo", "Centro de Servicios Sociales Polígono (Toledo)", SOCIAL, "toledo"),
    OrganisationSpec("oe-toledo-centro", "Oficina de Empleo Toledo-Centro", EMPLOYMENT, "toledo"),
    OrganisationSpec("ceas-delicias-valladolid", "Centro de Acción Social Delicias (Valladolid)", SOCIAL,
                     "valladolid"),
    OrganisationSpec("oe-valladolid-parquesol", "Oficina de Empleo Valladolid-Parquesol", EMPLOYMENT, "valladolid"),
    OrganisationSpec("ong-horizonte-inclusion", "Asociación Horizonte Inclusión", THIRD_SECTOR, "toledo"),
    OrganisationSpec("ong-fundacion-puentes", "Fundación Puentes", THIRD_SECTOR, "valladolid"),
)
ORGANISATION_CODES: tuple[str, ...] = tuple(o.code for o in ORGANISATIONS)
PUBLIC_ORGANISATIONS = ("css-poligono-toledo", "oe-toledo-centro", "ceas-delicias-valladolid",
                        "oe-valladolid-parquesol")


@dataclass(frozen=True)
class AccountSpec:
    username: str
    first_name: str
    last_name: str
    role: str
    organisations: tuple[str, ...]
    is_staff: bool = False


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("ts.toledo", "Lucía", "Martín Sevilla", Role.SOCIAL_WORKER, ("css-poligono-toledo",)),
    AccountSpec("ts.valladolid", "Marta", "Herrero Calvo", Role.SOCIAL_WORKER, ("ceas-delicias-valladolid",)),
    AccountSpec("orienta.toledo", "Javier", "Rincón Prieto", Role.EMPLOYMENT_COUNSELLOR, ("oe-toledo-centro",)),
    AccountSpec("orienta.valladolid", "Sonia", "Pastor Villa", Role.EMPLOYMENT_COUNSELLOR,
                ("oe-valladolid-parquesol",)),
    AccountSpec("ong.horizonte", "Nerea", "Campos Luengo", Role.NGO_TECHNICIAN, ("ong-horizonte-inclusion",)),
    AccountSpec("ong.puentes", "Óscar", "Benito Mate", Role.NGO_TECHNICIAN, ("ong-fundacion-puentes",)),
    AccountSpec("coord.toledo", "Rocío", "Vega Mora", Role.COORDINATOR, ("css-poligono-toledo", "oe-toledo-centro")),
    AccountSpec("coord.valladolid", "Alberto", "Cuesta Llorente", Role.COORDINATOR,
                ("ceas-delicias-valladolid", "oe-valladolid-parquesol")),
    AccountSpec("evaluadora", "Teresa", "Aguado Ribas", Role.EVALUATOR, PUBLIC_ORGANISATIONS),
    AccountSpec("dpd", "Ramón", "Esteban Quiroga", Role.DATA_PROTECTION_OFFICER, ORGANISATION_CODES),
    AccountSpec("admin", "Inmaculada", "Soler Page", Role.ADMINISTRATOR, ("css-poligono-toledo",), is_staff=True),
)

# The professional who records, and is the reference professional, for each organisation.
PROFESSIONAL_BY_ORGANISATION = {
    "css-poligono-toledo": "ts.toledo",
    "oe-toledo-centro": "orienta.toledo",
    "ceas-delicias-valladolid": "ts.valladolid",
    "oe-valladolid-parquesol": "orienta.valladolid",
    "ong-horizonte-inclusion": "ong.horizonte",
    "ong-fundacion-puentes": "ong.puentes",
}


def account_rows() -> list[tuple[str, str, str, str]]:
    """(username, password, role, organisations) for every demo account, for printing."""
    names_by_code = {o.code: o.name for o in ORGANISATIONS}
    rows = []
    for account in ACCOUNTS:
        if account.organisations == ORGANISATION_CODES:
            where = f"Todas las organizaciones de demostración ({len(ORGANISATION_CODES)})"
        else:
            where = "; ".join(names_by_code[code] for code in account.organisations)
        rows.append((account.username, DEMO_PASSWORD, str(Role(account.role).label), where))
    return rows


def demo_world_exists() -> bool:
    found = Organisation.objects.filter(code__in=ORGANISATION_CODES).count()
    if found and found != len(ORGANISATION_CODES):
        raise DemoWorldError(
            f"Hay {found} de las {len(ORGANISATION_CODES)} organizaciones de demostración: "
            "el mundo de demostración está incompleto. Revise la base de datos antes de volver a sembrar."
        )
    return found == len(ORGANISATION_CODES)


@dataclass
class DemoWorld:
    organisations: dict[str, Organisation]
    users: dict[str, User]

    def professional_for(self, organisation: Organisation) -> User:
        return self.users[PROFESSIONAL_BY_ORGANISATION[organisation.code]]

    def viewer_for(self, organisation: Organisation) -> Viewer:
        """The organisation's demo professional, acting in that organisation."""
        membership = Membership.objects.select_related("organisation").get(
            user=self.professional_for(organisation), organisation=organisation,
        )
        return Viewer.from_membership(membership)

    def organisation_in(self, territory: str, kind: str) -> Organisation:
        spec = next(o for o in ORGANISATIONS if o.territory == territory and o.kind == kind)
        return self.organisations[spec.code]


def load_demo_world() -> DemoWorld:
    organisations = {o.code: o for o in Organisation.objects.filter(code__in=ORGANISATION_CODES)}
    users = {u.username: u for u in User.objects.filter(username__in=[a.username for a in ACCOUNTS])}
    return DemoWorld(organisations=organisations, users=users)


@transaction.atomic
def ensure_demo_world(*, today: dt.date | None = None) -> bool:
    """Build the demo world unless it exists. Returns whether it was built now."""
    if demo_world_exists():
        return False
    _WorldBuilder(today or timezone.localdate()).build()
    return True


# --- Household templates ----------------------------------------------------------------------

@dataclass(frozen=True)
class HouseholdTemplate:
    territory: str
    shape: str  # single, couple, couple_children, single_parent, with_parent, siblings
    children: int = 0
    origin: str = "ES"
    documents: str = "standard"  # standard, passport, undocumented, lost
    tenure: str = Household.Tenure.RENTED
    income: int = 900
    ngo: bool = False
    adult_ages: tuple[int, int] = (27, 58)
    left_household: int | None = None  # the holder grew up in this household (index) and left it


HOUSEHOLDS: tuple[HouseholdTemplate, ...] = (
    HouseholdTemplate("toledo", "couple_children", 2, income=1150, adult_ages=(46, 52)),
    HouseholdTemplate("toledo", "single_parent", 2, income=620, ngo=True),
    HouseholdTemplate("toledo", "single", tenure=Household.Tenure.CEDED, income=0, adult_ages=(48, 60)),
    HouseholdTemplate("toledo", "couple_children", 3, origin="MA", income=890, ngo=True),
    HouseholdTemplate("toledo", "single_parent", 1, origin="CO", tenure=Household.Tenure.ROOM, income=480, ngo=True),
    HouseholdTemplate("toledo", "with_parent", tenure=Household.Tenure.OWNED, income=980, adult_ages=(45, 56)),
    HouseholdTemplate("toledo", "single", origin="RO", tenure=Household.Tenure.ROOM, income=430),
    HouseholdTemplate("toledo", "couple", income=1320),
    HouseholdTemplate("toledo", "single", origin="SN", documents="undocumented", tenure=Household.Tenure.INSECURE,
                      income=0, ngo=True, adult_ages=(24, 34)),
    HouseholdTemplate("toledo", "single_parent", 2, income=560),
    HouseholdTemplate("toledo", "couple_children", 1, origin="VE", documents="passport",
                      tenure=Household.Tenure.CEDED, income=0, ngo=True),
    HouseholdTemplate("toledo", "single", income=700, adult_ages=(21, 24), left_household=0),
    HouseholdTemplate("toledo", "siblings", tenure=Household.Tenure.OWNED, income=760),
    HouseholdTemplate("valladolid", "couple_children", 2, income=1240),
    HouseholdTemplate("valladolid", "single_parent", 3, income=690, ngo=True),
    HouseholdTemplate("valladolid", "single", tenure=Household.Tenure.NONE, income=0, adult_ages=(38, 55)),
    HouseholdTemplate("valladolid", "couple_children", 2, origin="UA", tenure=Household.Tenure.CEDED, income=520,
                      ngo=True),
    HouseholdTemplate("valladolid", "single_parent", 1, origin="PE", tenure=Household.Tenure.ROOM, income=610,
                      ngo=True),
    HouseholdTemplate("valladolid", "with_parent", tenure=Household.Tenure.OWNED, income=1100, adult_ages=(44, 58)),
    HouseholdTemplate("valladolid", "single", origin="MA", documents="lost", tenure=Household.Tenure.INSECURE,
                      income=0, ngo=True),
    HouseholdTemplate("valladolid", "couple", origin="RO", income=1450),
    HouseholdTemplate("valladolid", "single_parent", 2, income=540),
    HouseholdTemplate("valladolid", "single", income=900),
    HouseholdTemplate("valladolid", "couple_children", 2, tenure=Household.Tenure.OWNED, income=1700),
    HouseholdTemplate("valladolid", "single", origin="CO", documents="passport", tenure=Household.Tenure.ROOM,
                      income=380, adult_ages=(26, 40)),
)

# Index (in HOUSEHOLDS) of the household whose holder illustrates each special case.
CASE_GENDER_VIOLENCE = 9
CASE_HOMELESS = 15
CASE_PROBATION = 22
CASE_SERVED_SENTENCE = 2
CASE_DEPENDENT_PARENT = 5
CASE_DISABILITY = 18
CASE_CHILD_DISABILITY = 14
CONSENT_REVOKED = 7
CONSENT_EXPIRED = 20
CONSENT_PENDING = 23
CONSENT_SCOPED = 13
CONSENT_FOR_ORGANISATION = 1
CONSENT_CORRECTED = 3
CONSENT_BY_REPRESENTATIVE = 14
OBJECTION = 12
INFORMAL_WORK = (2, 8, 19)


@dataclass
class Member:
    person: Person
    relationship: str
    age: int
    months_worked: int | None = None

    @property
    def is_adult(self) -> bool:
        return self.age >= 18


@dataclass
class DemoHousehold:
    index: int
    template: HouseholdTemplate
    household: Household
    since: dt.date
    members: list[Member] = field(default_factory=list)

    @property
    def holder(self) -> Member:
        return self.members[0]

    @property
    def adults(self) -> list[Member]:
        return [m for m in self.members if m.is_adult]

    @property
    def minors(self) -> list[Member]:
        return [m for m in self.members if not m.is_adult]


# --- Texts ---------------------------------------------------------------------------------

EXCLUSION_TEXTS = {
    ExclusionSituation.Severity.INTEGRATION:
        "Ingresos estables y red familiar de apoyo. Se mantiene un seguimiento de baja intensidad.",
    ExclusionSituation.Severity.RISK:
        "Ingresos irregulares que no cubren los gastos de vivienda; riesgo de impago del alquiler y red de "
        "apoyo limitada.",
    ExclusionSituation.Severity.MODERATE:
        "Desempleo de larga duración, deudas de suministros y dificultad para cubrir necesidades básicas. "
        "Precisa apoyo económico y acompañamiento social.",
    ExclusionSituation.Severity.SEVERE:
        "Sin ingresos propios ni vivienda estable; aislamiento social y barreras administrativas para acceder "
        "a prestaciones.",
}
FAMILY_TEXTS = {
    "couple_children": "Pareja con hijos menores a cargo. Reparto de cuidados desigual; la madre no puede "
                       "aceptar turnos de tarde.",
    "single_parent": "Familia monoparental. La madre asume en solitario el cuidado de los menores, sin apoyo "
                     "de la familia extensa.",
    "with_parent": "Convive con su madre, persona mayor con dependencia reconocida, de la que es cuidador "
                   "principal.",
}
GENDER_VIOLENCE_TEXT = (
    "Víctima de violencia de género con orden de protección en vigor. Domicilio no comunicable a terceros; "
    "coordinación con el Centro de la Mujer."
)
COMPETENCE_TEXTS = (
    "Puntualidad y buena presentación; manejo básico del teléfono móvil, no del ordenador.",
    "Experiencia en tareas de limpieza y cuidados; buena disposición para el trabajo en equipo.",
    "Lectoescritura funcional en castellano; necesita apoyo para trámites electrónicos.",
    "Habilidades sociales adecuadas; dificultad para mantener horarios por cargas familiares.",
)
EMOTIONAL_TEXTS = (
    "Desánimo tras varios procesos de selección sin éxito.",
    "Alta motivación por conseguir un empleo estable para la familia.",
    "Ansiedad asociada a la situación económica; se deriva a recurso comunitario.",
    "",
)
INFORMAL_ACTIVITIES = (
    ("Recogida y venta de chatarra", 20),
    ("Venta ambulante sin licencia", 25),
    ("Limpieza de domicilios por horas sin contrato", 12),
)
PROGRAMMES = (
    "Programa de orientación profesional para el empleo y asistencia para el autoempleo",
    "Formación en competencias digitales básicas",
    "Curso de atención sociosanitaria a personas dependientes en instituciones sociales",
    "Programa de empleo con apoyo en entidades locales",
    "Taller de búsqueda activa de empleo",
)
EMPLOYABILITY_FACTORS = {
    "low": "Baja cualificación, desempleo de larga duración y cargas familiares sin apoyo.",
    "medium": "Experiencia laboral reciente pero sin titulación; disponibilidad parcial.",
    "high": "Formación profesional y experiencia reciente en sectores con demanda.",
}
FOLDER_TEXTS = {
    SocialFolderIntervention.Kind.ACCOMPANIMENT: "Acompañamiento a la cita de renovación de documentación.",
    SocialFolderIntervention.Kind.MATERIAL_AID: "Entrega de lote de alimentos y productos de higiene infantil.",
    SocialFolderIntervention.Kind.TRAINING: "Inscripción en el taller de competencias digitales de la entidad.",
    SocialFolderIntervention.Kind.GUIDANCE: "Sesión de orientación sobre vivienda y ayudas al alquiler.",
}
DIARY_TEXTS = {
    SOCIAL: ("Solicita información sobre ayudas de emergencia para el pago del alquiler.",
             "Situación económica muy ajustada; se tramita ayuda y se revisa en un mes."),
    EMPLOYMENT: ("Acude a renovar la demanda y pregunta por cursos de formación.",
                 "Se actualiza el perfil y se propone un itinerario de orientación."),
    THIRD_SECTOR: ("Pide apoyo para material escolar de los menores.",
                   "Se incorpora al programa de acompañamiento de la entidad."),
}
HEALTH_TEXTS = {
    CASE_DEPENDENT_PARENT: ("Persona mayor con deterioro cognitivo; necesita ayuda para las actividades "
                            "básicas de la vida diaria.", 65, "II"),
    CASE_HOMELESS: ("Trastorno mental grave en tratamiento irregular; seguimiento por el equipo de salud "
                    "mental comunitaria.", 45, ""),
    CASE_DISABILITY: ("Discapacidad física reconocida por lesión de espalda; no puede cargar peso.", 33, ""),
}


# --- The builder -----------------------------------------------------------------------------

class _WorldBuilder:
    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.rng = random.Random(RANDOM_SEED)
        self.used_documents: set[str] = set()
        self.world = DemoWorld(organisations={}, users={})
        self.households: list[DemoHousehold] = []
        self.enrolled: dict[tuple[int, str], dt.date] = {}  # (person id, org code) -> start date
        self.diary_kinds = list(DiaryEntry.Kind.values)
        self.diary_count = 0
        self.education_levels = list(EducationLevel.objects.order_by("code").values_list("code", flat=True))
        self.occupations = list(
            Occupation.objects.filter(code__in=["512", "522", "561", "571", "583", "910", "921", "931", "960",
                                                "970", "981", "982", "841", "843", "951"])
        )
        self.basic_services = {s.code: s for s in BasicSocialService.objects.all()}
        self.viewers: dict[str, Viewer] = {}

    def viewer(self, organisation: Organisation) -> Viewer:
        if organisation.code not in self.viewers:
            self.viewers[organisation.code] = self.world.viewer_for(organisation)
        return self.viewers[organisation.code]

    def build(self) -> DemoWorld:
        self.world.organisations = {spec.code: self._organisation(spec) for spec in ORGANISATIONS}
        self.world.users = self._accounts()
        self._agreements()
        for index, template in enumerate(HOUSEHOLDS):
            self.households.append(self._household(index, template))
        self._caseload()
        self._social_sections()
        self._employment_sections()
        self._third_sector_sections()
        self._diary()
        self._consents()
        self._legal_bases()
        return self.world

    # Dates -----------------------------------------------------------------------------------

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(low, high))

    def moment(self, day: dt.date, hour: int | None = None) -> dt.datetime:
        hour = hour if hour is not None else self.rng.randint(9, 13)
        naive = dt.datetime.combine(day, dt.time(hour, self.rng.choice((0, 15, 30, 45))))
        return timezone.make_aware(naive)

    def birth_date(self, age: int) -> dt.date:
        return self.today - dt.timedelta(days=age * 365 + age // 4 + self.rng.randint(1, 360))

    # Organisations and accounts ----------------------------------------------------------------

    def _organisation(self, spec: OrganisationSpec) -> Organisation:
        territory = TERRITORY_BY_KEY[spec.territory]
        return Organisation.objects.create(
            code=spec.code, name=spec.name, kind=spec.kind, level=Organisation.Level.UNIT,
            community=AutonomousCommunity.objects.get(code=territory.community),
            province=Province.objects.get(code=territory.province),
            municipality=Municipality.objects.get(code=territory.municipality),
        )

    def _accounts(self) -> dict[str, User]:
        # One hash for the one shared demo password: hashing it per account only adds seconds.
        password_hash = make_password(DEMO_PASSWORD)
        users = {}
        for spec in ACCOUNTS:
            user = User.objects.create(
                username=spec.username, first_name=spec.first_name, last_name=spec.last_name,
                email=f"{spec.username}@demo.ris.invalid", is_staff=spec.is_staff, password=password_hash,
            )
            Membership.objects.bulk_create(
                Membership(user=user, organisation=self.world.organisations[code], role=spec.role)
                for code in spec.organisations
            )
            users[spec.username] = user
        return users

    def _agreements(self) -> None:
        for ngo in (o for o in ORGANISATIONS if o.kind == THIRD_SECTOR):
            organisation = self.world.organisations[ngo.code]
            agreement = SharingAgreement.objects.create(
                organisation=organisation,
                title=f"Convenio de colaboración para itinerarios de inclusión: {ngo.name}",
                community=organisation.community,
                categories=["ficha_basica", "unidad_convivencia", "servicios_planificados", "carpeta_social",
                            "intermediacion", "pobreza_infantil", "atenciones"],
                purposes=[Purpose.INTAKE, Purpose.ASSESSMENT, Purpose.ITINERARY, Purpose.FOLLOW_UP],
                valid_from=self.today - dt.timedelta(days=300),
                valid_until=self.today + dt.timedelta(days=430),
                processing_terms=(
                    "La entidad trata los datos como encargada del tratamiento (art. 28 RGPD), solo para los "
                    "itinerarios subvencionados, con deber de confidencialidad y devolución de los datos al "
                    "finalizar el convenio."
                ),
            )
            agreement.parties.set([
                organisation,
                self.world.organisation_in(ngo.territory, SOCIAL),
                self.world.organisation_in(ngo.territory, EMPLOYMENT),
            ])

    # Persons and households -----------------------------------------------------------------------

    def _dni(self) -> str:
        while True:
            number = self.rng.randint(10_000_000, SYNTHETIC_FIRST_DNI - 1)
            document = f"{number:08d}{control_letter(number)}"
            if document not in self.used_documents:
                self.used_documents.add(document)
                return document

    def _nie(self, origin: str) -> str:
        while True:
            prefix = "Z" if origin == "UA" else self.rng.choice("XY")
            digits = self.rng.randint(0, 9_999_999)
            number = int(f"{'XYZ'.index(prefix)}{digits:07d}")
            document = f"{prefix}{digits:07d}{control_letter(number)}"
            if document not in self.used_documents:
                self.used_documents.add(document)
                return document

    def _passport(self, origin: str) -> str:
        while True:
            if origin == "VE":
                document = str(self.rng.randint(100_000_000, 199_999_999))
            else:
                document = f"AW{self.rng.randint(1_000_000, 9_999_999)}"
            if document not in self.used_documents:
                self.used_documents.add(document)
                return document

    def _document(self, template: HouseholdTemplate, role: str, adult: bool) -> tuple[str, str, str]:
        """(document type, number, no-document reason) for a member of this household."""
        if template.documents == "passport":
            if adult:
                return Person.DocumentType.PASSPORT, self._passport(template.origin), ""
            return Person.DocumentType.NONE, "", Person.NoDocumentReason.MINOR
        if template.documents in ("undocumented", "lost") and role == HouseholdMember.Relationship.HOLDER:
            reason = (Person.NoDocumentReason.UNDOCUMENTED if template.documents == "undocumented"
                      else Person.NoDocumentReason.LOST)
            return Person.DocumentType.NONE, "", reason
        if template.origin == "ES":
            return Person.DocumentType.DNI, self._dni(), ""
        return Person.DocumentType.NIE, self._nie(template.origin), ""

    def _given_name(self, origin: str, sex: str, age: int) -> str:
        if origin == "ES" and age < 25:
            return self.rng.choice(names.CHILD_FEMALE_NAMES if sex == "F" else names.CHILD_MALE_NAMES)
        if origin == "ES":
            return self.rng.choice(names.FEMALE_NAMES if sex == "F" else names.MALE_NAMES)
        female, male, _surnames, _two, _languages = names.FOREIGN_ORIGINS[origin]
        return self.rng.choice(female if sex == "F" else male)

    def _surname(self, origin: str) -> str:
        if origin == "ES":
            return self.rng.choice(names.SURNAMES)
        return self.rng.choice(names.FOREIGN_ORIGINS[origin][2])

    def _surnames(self, origin: str) -> tuple[str, str]:
        two = origin == "ES" or names.FOREIGN_ORIGINS[origin][3]
        first = self._surname(origin)
        second = self._surname(origin) if two else ""
        while two and second == first:
            second = self._surname(origin)
        return first, second

    def _person(self, template: HouseholdTemplate, household: Household, *, relationship: str, sex: str,
                age: int, surnames: tuple[str, str]) -> Person:
        adult = age >= 18
        document_type, number, reason = self._document(template, relationship, adult)
        languages = ["es"] if template.origin == "ES" else list(names.FOREIGN_ORIGINS[template.origin][4])
        data = dict(
            first_name=self._given_name(template.origin, sex, age),
            last_name_1=surnames[0], last_name_2=surnames[1],
            document_type=document_type, document_number=number, no_document_reason=reason,
            birth_date=self.birth_date(age), sex=sex,
            nationality=template.origin,
            address_line=household.address_line,
            postal_code=TERRITORY_BY_KEY[template.territory].postal_code,
            municipality_id=TERRITORY_BY_KEY[template.territory].municipality,
            phone=f"6{self.rng.randint(10_000_000, 99_999_999)}" if adult else "",
            education_level_id=self._education(age),
            languages=languages,
        )
        if adult and self.rng.random() < 0.4:
            local = f"{data['first_name'].split()[0].lower()}.{self.rng.randint(10, 99)}"
            data["email"] = f"{local.translate(str.maketrans('áéíóúñü', 'aeiounu'))}@correo.example"
        # Registered by the territory's social services centre, which thereby attends the person.
        social = self.world.organisation_in(template.territory, SOCIAL)
        return person_register(viewer=self.viewer(social), data=data)

    def _education(self, age: int) -> str | None:
        if age < 6:
            return None
        if age < 12:
            return "0"
        if age < 16:
            return "1"
        return self.rng.choice(["0", "1", "2", "2", "2", "3", "3b", "3b", "5", "6"])

    def _address(self, territory: str) -> str:
        street = self.rng.choice(names.STREETS[territory])
        return f"{street}, {self.rng.randint(1, 60)}, {self.rng.randint(1, 6)}º {self.rng.choice('ABCD')}"

    def _household(self, index: int, template: HouseholdTemplate) -> DemoHousehold:
        income = Decimal(template.income)
        expenses = Decimal(self.rng.randint(250, 750)) if template.tenure != Household.Tenure.NONE else Decimal(60)
        household = Household.objects.create(
            address_line="" if template.tenure == Household.Tenure.NONE else self._address(template.territory),
            municipality_id=TERRITORY_BY_KEY[template.territory].municipality,
            housing_tenure=template.tenure,
            monthly_income=income,
            monthly_expenses=expenses,
            economy_recorded_on=self.days_ago(10, 120),
        )
        if template.left_household is not None:
            since = self.days_ago(150, 700)
        else:
            since = self.days_ago(2000, 5000)
        demo = DemoHousehold(index=index, template=template, household=household, since=since)
        for relationship, sex, age, surnames in self._composition(template):
            person = self._person(template, household, relationship=relationship, sex=sex, age=age,
                                  surnames=surnames)
            demo.members.append(Member(person=person, relationship=relationship, age=age))
        if template.left_household is not None:
            self._move_out(self.households[template.left_household], demo)
        self._join(demo)
        self._deprivation(demo)
        return demo

    def _composition(self, template: HouseholdTemplate) -> list[tuple[str, str, int, tuple[str, str]]]:
        """(relationship, sex, age, surnames) of each member, holder first."""
        rel = HouseholdMember.Relationship
        origin = template.origin
        holder_age = self.rng.randint(*template.adult_ages)
        if template.left_household is not None:
            parents = self.households[template.left_household].adults
            father = next((m.person for m in parents if m.person.sex == "M"), parents[0].person)
            mother = next((m.person for m in parents if m.person.sex == "F"), parents[-1].person)
            return [(rel.HOLDER, self.rng.choice("FM"), holder_age, (father.last_name_1, mother.last_name_1))]
        holder_sex = "F" if template.shape == "single_parent" else self.rng.choice("FM")
        holder_surnames = self._surnames(origin)
        members = [(rel.HOLDER, holder_sex, holder_age, holder_surnames)]
        youngest_parent = holder_age
        if template.shape in ("couple", "couple_children"):
            partner_surnames = self._surnames(origin)
            partner_sex = "M" if holder_sex == "F" else "F"
            partner_age = max(20, holder_age + self.rng.randint(-4, 4))
            youngest_parent = min(holder_age, partner_age)
            members.append((rel.PARTNER, partner_sex, partner_age, partner_surnames))
            father, mother = (holder_surnames, partner_surnames) if holder_sex == "M" else (
                partner_surnames, holder_surnames)
            child_surnames = (father[0], mother[0] if mother[1] else "")
        else:
            child_surnames = (self._surname(origin), holder_surnames[0]) if holder_surnames[1] else holder_surnames
        if template.shape == "with_parent":
            members.append((rel.PARENT, "F", holder_age + self.rng.randint(24, 30),
                            (holder_surnames[1] or self._surname(origin), self._surname(origin))))
        if template.shape == "siblings":
            members.append((rel.SIBLING, self.rng.choice("FM"), holder_age + self.rng.randint(-5, 5),
                            holder_surnames))
        # Children aged 3 to 15, born when their parents were between 20 and 40.
        youngest_child = max(3, youngest_parent - 40)
        oldest_child = max(youngest_child, min(15, youngest_parent - 20))
        for _ in range(template.children):
            members.append((rel.CHILD, self.rng.choice("FM"), self.rng.randint(youngest_child, oldest_child),
                            child_surnames))
        return members

    def _move_out(self, family: DemoHousehold, own: DemoHousehold) -> None:
        """The holder of ``own`` lived in ``family`` until they moved to ``own``."""
        person = own.holder.person
        HouseholdMember.objects.create(
            household=family.household, person=person, relationship=HouseholdMember.Relationship.CHILD,
            start_date=max(family.since, person.birth_date), end_date=own.since,
        )

    def _join(self, demo: DemoHousehold) -> None:
        for member in demo.members:
            if member.is_adult and member.age < 67:
                member.months_worked = self.rng.choice([0, 0, 0, 0, 2, 3, 4, 6, 9, 12])
            row = HouseholdMember(
                household=demo.household, person=member.person, relationship=member.relationship,
                start_date=max(demo.since, member.person.birth_date),
                months_worked_last_year=member.months_worked,
            )
            row.full_clean()
            row.save()

    def _deprivation(self, demo: DemoHousehold) -> None:
        income = demo.template.income
        if income >= 1400:
            return
        count = 2 if income >= 900 else (4 if income >= 500 else 7)
        codes = ["H1", "H2", "H3", "H5", "H7", "P1", "P2", "P4", "P5", "H4", "P3", "P6", "H6"]
        chosen = self.rng.sample(codes[:count + 4], count)
        demo.household.deprivation_items.set(DeprivationItem.objects.filter(code__in=chosen))

    # Caseload ----------------------------------------------------------------------------------

    def _enrol(self, person: Person, organisation: Organisation, start: dt.date, *, origin: str) -> None:
        """Open the enrolment (the registering centre's exists already), back-dated, with its reference."""
        professional = self.world.professional_for(organisation)
        start = max(start, person.birth_date)
        enrolment = enrolment_open(organisation=organisation, person=person, origin=origin, by=professional)
        Enrolment.objects.filter(pk=enrolment.pk).update(start_date=start)
        ReferenceProfessional.objects.update_or_create(
            person=person, organisation=organisation, defaults={"professional": professional, "since": start},
        )
        self.enrolled[(person.pk, organisation.code)] = start

    def _in_employment_caseload(self, demo: DemoHousehold, member: Member) -> bool:
        if not 18 <= member.age <= 64 or member.person.document_type == Person.DocumentType.NONE:
            return False
        if demo.template.documents == "passport" and demo.template.origin == "CO":
            return False  # in an irregular situation: cannot register as a job seeker
        return member.relationship == HouseholdMember.Relationship.HOLDER or self.rng.random() < 0.5

    def _caseload(self) -> None:
        for demo in self.households:
            territory = demo.template.territory
            social = self.world.organisation_in(territory, SOCIAL)
            employment = self.world.organisation_in(territory, EMPLOYMENT)
            ngo = self.world.organisation_in(territory, THIRD_SECTOR)
            social_start = self.days_ago(90, 1500)
            for member in demo.members:
                self._enrol(member.person, social, social_start, origin=Enrolment.Origin.REGISTRATION)
            for member in demo.members:
                if self._in_employment_caseload(demo, member):
                    origin = self.rng.choice([Enrolment.Origin.REGISTRATION, Enrolment.Origin.REFERRAL])
                    self._enrol(member.person, employment, self.days_ago(30, 900), origin=origin)
            if demo.template.ngo:
                for member in demo.adults[:2]:
                    self._enrol(member.person, ngo, self.days_ago(20, 600), origin=Enrolment.Origin.REFERRAL)

    def attends(self, person: Person, organisation: Organisation) -> bool:
        return (person.pk, organisation.code) in self.enrolled

    def since(self, person: Person, organisation: Organisation) -> dt.date:
        return self.enrolled[(person.pk, organisation.code)]

    # Sections ----------------------------------------------------------------------------------

    def _entry(self, model: type[ServiceEntry], person: Person, organisation: Organisation, *,
               restricted: bool = False, **fields) -> ServiceEntry:
        return entry_create(viewer=self.viewer(organisation), model=model, person_id=person.pk,
                            data={"restricted": restricted, **fields})

    def _after(self, start: dt.date) -> dt.date:
        """A day between ``start`` and today."""
        span = max(0, (self.today - start).days)
        return start + dt.timedelta(days=self.rng.randint(0, span))

    def _before_today(self, start: dt.date) -> dt.date:
        """A day between ``start`` and yesterday (``start`` is at least a few days ago)."""
        span = max(0, (self.today - start).days - 1)
        return start + dt.timedelta(days=self.rng.randint(0, span))

    def _social_sections(self) -> None:
        for demo in self.households:
            social = self.world.organisation_in(demo.template.territory, SOCIAL)
            holder = demo.holder.person
            opened = self.since(holder, social)
            self._entry(ExclusionSituation, holder, social, assessed_on=self._after(opened),
                        severity=self._severity(demo.template.income),
                        need_assessment=EXCLUSION_TEXTS[self._severity(demo.template.income)])
            self._family_situation(demo, social)
            self._planned_service(demo, social, opened)
            self._minimum_income(demo, social, opened)
            if demo.index in INFORMAL_WORK:
                activity, hours = INFORMAL_ACTIVITIES[INFORMAL_WORK.index(demo.index)]
                self._entry(InformalWork, holder, social, activity=activity, hours_per_week=hours,
                            notes="Información facilitada por la propia persona en entrevista.")
            for member in demo.adults:
                if member.person.nationality != "ES":
                    self._legal_status(demo, member.person, social)
            self._health(demo, social)
            self._criminal(demo, social)
            employment = self.world.organisation_in(demo.template.territory, EMPLOYMENT)
            if self.attends(holder, employment):
                self._entry(SocialCompetences, holder, social, assessed_on=self._after(opened),
                            pre_work_skills=self.rng.choice(COMPETENCE_TEXTS),
                            can_follow_itinerary=self.rng.random() < 0.75)
                self._entry(MotivationAssessment, holder, social, assessed_on=self._after(opened),
                            motivation_level=self.rng.choice(["low", "medium", "medium", "high"]),
                            emotional_factors=self.rng.choice(EMOTIONAL_TEXTS))

    @staticmethod
    def _severity(income: int) -> str:
        if income == 0:
            return ExclusionSituation.Severity.SEVERE
        if income < 650:
            return ExclusionSituation.Severity.MODERATE
        if income < 1200:
            return ExclusionSituation.Severity.RISK
        return ExclusionSituation.Severity.INTEGRATION

    def _family_situation(self, demo: DemoHousehold, social: Organisation) -> None:
        if demo.index == CASE_GENDER_VIOLENCE:
            self._entry(FamilySituation, demo.holder.person, social, restricted=True,
                        description=GENDER_VIOLENCE_TEXT, caring_responsibilities=True, single_parent=True)
            return
        text = FAMILY_TEXTS.get(demo.template.shape)
        if text:
            self._entry(FamilySituation, demo.holder.person, social, description=text,
                        caring_responsibilities=True, single_parent=demo.template.shape == "single_parent")

    def _planned_service(self, demo: DemoHousehold, social: Organisation, opened: dt.date) -> None:
        if demo.index == CASE_HOMELESS:
            code, text = 3, "Plaza en centro de acogida municipal y acompañamiento para empadronamiento."
        elif demo.index == CASE_DEPENDENT_PARENT:
            code, text = 2, "Servicio de ayuda a domicilio, 10 horas semanales."
        elif demo.minors and demo.template.income < 900:
            code, text = 4, "Programa de apoyo socioeducativo a familias con menores."
        elif demo.template.income < 700:
            code, text = 1, "Información y tramitación de prestaciones económicas."
        else:
            return
        start = self._after(opened)
        self._entry(PlannedService, demo.holder.person, social, basic_service=self.basic_services[code],
                    description=text, start_date=start,
                    end_date=start + dt.timedelta(days=365) if code != 3 else None)

    def _minimum_income(self, demo: DemoHousehold, social: Organisation, opened: dt.date) -> None:
        template = demo.template
        holder = demo.holder.person
        if template.documents == "undocumented":
            self._entry(MinimumIncome, holder, social, scheme=MinimumIncome.Scheme.EMERGENCY,
                        status=MinimumIncome.Status.GRANTED, monthly_amount=Decimal("300.00"),
                        start_date=self._after(opened), end_date=self.today + dt.timedelta(days=60))
            return
        if template.income >= 700 or template.documents == "passport":
            return
        scheme = self.rng.choice([MinimumIncome.Scheme.IMV, MinimumIncome.Scheme.REGIONAL])
        status = self.rng.choice([MinimumIncome.Status.GRANTED, MinimumIncome.Status.GRANTED,
                                  MinimumIncome.Status.APPLIED, MinimumIncome.Status.DENIED])
        amount = Decimal(self.rng.randint(420, 780)) if status == MinimumIncome.Status.GRANTED else None
        self._entry(MinimumIncome, holder, social, scheme=scheme, status=status, monthly_amount=amount,
                    start_date=self._after(opened), end_date=None)

    def _legal_status(self, demo: DemoHousehold, person: Person, social: Organisation) -> None:
        template = demo.template
        notes = ""
        if person.document_type == Person.DocumentType.NONE and template.documents == "undocumented":
            status, until = LegalStatus.Residence.IRREGULAR, None
            notes = "Más de dos años empadronado: se estudia el arraigo social."
        elif template.documents == "passport":
            if template.origin == "VE":
                status, until = LegalStatus.Residence.ASYLUM, self.today + dt.timedelta(days=180)
                notes = "Solicitud de protección internacional en trámite."
            else:
                status, until = LegalStatus.Residence.IRREGULAR, None
        elif template.origin == "RO":
            status, until = LegalStatus.Residence.EU, None
        elif template.origin == "UA":
            status, until = LegalStatus.Residence.ASYLUM, self.today + dt.timedelta(days=400)
            notes = "Protección temporal concedida."
        else:
            status = LegalStatus.Residence.RESIDENCE_WORK
            until = self.today + dt.timedelta(days=self.rng.randint(90, 1400))
            if template.documents == "lost" and person == demo.holder.person:
                notes = "Tarjeta de residencia extraviada; duplicado solicitado."
        self._entry(LegalStatus, person, social, residence_status=status, valid_until=until, notes=notes)

    def _health(self, demo: DemoHousehold, social: Organisation) -> None:
        if demo.index in HEALTH_TEXTS:
            description, degree, grade = HEALTH_TEXTS[demo.index]
            person = (demo.members[1].person if demo.index == CASE_DEPENDENT_PARENT else demo.holder.person)
            self._entry(HealthRecord, person, social, restricted=demo.index == CASE_HOMELESS,
                        description=description, disability_degree=degree, dependency_grade=grade)
        if demo.index == CASE_CHILD_DISABILITY:
            self._entry(HealthRecord, demo.minors[0].person, social,
                        description="Trastorno del espectro autista; escolarizado con apoyos.",
                        disability_degree=33)

    def _criminal(self, demo: DemoHousehold, social: Organisation) -> None:
        if demo.index == CASE_SERVED_SENTENCE:
            self._entry(CriminalRecord, demo.holder.person, social,
                        description="Condena por delito contra la seguridad vial, cumplida.")
        if demo.index == CASE_PROBATION:
            self._entry(CriminalRecord, demo.holder.person, social, restricted=True,
                        description="En libertad condicional; seguimiento por los servicios de gestión de penas.",
                        measure_until=self.today + dt.timedelta(days=240))

    def _employment_sections(self) -> None:
        for demo in self.households:
            employment = self.world.organisation_in(demo.template.territory, EMPLOYMENT)
            for member in demo.adults:
                if self.attends(member.person, employment):
                    self._job_seeker(member, employment)

    def _job_seeker(self, member: Member, employment: Organisation) -> None:
        person = member.person
        registered = self.since(person, employment)
        employed = (member.months_worked or 0) >= 9
        self._entry(JobSeekerRecord, person, employment,
                    status=JobSeekerRecord.Status.EMPLOYED if employed else JobSeekerRecord.Status.UNEMPLOYED,
                    registered_on=registered,
                    unemployed_since=None if employed else registered - dt.timedelta(days=self.rng.randint(0, 700)),
                    occupation_sought=self.rng.choice(self.occupations),
                    driving_licence=self.rng.random() < 0.4)
        last_end = registered - dt.timedelta(days=self.rng.randint(15, 200))
        for _ in range(self.rng.randint(1, 2)):
            start = last_end - dt.timedelta(days=self.rng.randint(60, 700))
            if start <= person.birth_date + dt.timedelta(days=16 * 365):
                break
            self._entry(EmploymentHistoryEntry, person, employment, employer=self.rng.choice(names.COMPANIES),
                        occupation=self.rng.choice(self.occupations), start_date=start, end_date=last_end)
            last_end = start - dt.timedelta(days=self.rng.randint(30, 300))
        level = self.rng.choice(["low", "low", "medium", "medium", "high"])
        self._entry(EmployabilityLevel, person, employment, assessed_on=self._after(registered), level=level,
                    factors=EMPLOYABILITY_FACTORS[level])
        if (member.months_worked or 0) >= 6 and not employed:
            self._entry(UnemploymentBenefit, person, employment, kind=UnemploymentBenefit.Kind.CONTRIBUTORY,
                        monthly_amount=Decimal(self.rng.randint(560, 1225)), start_date=registered,
                        end_date=registered + dt.timedelta(days=30 * (member.months_worked or 6)))
        elif not employed and self.rng.random() < 0.35:
            self._entry(UnemploymentBenefit, person, employment, kind=UnemploymentBenefit.Kind.ASSISTANCE,
                        monthly_amount=Decimal("570.00"), start_date=registered,
                        end_date=registered + dt.timedelta(days=540))
        if self.rng.random() < 0.6:
            start = self._after(registered)
            status = self.rng.choice(list(ActivePolicyItinerary.Status.values))
            self._entry(ActivePolicyItinerary, person, employment, programme=self.rng.choice(PROGRAMMES),
                        start_date=start, status=status,
                        end_date=None if status == ActivePolicyItinerary.Status.ACTIVE
                        else min(self.today, start + dt.timedelta(days=90)))

    def _third_sector_sections(self) -> None:
        for demo in self.households:
            ngo = self.world.organisation_in(demo.template.territory, THIRD_SECTOR)
            for member in demo.adults:
                person = member.person
                if not self.attends(person, ngo):
                    continue
                opened = self.since(person, ngo)
                for kind in self.rng.sample(list(FOLDER_TEXTS), self.rng.randint(1, 2)):
                    self._entry(SocialFolderIntervention, person, ngo, date=self._after(opened), kind=kind,
                                description=FOLDER_TEXTS[kind])
                if person.document_type != Person.DocumentType.NONE and self.rng.random() < 0.6:
                    self._entry(CompanyIntermediation, person, ngo, date=self._after(opened),
                                company=self.rng.choice(names.COMPANIES),
                                position=self.rng.choice(["Ayudante de cocina", "Limpieza", "Reposición",
                                                          "Auxiliar de ayuda a domicilio", "Peón de almacén"]),
                                outcome=self.rng.choice(list(CompanyIntermediation.Outcome.values)))
                if member.relationship == HouseholdMember.Relationship.HOLDER and demo.minors:
                    self._entry(ChildPovertyDetection, person, ngo, detected_on=self._after(opened),
                                minors_affected=len(demo.minors),
                                description="Menores sin material escolar ni actividades de ocio; "
                                            "alimentación insuficiente a final de mes.")

    def _diary(self) -> None:
        for demo in self.households:
            for member in demo.adults:
                for spec in ORGANISATIONS:
                    organisation = self.world.organisations[spec.code]
                    if self.attends(member.person, organisation):
                        self._diary_entries(demo, member.person, organisation)

    def _diary_entries(self, demo: DemoHousehold, person: Person, organisation: Organisation) -> None:
        opened = self.since(person, organisation)
        demand, assessment = DIARY_TEXTS[organisation.kind]
        for _ in range(self.rng.randint(1, 2)):
            kind = self.diary_kinds[self.diary_count % len(self.diary_kinds)]
            self.diary_count += 1
            if kind == DiaryEntry.Kind.APPOINTMENT and self.diary_count % 3 == 0:
                day = self.today + dt.timedelta(days=self.rng.randint(3, 20))
            else:
                day = self._before_today(opened)
            restricted = demo.index == CASE_GENDER_VIOLENCE and kind == DiaryEntry.Kind.HOME_VISIT
            resource = (self.basic_services[self.rng.choice(list(self.basic_services))]
                        if organisation.kind == SOCIAL else None)
            self._entry(DiaryEntry, person, organisation, restricted=restricted, kind=kind,
                        happened_at=self.moment(day), demand=demand, assessment=assessment,
                        resource=resource)

    # Consents, legal bases, objection -----------------------------------------------------------------

    def _consent_fields(self, *, given_on: dt.date, valid_from: dt.date | None = None,
                        valid_until: dt.date | None = None, services: list[str] | None = None,
                        organisations: tuple[Organisation, ...] = (), categories: list[str] | None = None,
                        denied: list[str] | None = None, purposes: list[str] | None = None,
                        **representative: str) -> dict:
        """``consent_record`` arguments; by default the usual consent of the pilots: social services and
        employment may share every category but health, for the itinerary's purposes, for two years."""
        return {
            "given_on": given_on, "valid_from": valid_from or given_on,
            "valid_until": valid_until or given_on + dt.timedelta(days=730),
            "grantee_services": [SOCIAL, EMPLOYMENT] if services is None else services,
            "grantee_organisation_ids": [o.pk for o in organisations],
            "all_categories": categories is None, "permitted_categories": categories or [],
            "denied_categories": ["salud"] if denied is None else denied,
            "purposes": purposes or SHARING_PURPOSES, "privacy_notice_version": PRIVACY_NOTICE_VERSION,
            "grantor": Consent.Grantor.REPRESENTATIVE if representative else Consent.Grantor.PERSON,
            **representative,
        }

    def _consent(self, person: Person, social: Organisation, **fields) -> Consent:
        return consent_record(viewer=self.viewer(social), person=person, **self._consent_fields(**fields))

    def _consents(self) -> None:
        special = {CONSENT_REVOKED, CONSENT_EXPIRED, CONSENT_PENDING, CONSENT_SCOPED, CONSENT_CORRECTED}
        for demo in self.households:
            territory = demo.template.territory
            social = self.world.organisation_in(territory, SOCIAL)
            employment = self.world.organisation_in(territory, EMPLOYMENT)
            ngo = self.world.organisation_in(territory, THIRD_SECTOR)
            holder = demo.holder.person
            attended = self.attends(holder, employment) or self.attends(holder, ngo)
            if demo.index not in special and attended:
                recent = max(self.since(holder, social), self.today - dt.timedelta(days=600))
                self._consent(holder, social, given_on=self._after(recent),
                              purposes=PREVENTION_PURPOSES if demo.index % 2 == 0 else None)
            self._special_consent(demo, social, ngo)

    def _special_consent(self, demo: DemoHousehold, social: Organisation, ngo: Organisation) -> None:
        holder = demo.holder.person
        if demo.index == CONSENT_REVOKED:
            consent = self._consent(holder, social, given_on=self.today - dt.timedelta(days=400))
            consent_revoke(viewer=self.viewer(social), consent=consent, channel=ConsentRevocation.Channel.WRITTEN,
                           reason="La persona no desea que sus datos se comuniquen al servicio de empleo.")
        elif demo.index == CONSENT_EXPIRED:
            given = self.today - dt.timedelta(days=1130)
            self._consent(holder, social, given_on=given, valid_until=self.today - dt.timedelta(days=40))
        elif demo.index == CONSENT_PENDING:
            self._consent(holder, social, given_on=self.today - dt.timedelta(days=3),
                          valid_from=self.today + dt.timedelta(days=14),
                          valid_until=self.today + dt.timedelta(days=14 + 730))
        elif demo.index == CONSENT_SCOPED:
            self._consent(holder, social, given_on=self.days_ago(30, 200), services=[EMPLOYMENT],
                          categories=["ficha_basica", "competencias", "motivacion", "servicios_planificados"],
                          denied=[])
        elif demo.index == CONSENT_CORRECTED:
            given = self.today - dt.timedelta(days=200)
            wrong = self._consent(holder, social, given_on=given, denied=[])
            consent_correct(viewer=self.viewer(social), consent=wrong, **self._consent_fields(
                given_on=given + dt.timedelta(days=6), denied=["salud", "antecedentes_penales"]))
        elif demo.index == CONSENT_FOR_ORGANISATION:
            self._consent(holder, social, given_on=self.days_ago(20, 120), services=[], organisations=(ngo,),
                          categories=["ficha_basica", "unidad_convivencia", "situacion_economica",
                                      "servicios_planificados", "pobreza_infantil"],
                          denied=[], purposes=[Purpose.ASSESSMENT, Purpose.FOLLOW_UP])
        elif demo.index == CONSENT_BY_REPRESENTATIVE:
            minor = max(demo.minors, key=lambda m: m.age).person
            self._consent(minor, social, given_on=self.days_ago(20, 120), services=[SOCIAL], organisations=(ngo,),
                          categories=["ficha_basica", "unidad_convivencia", "carpeta_social", "pobreza_infantil"],
                          denied=[], purposes=[Purpose.ASSESSMENT, Purpose.FOLLOW_UP],
                          representative_name=holder.full_name, representative_relation="Madre",
                          representative_evidence="Libro de familia")

    def _legal_bases(self) -> None:
        toledo = AutonomousCommunity.objects.get(code=TERRITORY_BY_KEY["toledo"].community)
        valladolid = AutonomousCommunity.objects.get(code=TERRITORY_BY_KEY["valladolid"].community)
        LegalBasis.objects.create(
            name="Perceptores de rentas mínimas: servicios sociales → empleo (Castilla-La Mancha)",
            reference="Ley 14/2010, de 16 de diciembre, de Servicios Sociales de Castilla-La Mancha",
            community=toledo, from_service=SOCIAL, to_service=EMPLOYMENT,
            categories=["rentas_minimas", "exclusion_social"],
            purposes=[Purpose.REFERRAL, Purpose.ITINERARY, Purpose.FOLLOW_UP],
            mode=LegalBasis.Mode.BY_LAW, condition=LegalBasis.Condition.MINIMUM_INCOME,
        )
        objectable = LegalBasis.objects.create(
            name="Demanda de empleo e itinerario: empleo → servicios sociales (Castilla-La Mancha)",
            reference="Protocolo de coordinación sociolaboral de la demostración (ejemplo, no es una norma real)",
            community=toledo, from_service=EMPLOYMENT, to_service=SOCIAL,
            categories=["demanda_empleo", "empleabilidad", "itinerario_empleo"],
            purposes=[Purpose.ASSESSMENT, Purpose.FOLLOW_UP, Purpose.CASE_CONFERENCE],
            mode=LegalBasis.Mode.UNLESS_OBJECTION,
        )
        LegalBasis.objects.create(
            name="Historia social única: servicios sociales → empleo (Castilla y León)",
            reference="Ley 16/2010, de 20 de diciembre, de servicios sociales de Castilla y León; "
                      "Orden FAM/510/2019",
            community=valladolid, from_service=SOCIAL, to_service=EMPLOYMENT,
            categories=["ficha_basica", "competencias", "motivacion", "exclusion_social"],
            purposes=[Purpose.REFERRAL, Purpose.ITINERARY],
            mode=LegalBasis.Mode.CONSENT_ONLY,
        )
        demo = self.households[OBJECTION]
        employment = self.world.organisation_in(demo.template.territory, EMPLOYMENT)
        objection_record(
            viewer=self.viewer(employment), person=demo.holder.person, legal_basis=objectable,
            reason="No quiere que su historial de demanda de empleo se comunique a servicios sociales.",
        )


# --- Synthetic persons for benchmarks -------------------------------------------------------------

@dataclass(frozen=True)
class SyntheticResult:
    persons: int
    households: int
    enrolments: int
    section_entries: int
    consents: int
    first_document: str
    last_document: str
    foreign_keys_checked: bool


_TEMP_TABLES = "seed_person, seed_household, seed_org, seed_enrolment"

_NEXT_FREE_DNI = """
SELECT coalesce(max(d.number), %(floor)s - 1) + 1
FROM (
    SELECT CASE WHEN document_number ~ '^[0-9]{8}[A-Z]$' THEN substr(document_number, 1, 8)::bigint END AS number
    FROM cases_person WHERE document_type = 'dni'
) AS d
WHERE d.number >= %(floor)s
"""

# Person i lives in household (2i) / 5: households of three and two members alternate.
_CREATE_SEED_PERSON = """
CREATE TEMP TABLE seed_person AS
SELECT b.*, mod(b.hidx, 2) AS territory,
       b.adult AND mod(b.num, 4) <> 0 AS employment,
       b.adult AND mod(b.num, 7) = 3 AS ngo,
       CASE WHEN b.adult
            THEN %(today)s::date - (365 * (23 + mod(b.num, 42)) + mod(b.num * 13, 360) + 10)::int
            ELSE %(today)s::date - (365 * (1 + mod(b.num, 15)) + mod(b.num * 13, 360) + 10)::int
       END AS birth_date
FROM (
    SELECT s.*, (s.pos = 0 OR (s.pos = 1 AND mod(s.hidx, 3) <> 0)) AS adult
    FROM (
        SELECT g AS i, %(first)s::bigint + g AS num,
               nextval(pg_get_serial_sequence('cases_person', 'id')) AS id,
               (g * 2) / 5 AS hidx, g - (5 * ((g * 2) / 5) + 1) / 2 AS pos
        FROM generate_series(0, %(count)s - 1) AS g
    ) AS s
) AS b
"""

_CREATE_SEED_HOUSEHOLD = """
CREATE TEMP TABLE seed_household AS
SELECT h AS hidx, nextval(pg_get_serial_sequence('cases_household', 'id')) AS id, mod(h, 2) AS territory,
       (CASE mod(h, 2) WHEN 0 THEN (%(streets_0)s::text[])[1 + mod(h * 7, %(streets_0_n)s)]
                       ELSE (%(streets_1)s::text[])[1 + mod(h * 7, %(streets_1_n)s)] END)
       || ', ' || (1 + mod(h, 97)) || ', ' || (1 + mod(h, 7)) || 'º' AS address_line
FROM generate_series(0, %(households)s - 1) AS h
"""

_INSERT_HOUSEHOLDS = """
INSERT INTO cases_household (id, version, address_line, municipality_id, housing_tenure, monthly_income,
                             monthly_expenses, economy_recorded_on, created_at, updated_at)
SELECT h.id, 1, h.address_line, (%(municipalities)s::text[])[h.territory + 1],
       (%(tenures)s::text[])[1 + mod(h.hidx, %(tenures_n)s)],
       (mod(h.hidx * 37, 1600) + 150)::numeric, (mod(h.hidx * 53, 700) + 200)::numeric,
       %(today)s::date - mod(h.hidx, 200)::int, now(), now()
FROM seed_household h
"""

# Names are picked with PostgreSQL's integer hash so that first name and both surnames vary
# independently (a realistic spread of distinct full names for the search benchmark), while
# the members of a household still share the surnames they inherit.
_INSERT_PERSONS = """
INSERT INTO cases_person (id, version, first_name, last_name_1, last_name_2, document_type, document_number,
                          no_document_reason, birth_date, sex, nationality, address_line, postal_code,
                          municipality_id, phone, email, education_level_id, languages, created_at, updated_at)
SELECT p.id, 1,
       CASE WHEN p.adult AND mod(p.num, 2) = 0 THEN (%(female)s::text[])[1 + mod(abs(hashint8(p.num)::bigint), %(female_n)s)]
            WHEN p.adult THEN (%(male)s::text[])[1 + mod(abs(hashint8(p.num)::bigint), %(male_n)s)]
            WHEN mod(p.num, 2) = 0 THEN (%(girls)s::text[])[1 + mod(abs(hashint8(p.num)::bigint), %(girls_n)s)]
            ELSE (%(boys)s::text[])[1 + mod(abs(hashint8(p.num)::bigint), %(boys_n)s)] END,
       (%(surnames)s::text[])[1 + mod(abs(hashint8(CASE WHEN p.pos = 1 AND p.adult THEN p.hidx * 31 + 5
                                                         ELSE p.hidx * 17 END)::bigint), %(surnames_n)s)],
       (%(surnames)s::text[])[1 + mod(abs(hashint8(CASE WHEN p.pos = 0 THEN p.hidx * 29 + 3
                                                         WHEN p.adult THEN p.hidx * 37 + 11
                                                         ELSE p.hidx * 31 + 5 END)::bigint), %(surnames_n)s)],
       'dni', lpad(p.num::text, 8, '0') || substr(%(letters)s, mod(p.num, 23)::int + 1, 1), '',
       p.birth_date, CASE WHEN mod(p.num, 2) = 0 THEN 'F' ELSE 'M' END, 'ES',
       h.address_line, (%(postal_codes)s::text[])[p.territory + 1], (%(municipalities)s::text[])[p.territory + 1],
       CASE WHEN p.adult THEN '6' || lpad(mod(p.num * 7919, 100000000)::text, 8, '0') ELSE '' END, '',
       CASE WHEN p.adult THEN (%(education)s::text[])[1 + mod(p.num, %(education_n)s)] END,
       ARRAY['es']::varchar[], now(), now()
FROM seed_person p JOIN seed_household h ON h.hidx = p.hidx
"""

_INSERT_MEMBERS = """
INSERT INTO cases_householdmember (household_id, person_id, relationship, start_date, end_date,
                                   months_worked_last_year)
SELECT h.id, p.id,
       CASE WHEN p.pos = 0 THEN 'holder' WHEN p.adult THEN 'partner' ELSE 'child' END,
       greatest(p.birth_date, %(today)s::date - (200 + mod(p.hidx * 11, 3000))::int), NULL,
       CASE WHEN p.adult THEN mod(p.num, 13) END
FROM seed_person p JOIN seed_household h ON h.hidx = p.hidx
"""

_INSERT_DEPRIVATION = """
INSERT INTO cases_household_deprivation_items (household_id, deprivationitem_id)
SELECT h.id, item.code
FROM seed_household h CROSS JOIN LATERAL unnest(%(items)s::text[]) WITH ORDINALITY AS item(code, ord)
WHERE mod(h.hidx, 3) = 0 AND item.ord <= 1 + mod(h.hidx, 6)
"""

_CREATE_SEED_ORG = """
CREATE TEMP TABLE seed_org (territory int, kind text, org_id bigint, group_id int, user_id bigint)
"""

_CREATE_SEED_ENROLMENT = """
CREATE TEMP TABLE seed_enrolment AS
SELECT p.id AS person_id, p.num, p.adult, o.kind, o.org_id, o.group_id, o.user_id,
       greatest(p.birth_date, %(today)s::date - (30 + mod(p.num * 7 + o.org_id, 1500))::int) AS start_date
FROM seed_person p JOIN seed_org o ON o.territory = p.territory
WHERE o.kind = 'social' OR (o.kind = 'employment' AND p.employment) OR (o.kind = 'third_sector' AND p.ngo)
"""

_INSERT_ENROLMENTS = """
INSERT INTO sharing_enrolment (organisation_id, person_id, origin, start_date, end_date, created_by_id)
SELECT e.org_id, e.person_id, CASE WHEN e.kind = 'social' THEN 'registration' ELSE 'referral' END,
       e.start_date, NULL, e.user_id
FROM seed_enrolment e
"""

_INSERT_PERMISSIONS = """
INSERT INTO sharing_persongroupobjectpermission (content_object_id, group_id, permission_id)
SELECT e.person_id, e.group_id, %(permission)s FROM seed_enrolment e
"""

_INSERT_REFERENCE_PROFESSIONALS = """
INSERT INTO cases_referenceprofessional (person_id, organisation_id, professional_id, since)
SELECT e.person_id, e.org_id, e.user_id, e.start_date FROM seed_enrolment e
"""

_ENTRY_COLUMNS = "version, person_id, recorded_by_service, recorded_by_org_id, recorded_by_id, restricted, " \
                 "created_at, updated_at"
_ENTRY_VALUES = "1, e.person_id, e.kind, e.org_id, e.user_id, false, now(), now()"

_INSERT_SECTIONS = (
    f"""
    INSERT INTO cases_jobseekerrecord ({_ENTRY_COLUMNS}, status, registered_on, unemployed_since,
                                       occupation_sought_id, driving_licence)
    SELECT {_ENTRY_VALUES}, CASE WHEN mod(e.num, 10) = 0 THEN 'employed' ELSE 'unemployed' END,
           e.start_date, CASE WHEN mod(e.num, 10) = 0 THEN NULL ELSE e.start_date - mod(e.num, 400)::int END,
           (%(occupations)s::text[])[1 + mod(e.num, %(occupations_n)s)], mod(e.num, 3) = 0
    FROM seed_enrolment e WHERE e.kind = 'employment'
    """,
    f"""
    INSERT INTO cases_unemploymentbenefit ({_ENTRY_COLUMNS}, kind, monthly_amount, start_date, end_date)
    SELECT {_ENTRY_VALUES}, CASE WHEN mod(e.num / 3, 2) = 0 THEN 'contributory' ELSE 'assistance' END,
           CASE WHEN mod(e.num / 3, 2) = 0 THEN 560 + mod(e.num, 660) ELSE 570 END,
           e.start_date, e.start_date + 540
    FROM seed_enrolment e WHERE e.kind = 'employment' AND mod(e.num, 3) = 0
    """,
    f"""
    INSERT INTO cases_minimumincome ({_ENTRY_COLUMNS}, scheme, status, monthly_amount, start_date, end_date)
    SELECT {_ENTRY_VALUES}, CASE WHEN mod(e.num / 6, 2) = 0 THEN 'imv' ELSE 'regional' END, 'granted',
           420 + mod(e.num, 360), e.start_date, NULL
    FROM seed_enrolment e WHERE e.kind = 'social' AND e.adult AND mod(e.num, 6) = 1
    """,
    f"""
    INSERT INTO cases_diaryentry ({_ENTRY_COLUMNS}, kind, happened_at, demand, assessment, notes, resource_id)
    SELECT {_ENTRY_VALUES}, (%(diary_kinds)s::text[])[1 + mod(e.num + e.org_id, 4)],
           ((%(today)s::date - (1 + mod(e.num, 300))::int) + time '09:00'
             + make_interval(mins => mod(e.num * 7, 360)::int)) AT TIME ZONE %(timezone)s,
           CASE e.kind WHEN 'social' THEN %(social_demand)s WHEN 'employment' THEN %(employment_demand)s
                       ELSE %(ngo_demand)s END,
           '', '', CASE WHEN e.kind = 'social' THEN (1 + mod(e.num, 4))::smallint END
    FROM seed_enrolment e
    """,
)

_INSERT_CONSENTS = """
INSERT INTO consent_consent (person_id, grantor, representative_name, representative_relation,
                             representative_evidence, given_on, valid_from, valid_until, grantee_services,
                             all_categories, permitted_categories, denied_categories, purposes, legal_basis_refs,
                             privacy_notice_version, document, document_sha256, document_content_type,
                             supersedes_id, recorded_by_id, recorded_by_org_id, recorded_at)
SELECT c.person_id, 'person', '', '', '', c.given_on, c.given_on, c.given_on + 730,
       ARRAY['social', 'employment']::varchar[], true, '{}'::varchar[], ARRAY['salud']::varchar[],
       CASE WHEN mod(c.num, 2) = 0 THEN %(prevention_purposes)s::varchar[] ELSE %(purposes)s::varchar[] END,
       %(legal_basis)s, %(notice)s, '', '', '', NULL, c.user_id, c.org_id,
       (c.given_on + time '11:00') AT TIME ZONE %(timezone)s
FROM (
    SELECT e.num, e.person_id, e.user_id, e.org_id,
           CASE WHEN mod(e.num, 10) = 9 THEN %(today)s::date - (800 + mod(e.num, 300))::int
                ELSE %(today)s::date - mod(e.num, 700)::int END AS given_on
    FROM seed_enrolment e WHERE e.kind = 'social' AND e.adult AND mod(e.num, 5) <> 0
) AS c
"""

_BULK_TABLES = (
    "cases_person", "cases_household", "cases_householdmember", "cases_household_deprivation_items",
    "sharing_enrolment", "sharing_persongroupobjectpermission", "cases_referenceprofessional",
    "cases_jobseekerrecord", "cases_unemploymentbenefit", "cases_minimumincome", "cases_diaryentry",
    "consent_consent",
)

# User triggers that would fire on INSERT into the bulk tables (replica mode would skip them).
_INSERT_TRIGGERS = """
SELECT count(*) FROM pg_trigger
WHERE tgrelid = ANY(%(tables)s::regclass[]) AND NOT tgisinternal AND tgenabled = 'O' AND (tgtype & 4) <> 0
"""


def _synthetic_parameters(*, count: int, first: int, today: dt.date) -> dict:
    streets = [list(names.STREETS[t.key]) for t in TERRITORIES]
    occupations = ["512", "522", "571", "910", "921", "931", "960", "970", "981", "982"]
    education = ["0", "1", "2", "2", "3", "3b", "4", "5", "6"]
    tenures = ["rented", "rented", "owned", "room", "ceded", "insecure"]
    return {
        "count": count, "first": first, "households": (2 * (count - 1)) // 5 + 1, "today": today,
        "timezone": settings.TIME_ZONE, "letters": CONTROL_LETTERS,
        "female": list(names.FEMALE_NAMES), "female_n": len(names.FEMALE_NAMES),
        "male": list(names.MALE_NAMES), "male_n": len(names.MALE_NAMES),
        "girls": list(names.CHILD_FEMALE_NAMES), "girls_n": len(names.CHILD_FEMALE_NAMES),
        "boys": list(names.CHILD_MALE_NAMES), "boys_n": len(names.CHILD_MALE_NAMES),
        "surnames": list(names.SURNAMES), "surnames_n": len(names.SURNAMES),
        "streets_0": streets[0], "streets_0_n": len(streets[0]),
        "streets_1": streets[1], "streets_1_n": len(streets[1]),
        "postal_codes": [t.postal_code for t in TERRITORIES],
        "municipalities": [t.municipality for t in TERRITORIES],
        "education": education, "education_n": len(education),
        "tenures": tenures, "tenures_n": len(tenures),
        "items": ["H1", "H3", "H5", "P1", "H7", "P4"],
        "occupations": occupations, "occupations_n": len(occupations),
        "diary_kinds": [str(k) for k in DiaryEntry.Kind.values],
        "social_demand": DIARY_TEXTS[SOCIAL][0], "employment_demand": DIARY_TEXTS[EMPLOYMENT][0],
        "ngo_demand": DIARY_TEXTS[THIRD_SECTOR][0],
        "purposes": [str(p) for p in SHARING_PURPOSES], "notice": PRIVACY_NOTICE_VERSION,
        "prevention_purposes": [str(p) for p in PREVENTION_PURPOSES],
        "legal_basis": Consent._meta.get_field("legal_basis_refs").default,
        "permission": Permission.objects.get(content_type__app_label="cases", codename="view_person").pk,
    }


def _check_reference_codes(params: dict) -> None:
    """The reference rows the statements point at exist (they are loaded by migrations)."""
    expected = {
        Municipality: set(params["municipalities"]), EducationLevel: set(params["education"]),
        Occupation: set(params["occupations"]), DeprivationItem: set(params["items"]),
        BasicSocialService: {1, 2, 3, 4},
    }
    for model, codes in expected.items():
        if model.objects.filter(pk__in=codes).count() != len(codes):
            raise ValueError(f"Faltan datos de referencia en {model._meta.verbose_name_plural}: ejecute migrate.")


def _seed_organisations(cursor, world: DemoWorld) -> None:
    cursor.execute(_CREATE_SEED_ORG)
    rows = []
    for territory_index, territory in enumerate(TERRITORIES):
        for kind in (SOCIAL, EMPLOYMENT, THIRD_SECTOR):
            organisation = world.organisation_in(territory.key, kind)
            rows.append((territory_index, str(kind), organisation.pk, organisation.group_id,
                         world.professional_for(organisation).pk))
    cursor.executemany("INSERT INTO seed_org VALUES (%s, %s, %s, %s, %s)", rows)


def _may_skip_foreign_key_checks(cursor) -> bool:
    """Whether this session may insert in replica mode, which skips the foreign-key triggers (as
    ``pg_restore --disable-triggers`` does): only a superuser may, and only when no user trigger on
    the bulk tables fires on INSERT, because replica mode would skip it too."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if not cursor.fetchone()[0]:
        return False
    cursor.execute(_INSERT_TRIGGERS, {"tables": list(_BULK_TABLES)})
    return cursor.fetchone()[0] == 0


def _insert_synthetic_rows(cursor, *, params: dict, world: DemoWorld) -> tuple[int, int, int]:
    """Run the set-based inserts; returns (enrolments, section entries, consents)."""
    cursor.execute(f"DROP TABLE IF EXISTS {_TEMP_TABLES}")
    cursor.execute(_CREATE_SEED_PERSON, params)
    cursor.execute(_CREATE_SEED_HOUSEHOLD, params)
    cursor.execute(_INSERT_HOUSEHOLDS, params)
    cursor.execute(_INSERT_PERSONS, params)
    cursor.execute(_INSERT_MEMBERS, params)
    cursor.execute(_INSERT_DEPRIVATION, params)
    _seed_organisations(cursor, world)
    cursor.execute(_CREATE_SEED_ENROLMENT, params)
    cursor.execute(_INSERT_ENROLMENTS, params)
    enrolments = cursor.rowcount
    cursor.execute(_INSERT_PERMISSIONS, params)
    cursor.execute(_INSERT_REFERENCE_PROFESSIONALS, params)
    entries = 0
    for statement in _INSERT_SECTIONS:
        cursor.execute(statement, params)
        entries += cursor.rowcount
    cursor.execute(_INSERT_CONSENTS, params)
    consents = cursor.rowcount
    cursor.execute(f"DROP TABLE {_TEMP_TABLES}")
    return enrolments, entries, consents


@transaction.atomic
def add_synthetic_persons(*, count: int, today: dt.date | None = None) -> SyntheticResult:
    """Add ``count`` synthetic persons (DNIs from 60000000 up, after any earlier run) to the demo
    caseloads, with ``INSERT ... SELECT generate_series`` statements.

    Ids come from the tables' own identity sequences (``nextval``), so nothing needs resetting. Every
    row points at rows inserted by the same statements or at reference and demo rows checked first,
    so when the session may (see ``_may_skip_foreign_key_checks``) the inserts run in replica mode:
    the per-row foreign-key checks are three quarters of the cost. Check, unique and exclusion
    constraints are enforced either way.
    """
    if count < 1:
        raise ValueError("count must be positive")
    ensure_demo_world(today=today)
    world = load_demo_world()
    today = today or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_FREE_DNI, {"floor": SYNTHETIC_FIRST_DNI})
        first = cursor.fetchone()[0]
        if first + count - 1 > SYNTHETIC_LAST_DNI:
            raise ValueError(f"No quedan {count} números de DNI sintéticos libres (el siguiente es {first}).")
        params = _synthetic_parameters(count=count, first=first, today=today)
        _check_reference_codes(params)
        skip_checks = _may_skip_foreign_key_checks(cursor)
        if skip_checks:
            cursor.execute("SET LOCAL session_replication_role = replica")
        enrolments, entries, consents = _insert_synthetic_rows(cursor, params=params, world=world)
        if skip_checks:
            cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute(f"ANALYZE {', '.join(_BULK_TABLES)}")
    last = first + count - 1
    return SyntheticResult(
        persons=count, households=params["households"], enrolments=enrolments, section_entries=entries,
        consents=consents, first_document=f"{first:08d}{control_letter(first)}",
        last_document=f"{last:08d}{control_letter(last)}", foreign_keys_checked=not skip_checks,
    )
