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

SOCIAL = "social"
EMPLOYMENT = "employment"
THIRD_SECTOR = "third_sector"
COMMON = "common"

ORDINARY = "ordinary"
SPECIAL = "special"  # GDPR art. 9
CRIMINAL = "criminal"  # GDPR art. 10


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    owner_service: str
    sensitivity: str
    definition: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "ficha_basica", "Ficha básica", COMMON, ORDINARY,
        "Identificación, contacto, domicilio, nivel de formación, idiomas y profesionales de "
        "referencia. Núcleo común que ve todo servicio que atiende a la persona.",
    ),
    Category(
        "unidad_convivencia", "Unidad de convivencia", SOCIAL, ORDINARY,
        "Personas que conviven en el domicilio, parentesco, fechas de convivencia y menores a cargo.",
    ),
    Category(
        "situacion_economica", "Situación económica del hogar", SOCIAL, ORDINARY,
        "Ingresos y gastos mensuales del hogar, privación material y social (13 ítems de la UE) "
        "y meses trabajados en el último año por sus miembros.",
    ),
    Category(
        "competencias", "Competencias y habilidades prelaborales", SOCIAL, ORDINARY,
        "Competencias personales y prelaborales observadas y capacidad para seguir un itinerario.",
    ),
    Category(
        "motivacion", "Factores emocionales y motivacionales", SOCIAL, ORDINARY,
        "Motivación hacia la inserción y factores emocionales que la favorecen o dificultan.",
    ),
    Category(
        "servicios_planificados", "Servicios y prestaciones sociales planificados", SOCIAL, ORDINARY,
        "Prestaciones básicas de servicios sociales previstas o en curso, para evitar solapamientos.",
    ),
    Category(
        "rentas_minimas", "Rentas mínimas y prestaciones no estatales", SOCIAL, ORDINARY,
        "Renta mínima autonómica, ingreso mínimo vital y ayudas de emergencia: solicitud, estado e importe.",
    ),
    Category(
        "situacion_familiar", "Situación personal y familiar", SOCIAL, ORDINARY,
        "Circunstancias personales y familiares relevantes para la intervención (cargas familiares, "
        "conflictos, violencia). Información de protección alta.",
    ),
    Category(
        "exclusion_social", "Situación de exclusión social", SOCIAL, ORDINARY,
        "Valoración de la situación de exclusión y de la necesidad social por ámbitos.",
    ),
    Category(
        "trabajo_informal", "Trabajo informal", SOCIAL, ORDINARY,
        "Actividad laboral no declarada conocida por el servicio.",
    ),
    Category(
        "situacion_juridica", "Situación jurídica y documental", SOCIAL, ORDINARY,
        "Situación administrativa de residencia y trabajo de la persona extranjera y su vigencia.",
    ),
    Category(
        "salud", "Salud y discapacidad", SOCIAL, SPECIAL,
        "Estado de salud, discapacidad reconocida y grado de dependencia (categoría especial, art. 9 RGPD).",
    ),
    Category(
        "antecedentes_penales", "Antecedentes penales", SOCIAL, CRIMINAL,
        "Condenas e infracciones penales y medidas judiciales (art. 10 RGPD).",
    ),
    Category(
        "demanda_empleo", "Demanda de empleo e historial laboral", EMPLOYMENT, ORDINARY,
        "Inscripción como demandante, situación, antigüedad en el desempleo, ocupación buscada e "
        "historial de empleos.",
    ),
    Category(
        "prestaciones_estatales", "Prestaciones y subsidios por desempleo", EMPLOYMENT, ORDINARY,
        "Prestación contributiva, subsidio, RAI y otras prestaciones estatales (SEPE/INSS). El detalle no "
        "se comparte con otros sistemas: solo si se percibe.",
    ),
    Category(
        "empleabilidad", "Diagnóstico de empleabilidad", EMPLOYMENT, ORDINARY,
        "Nivel de empleabilidad (bajo, medio, alto) y los factores que lo explican.",
    ),
    Category(
        "itinerario_empleo", "Itinerario de políticas activas de empleo", EMPLOYMENT, ORDINARY,
        "Programas y acciones de políticas activas de empleo (orientación, formación, PREPARA…).",
    ),
    Category(
        "carpeta_social", "Carpeta social: intervenciones del Tercer Sector", THIRD_SECTOR, ORDINARY,
        "Intervenciones, acompañamientos y servicios de apoyo prestados por entidades sociales.",
    ),
    Category(
        "intermediacion", "Intermediación con empresas", THIRD_SECTOR, ORDINARY,
        "Contactos con empresas, candidaturas y colocaciones gestionadas por la entidad.",
    ),
    Category(
        "pobreza_infantil", "Detección de pobreza infantil", THIRD_SECTOR, ORDINARY,
        "Situaciones de pobreza infantil detectadas en el hogar y menores afectados.",
    ),
    Category(
        "atenciones", "Diario de atenciones e intervenciones", COMMON, ORDINARY,
        "Citas, entrevistas, visitas a domicilio y llamadas: demanda, valoración y recurso aplicado. "
        "Cada anotación pertenece al servicio que la registra.",
    ),
)

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
CODES: tuple[str, ...] = tuple(c.code for c in CATEGORIES)
