"""Invented but believable names and places for the demo world (``cases.demo``).

Given names and surnames are among the most frequent in Spain; foreign names are
common ones of the largest foreign-born communities. Streets are ordinary street
names of the two demo neighbourhoods; house numbers are invented.
"""

from __future__ import annotations

FEMALE_NAMES: tuple[str, ...] = (
    "María", "Carmen", "Ana", "Isabel", "Laura", "Cristina", "Marta", "Pilar", "Raquel", "Rosa",
    "Elena", "Silvia", "Beatriz", "Patricia", "Nuria", "Mercedes", "Susana", "Yolanda", "Sonia", "Montserrat",
)

MALE_NAMES: tuple[str, ...] = (
    "Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel", "Carlos", "Jesús",
    "Miguel", "Rafael", "Pablo", "Sergio", "Fernando", "Jorge", "Alberto", "Luis", "Ángel", "Ramón",
)

# Names given to children born in the last twenty-five years.
CHILD_FEMALE_NAMES: tuple[str, ...] = (
    "Lucía", "Sofía", "Martina", "Julia", "Paula", "Daniela", "Valeria", "Alba", "Noa", "Carla",
    "Claudia", "Irene", "Sara", "Inés", "Lola",
)

CHILD_MALE_NAMES: tuple[str, ...] = (
    "Hugo", "Mateo", "Martín", "Leo", "Lucas", "Alejandro", "Izan", "Adrián", "Diego", "Iker",
    "Álvaro", "Marco", "Pablo", "Daniel", "Manuel",
)

SURNAMES: tuple[str, ...] = (
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
    "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso",
    "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano",
    "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado", "Castro", "Ortiz", "Rubio", "Marín",
    "Sanz", "Núñez", "Iglesias", "Medina", "Garrido", "Cortés", "Castillo", "Santos", "Lozano", "Guerrero",
)

# Foreign communities: (female names, male names, surnames, two surnames?, languages).
FOREIGN_ORIGINS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], bool, list[str]]] = {
    "MA": (
        ("Fátima", "Khadija", "Salma", "Naima", "Amina", "Hanane", "Yasmina"),
        ("Mohamed", "Youssef", "Hamza", "Rachid", "Karim", "Adam", "Ilyas"),
        ("El Amrani", "Benali", "El Idrissi", "Ouali", "Bouzid", "Tahiri"),
        False, ["ar", "es"],
    ),
    "RO": (
        ("Elena", "Ioana", "Andreea", "Mihaela", "Gabriela"),
        ("Ion", "Constantin", "Mihai", "Andrei", "Florin"),
        ("Popescu", "Ionescu", "Dumitru", "Stan", "Munteanu"),
        False, ["ro", "es"],
    ),
    "CO": (
        ("Luz Marina", "Yuliana", "Angélica", "Maryuri", "Valentina"),
        ("Jhon Jairo", "Andrés Felipe", "Wilson", "Brayan", "Santiago"),
        ("Cardona", "Restrepo", "Valencia", "Ospina", "Giraldo", "Zapata"),
        True, ["es"],
    ),
    "VE": (
        ("Yusmary", "Oriana", "Daniela", "Marbelis", "Victoria"),
        ("Yorman", "Luis Alfredo", "Jesús Rafael", "Samuel", "Gabriel"),
        ("Rondón", "Briceño", "Villalobos", "Urdaneta", "Pacheco"),
        True, ["es"],
    ),
    "UA": (
        ("Olena", "Iryna", "Natalia", "Oksana", "Sofiia"),
        ("Oleksandr", "Andrii", "Dmytro", "Mykola", "Maksym"),
        ("Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Melnyk"),
        False, ["uk", "ru"],
    ),
    "SN": (
        ("Awa", "Fatou", "Mariama", "Aissatou"),
        ("Mamadou", "Ousmane", "Cheikh", "Abdoulaye", "Moussa"),
        ("Diop", "Ndiaye", "Fall", "Sow", "Diallo"),
        False, ["wo", "fr"],
    ),
    "PE": (
        ("Rosa Elvira", "Milagros", "Yessenia", "Karina"),
        ("Wilmer", "Percy", "Edwin", "Christian"),
        ("Quispe", "Mamani", "Huamán", "Flores", "Chávez"),
        True, ["es", "qu"],
    ),
}

STREETS: dict[str, tuple[str, ...]] = {
    "toledo": (
        "Calle Río Alberche", "Calle Río Bullaque", "Avenida Boladiez", "Calle Río Guadarrama",
        "Calle Valdemarías", "Calle Río Estenilla", "Calle Fresnedoso", "Calle Río Ventalomar",
    ),
    "valladolid": (
        "Calle Cigüeña", "Calle Embajadores", "Paseo Juan Carlos I", "Calle Hornija",
        "Calle Caamaño", "Calle Delicias", "Calle Arca Real", "Calle Cerrada",
    ),
}

COMPANIES: tuple[str, ...] = (
    "Limpiezas Tajo S.L.", "Hostelería Castellana S.A.", "Logística Meseta S.L.", "Supermercados Alameda",
    "Residencia Virgen del Valle", "Construcciones Pisuerga S.L.", "Automoción Duero Componentes",
    "Cocinas Colectivas del Centro", "Viveros La Vega", "Servicios Auxiliares Carpetania S.L.",
)
