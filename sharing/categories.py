"""The category registry of the data catalogue.

Consents, the visibility matrix, legal bases and the disclosure log all speak in
these codes. Each category has an owner service (the one that records it by
default), a sensitivity under the GDPR and an operational definition in Spanish,
so that social services, employment services and NGOs share one vocabulary.
The registry is synced to the ``sharing.DataCategory`` table by migrations and by
``manage.py sync_catalogue``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, gettext_noop

SOCIAL = "social"
EMPLOYMENT = "employment"
THIRD_SECTOR = "third_sector"
COMMON = "common"

ORDINARY = "ordinary"
SPECIAL = "special"  # GDPR art. 9
CRIMINAL = "criminal"  # GDPR art. 10


@dataclass(frozen=True)
class Category:
    """``source_label`` and ``source_definition`` are the Spanish texts (the catalogue's msgids,
    stored as such in ``DataCategory``); ``label`` and ``definition`` are in the active language."""

    code: str
    source_label: str
    owner_service: str
    sensitivity: str
    source_definition: str

    @property
    def label(self) -> str:
        return gettext(self.source_label)

    @property
    def definition(self) -> str:
        return gettext(self.source_definition)

    @property
    def lazy_label(self) -> Promise:
        """For what is built at import time (model and form choices)."""
        return gettext_lazy(self.source_label)


CATEGORIES: tuple[Category, ...] = (
    Category(
        "ficha_basica", gettext_noop("Ficha básica"), COMMON, ORDINARY,
        gettext_noop(
            "Identificación, contacto, domicilio, nivel de formación, idiomas y profesionales de "
            "referencia. Núcleo común que ve todo servicio que atiende a la persona."
        ),
    ),
    Category(
        "unidad_convivencia", gettext_noop("Unidad de convivencia"), SOCIAL, ORDINARY,
        gettext_noop(
            "Personas que conviven en el domicilio, parentesco, fechas de convivencia y menores a cargo."
        ),
    ),
    Category(
        "situacion_economica", gettext_noop("Situación económica del hogar"), SOCIAL, ORDINARY,
        gettext_noop(
            "Ingresos y gastos mensuales del hogar, privación material y social (13 ítems de la UE) "
            "y meses trabajados en el último año por sus miembros."
        ),
    ),
    Category(
        "competencias", gettext_noop("Competencias y habilidades prelaborales"), SOCIAL, ORDINARY,
        gettext_noop(
            "Competencias personales y prelaborales observadas y capacidad para seguir un itinerario."
        ),
    ),
    Category(
        "motivacion", gettext_noop("Factores emocionales y motivacionales"), SOCIAL, ORDINARY,
        gettext_noop(
            "Motivación hacia la inserción y factores emocionales que la favorecen o dificultan."
        ),
    ),
    Category(
        "servicios_planificados", gettext_noop("Servicios y prestaciones sociales planificados"), SOCIAL, ORDINARY,
        gettext_noop(
            "Prestaciones básicas de servicios sociales previstas o en curso, para evitar solapamientos."
        ),
    ),
    Category(
        "rentas_minimas", gettext_noop("Rentas mínimas y prestaciones no estatales"), SOCIAL, ORDINARY,
        gettext_noop(
            "Renta mínima autonómica, ingreso mínimo vital y ayudas de emergencia: solicitud, estado e importe."
        ),
    ),
    Category(
        "situacion_familiar", gettext_noop("Situación personal y familiar"), SOCIAL, ORDINARY,
        gettext_noop(
            "Circunstancias personales y familiares relevantes para la intervención (cargas familiares, "
            "conflictos, violencia). Información de protección alta."
        ),
    ),
    Category(
        "exclusion_social", gettext_noop("Situación de exclusión social"), SOCIAL, ORDINARY,
        gettext_noop(
            "Valoración de la situación de exclusión y de la necesidad social por ámbitos."
        ),
    ),
    Category(
        "trabajo_informal", gettext_noop("Trabajo informal"), SOCIAL, ORDINARY,
        gettext_noop(
            "Actividad laboral no declarada conocida por el servicio."
        ),
    ),
    Category(
        "situacion_juridica", gettext_noop("Situación jurídica y documental"), SOCIAL, ORDINARY,
        gettext_noop(
            "Situación administrativa de residencia y trabajo de la persona extranjera y su vigencia."
        ),
    ),
    Category(
        "salud", gettext_noop("Salud y discapacidad"), SOCIAL, SPECIAL,
        gettext_noop(
            "Estado de salud, discapacidad reconocida y grado de dependencia (categoría especial, art. 9 RGPD)."
        ),
    ),
    Category(
        "antecedentes_penales", gettext_noop("Antecedentes penales"), SOCIAL, CRIMINAL,
        gettext_noop(
            "Condenas e infracciones penales y medidas judiciales (art. 10 RGPD)."
        ),
    ),
    Category(
        "demanda_empleo", gettext_noop("Demanda de empleo e historial laboral"), EMPLOYMENT, ORDINARY,
        gettext_noop(
            "Inscripción como demandante, situación, antigüedad en el desempleo, ocupación buscada e "
            "historial de empleos."
        ),
    ),
    Category(
        "prestaciones_estatales", gettext_noop("Prestaciones y subsidios por desempleo"), EMPLOYMENT, ORDINARY,
        gettext_noop(
            "Prestación contributiva, subsidio, RAI y otras prestaciones estatales (SEPE/INSS). El detalle no "
            "se comparte con otros sistemas: solo si se percibe."
        ),
    ),
    Category(
        "empleabilidad", gettext_noop("Diagnóstico de empleabilidad"), EMPLOYMENT, ORDINARY,
        gettext_noop(
            "Nivel de empleabilidad (bajo, medio, alto) y los factores que lo explican."
        ),
    ),
    Category(
        "itinerario_empleo", gettext_noop("Itinerario de políticas activas de empleo"), EMPLOYMENT, ORDINARY,
        gettext_noop(
            "Programas y acciones de políticas activas de empleo (orientación, formación, PREPARA…)."
        ),
    ),
    Category(
        "carpeta_social", gettext_noop("Carpeta social: intervenciones del Tercer Sector"), THIRD_SECTOR, ORDINARY,
        gettext_noop(
            "Intervenciones, acompañamientos y servicios de apoyo prestados por entidades sociales."
        ),
    ),
    Category(
        "intermediacion", gettext_noop("Intermediación con empresas"), THIRD_SECTOR, ORDINARY,
        gettext_noop(
            "Contactos con empresas, candidaturas y colocaciones gestionadas por la entidad."
        ),
    ),
    Category(
        "pobreza_infantil", gettext_noop("Detección de pobreza infantil"), THIRD_SECTOR, ORDINARY,
        gettext_noop(
            "Situaciones de pobreza infantil detectadas en el hogar y menores afectados."
        ),
    ),
    Category(
        "atenciones", gettext_noop("Diario de atenciones e intervenciones"), COMMON, ORDINARY,
        gettext_noop(
            "Citas, entrevistas, visitas a domicilio y llamadas: demanda, valoración y recurso aplicado. "
            "Cada anotación pertenece al servicio que la registra."
        ),
    ),
)

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
CODES: tuple[str, ...] = tuple(c.code for c in CATEGORIES)


def label_of(code: str) -> str:
    """The category's name in the active language (the code itself if unknown)."""
    category = BY_CODE.get(code)
    return category.label if category is not None else code
