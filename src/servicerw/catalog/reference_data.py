"""Reference data loaded by the catalog data migration: the category tree and district centres.

Places come from the `rwalocation` package (official codes, MIT licence). It has no coordinates, so the
approximate centre of each of the 30 districts is listed here; sectors and cells inherit their district's.
"""

# (slug, icon, en, rw, fr, [(slug, en, rw, fr), ...])
CATEGORIES: list[tuple[str, str, str, str, str, list[tuple[str, str, str, str]]]] = [
    (
        "home-repairs",
        "🔧",
        "Home repairs",
        "Gusana inzu",
        "Réparations à domicile",
        [
            ("plumbers", "Plumbers", "Abafundi b'amazi", "Plombiers"),
            ("electricians", "Electricians", "Abatekinisiye b'amashanyarazi", "Électriciens"),
            ("carpenters", "Carpenters", "Ababaji", "Menuisiers"),
            ("masons", "Masons and builders", "Abubatsi", "Maçons"),
            ("painters", "Painters", "Abasiga amarangi", "Peintres"),
            ("welders", "Welders", "Abasudira", "Soudeurs"),
        ],
    ),
    (
        "beauty",
        "💇",
        "Beauty and wellness",
        "Ubwiza n'isuku",
        "Beauté et bien-être",
        [
            ("hair-salons", "Hair salons", "Inzu zitunganya imisatsi", "Salons de coiffure"),
            ("barbers", "Barbers", "Abogosha", "Barbiers"),
            ("nail-salons", "Nail salons", "Abatunganya inzara", "Onglerie"),
            ("massage-spa", "Massage and spa", "Massage na spa", "Massage et spa"),
            ("cosmetics", "Cosmetics shops", "Amaduka y'amavuta y'ubwiza", "Boutiques de cosmétiques"),
        ],
    ),
    (
        "automotive",
        "🚗",
        "Cars and motorbikes",
        "Imodoka na moto",
        "Autos et motos",
        [
            ("mechanics", "Mechanics", "Abakanishi", "Mécaniciens"),
            ("car-wash", "Car wash", "Koza imodoka", "Lavage auto"),
            ("tyres", "Tyres and wheels", "Amapine", "Pneus"),
            ("moto-repair", "Motorbike repair", "Gusana moto", "Réparation de motos"),
            ("driving-schools", "Driving schools", "Amashuri yigisha gutwara", "Auto-écoles"),
        ],
    ),
    (
        "fashion",
        "🧵",
        "Fashion and tailoring",
        "Imideri n'ubudozi",
        "Mode et couture",
        [
            ("tailors", "Tailors", "Abadozi", "Tailleurs"),
            ("shoe-repair", "Shoe repair", "Abakanika inkweto", "Cordonniers"),
            ("laundry", "Laundry and dry cleaning", "Kumesa imyenda", "Blanchisserie et pressing"),
            ("boutiques", "Clothing boutiques", "Amaduka y'imyenda", "Boutiques de vêtements"),
        ],
    ),
    (
        "food",
        "🍲",
        "Food and catering",
        "Ibiryo n'ibirori",
        "Restauration et traiteur",
        [
            ("caterers", "Caterers", "Abategura amafunguro", "Traiteurs"),
            ("restaurants", "Restaurants", "Resitora", "Restaurants"),
            ("bakeries", "Bakeries", "Imigati", "Boulangeries"),
            ("butchers", "Butchers", "Ababazi", "Boucheries"),
        ],
    ),
    (
        "events",
        "🎉",
        "Events",
        "Ibirori",
        "Événements",
        [
            ("event-decor", "Event decoration", "Gutaka ibirori", "Décoration d'événements"),
            ("photographers", "Photographers", "Abafotozi", "Photographes"),
            ("sound-dj", "Sound and DJ", "Indangururamajwi na DJ", "Sonorisation et DJ"),
            (
                "tent-chair-hire",
                "Tents and chairs hire",
                "Gukodesha amahema n'intebe",
                "Location de tentes et chaises",
            ),
        ],
    ),
    (
        "tech",
        "📱",
        "Phones and computers",
        "Telefone na mudasobwa",
        "Téléphones et ordinateurs",
        [
            ("phone-repair", "Phone repair", "Gukora telefone", "Réparation de téléphones"),
            ("computer-repair", "Computer repair", "Gukora mudasobwa", "Réparation d'ordinateurs"),
            ("printing", "Printing and photocopy", "Gucapa no gufotora impapuro", "Impression et photocopie"),
            ("cyber-cafe", "Internet cafés", "Cyber café", "Cybercafés"),
        ],
    ),
    (
        "health",
        "🩺",
        "Health",
        "Ubuzima",
        "Santé",
        [
            ("pharmacies", "Pharmacies", "Farumasi", "Pharmacies"),
            ("clinics", "Clinics", "Amavuriro", "Cliniques"),
            ("dentists", "Dentists", "Abaganga b'amenyo", "Dentistes"),
            ("opticians", "Opticians", "Abakora amadarubindi", "Opticiens"),
        ],
    ),
    (
        "education",
        "📚",
        "Lessons and training",
        "Amasomo n'amahugurwa",
        "Cours et formations",
        [
            ("tutors", "Private tutors", "Abarimu bigisha mu rugo", "Professeurs particuliers"),
            ("language-schools", "Language schools", "Amashuri y'indimi", "Écoles de langues"),
            ("vocational-training", "Vocational training", "Imyuga", "Formation professionnelle"),
        ],
    ),
    (
        "professional",
        "💼",
        "Professional services",
        "Serivisi z'umwuga",
        "Services professionnels",
        [
            ("accountants", "Accountants", "Abacungamari", "Comptables"),
            ("lawyers", "Lawyers and notaries", "Abavoka na noteri", "Avocats et notaires"),
            ("cleaning", "Cleaning services", "Serivisi z'isuku", "Services de nettoyage"),
            ("movers", "Movers and transport", "Kwimura ibintu no gutwara", "Déménagement et transport"),
            ("security", "Security guards", "Abashinzwe umutekano", "Agents de sécurité"),
        ],
    ),
]

# Official names in rwalocation are upper-case English; these are the names shown to people.
PROVINCE_NAMES = {
    1: "Kigali City",
    2: "Southern Province",
    3: "Western Province",
    4: "Northern Province",
    5: "Eastern Province",
}

# Approximate district centres (latitude, longitude), keyed by official district code.
DISTRICT_CENTRES: dict[int, tuple[float, float]] = {
    101: (-1.9557, 30.0480),  # Nyarugenge
    102: (-1.8850, 30.1280),  # Gasabo
    103: (-1.9850, 30.1080),  # Kicukiro
    201: (-2.3520, 29.7510),  # Nyanza
    202: (-2.6020, 29.8350),  # Gisagara
    203: (-2.7120, 29.5360),  # Nyaruguru
    204: (-2.5960, 29.7390),  # Huye
    205: (-2.4830, 29.4870),  # Nyamagabe
    206: (-2.2210, 29.7790),  # Ruhango
    207: (-2.0830, 29.7560),  # Muhanga
    208: (-2.0110, 29.8990),  # Kamonyi
    301: (-2.0800, 29.3500),  # Karongi
    302: (-1.9320, 29.3310),  # Rutsiro
    303: (-1.6830, 29.3350),  # Rubavu
    304: (-1.6520, 29.5060),  # Nyabihu
    305: (-1.8630, 29.6240),  # Ngororero
    306: (-2.4840, 28.9090),  # Rusizi
    307: (-2.3310, 29.0890),  # Nyamasheke
    401: (-1.7210, 29.9900),  # Rulindo
    402: (-1.6990, 29.7810),  # Gakenke
    403: (-1.4990, 29.6340),  # Musanze
    404: (-1.4720, 29.8310),  # Burera
    405: (-1.5790, 30.0670),  # Gicumbi
    501: (-1.9490, 30.4350),  # Rwamagana
    502: (-1.2980, 30.3270),  # Nyagatare
    503: (-1.5810, 30.4530),  # Gatsibo
    504: (-1.8950, 30.5080),  # Kayonza
    505: (-2.2610, 30.6520),  # Kirehe
    506: (-2.1570, 30.4730),  # Ngoma
    507: (-2.2200, 30.1720),  # Bugesera
}
