"""Reference data loaded by the catalog data migrations: the category tree, the words people type for each
category, province names in three languages and district centres.

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

# Official names in rwalocation are upper-case English; these are the names shown to people, per language
# (districts, sectors and cells are proper names, the same in every language).
PROVINCE_NAMES: dict[int, dict[str, str]] = {
    1: {"en": "Kigali City", "rw": "Umujyi wa Kigali", "fr": "Ville de Kigali"},
    2: {"en": "Southern Province", "rw": "Intara y'Amajyepfo", "fr": "Province du Sud"},
    3: {"en": "Western Province", "rw": "Intara y'Iburengerazuba", "fr": "Province de l'Ouest"},
    4: {"en": "Northern Province", "rw": "Intara y'Amajyaruguru", "fr": "Province du Nord"},
    5: {"en": "Eastern Province", "rw": "Intara y'Iburasirazuba", "fr": "Province de l'Est"},
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

# Words people in Rwanda type for each category (slug): Kinyarwanda, English and French, with the loanwords
# and common misspellings seen in searches. Loaded into `category_synonyms` (`loader.sync_synonyms`); a
# searched phrase equal to one of them also searches the category's name (`SearchService._match`).
# Words under 3 letters are not searched ("dj", "it"), so every phrase has a longer word.
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "home-repairs": {
        "rw": ["gusana", "umufundi", "abafundi"],
        "en": ["handyman", "repairs", "maintenance"],
        "fr": ["dépannage", "bricolage"],
    },
    "plumbers": {
        "rw": ["umufundi w'amazi", "gusana amazi", "robine", "amatiyo"],
        "en": ["plumber", "plumbing", "water pipes"],
        "fr": ["plombier", "plomberie"],
    },
    "electricians": {
        "rw": ["amashanyarazi", "umuriro", "tekinisiye", "elegitirike"],
        "en": ["electrician", "electrical", "wiring"],
        "fr": ["électricien", "electrisien", "électricité"],
    },
    "carpenters": {
        "rw": ["umubaji", "ububaji", "menuiserie"],
        "en": ["carpenter", "carpentry", "furniture"],
        "fr": ["menuisier", "ébéniste"],
    },
    "masons": {
        "rw": ["umwubatsi", "kubaka", "ubwubatsi"],
        "en": ["builder", "construction", "mason", "bricklayer"],
        "fr": ["maçon", "maçonnerie"],
    },
    "painters": {
        "rw": ["gusiga amarangi", "irangi", "amarangi", "gusiga irangi"],
        "en": ["painter", "painting"],
        "fr": ["peintre", "peinture"],
    },
    "welders": {
        "rw": ["gusudira", "umusudira", "soudire"],
        "en": ["welder", "welding", "metal gates"],
        "fr": ["soudeur", "soudure"],
    },
    "beauty": {
        "rw": ["ubwiza", "kwisiga", "kwitunganya"],
        "en": ["beauty", "wellness"],
        "fr": ["beauté", "esthétique"],
    },
    "hair-salons": {
        "rw": ["saloni", "gutunganya imisatsi", "imisatsi", "kuboha imisatsi"],
        "en": ["salon", "hairdresser", "hair", "braids"],
        "fr": ["coiffure", "coiffeuse", "tresses"],
    },
    "barbers": {
        "rw": ["kogosha", "umwogoshi", "kwiyogoshesha", "kogoshesha"],
        "en": ["barber", "barbershop", "haircut"],
        "fr": ["barbier", "coiffeur homme"],
    },
    "nail-salons": {
        "rw": ["inzara", "gutunganya inzara", "gusiga inzara"],
        "en": ["nails", "manicure", "pedicure"],
        "fr": ["manucure", "ongles"],
    },
    "massage-spa": {
        "rw": ["masaje", "kunanura imitsi"],
        "en": ["massage", "spa", "sauna"],
        "fr": ["hammam", "soins du corps"],
    },
    "cosmetics": {
        "rw": ["amavuta yo kwisiga", "amavuta", "kosimetike"],
        "en": ["cosmetics", "makeup", "lotion"],
        "fr": ["cosmétiques", "maquillage", "parfumerie"],
    },
    "automotive": {
        "rw": ["imodoka", "ibinyabiziga"],
        "en": ["car", "cars", "vehicle"],
        "fr": ["voiture", "véhicule"],
    },
    "mechanics": {
        "rw": ["umukanishi", "garaje", "gukanika", "mekanike"],
        "en": ["mechanic", "garage", "car repair", "mekanik"],
        "fr": ["mécanicien", "mécanique", "garagiste"],
    },
    "car-wash": {
        "rw": ["koza imodoka", "kwoza imodoka", "kozesha imodoka"],
        "en": ["car wash", "carwash", "washing bay"],
        "fr": ["lavage voiture", "lavage auto"],
    },
    "tyres": {
        "rw": ["ipine", "amapine", "gupompa"],
        "en": ["tire", "tires", "tyre", "wheel alignment"],
        "fr": ["pneu", "vulcanisateur", "vulcanisation"],
    },
    "moto-repair": {
        "rw": ["gukora moto", "umukanishi wa moto", "pikipiki", "moto"],
        "en": ["motorcycle", "motorbike", "motorcycle repair"],
        "fr": ["réparation moto", "mécanicien moto"],
    },
    "driving-schools": {
        "rw": ["kwiga gutwara", "gutwara imodoka", "perimi", "uruhushya rwo gutwara"],
        "en": ["driving school", "driving lessons", "driving licence", "driving license"],
        "fr": ["auto-école", "auto ecole", "permis de conduire"],
    },
    "tailors": {
        "rw": ["umudozi", "kudoda", "ubudozi", "kudodesha"],
        "en": ["tailor", "dressmaker", "sewing", "seamstress"],
        "fr": ["couturier", "couturière", "couture", "tailleur"],
    },
    "shoe-repair": {
        "rw": ["inkweto", "gukanika inkweto", "kudoda inkweto"],
        "en": ["shoe repair", "cobbler", "shoemaker"],
        "fr": ["cordonnier", "cordonnerie"],
    },
    "laundry": {
        "rw": ["kumesa", "kumesesha", "kumesa imyenda", "gutera ipasi"],
        "en": ["laundry", "dry cleaner", "ironing"],
        "fr": ["pressing", "blanchisserie", "laverie"],
    },
    "boutiques": {
        "rw": ["imyenda", "iduka ry'imyenda", "kugura imyenda"],
        "en": ["clothing", "dresses", "clothes shop"],
        "fr": ["vêtements", "habits", "boutique"],
    },
    "fashion": {
        "rw": ["imideri", "ubudozi", "imyambaro"],
        "en": ["fashion", "clothes"],
        "fr": ["mode", "habillement"],
    },
    "food": {
        "rw": ["ibiryo", "ibiribwa", "kurya"],
        "en": ["food", "meals"],
        "fr": ["nourriture", "repas"],
    },
    "caterers": {
        "rw": ["amafunguro", "guteka", "abatetsi", "gutekera ibirori"],
        "en": ["catering", "caterer", "cook"],
        "fr": ["traiteur", "cuisinier"],
    },
    "restaurants": {
        "rw": ["resitora", "restora", "aho kurya", "bufe"],
        "en": ["restaurant", "buffet", "lunch", "eat"],
        "fr": ["resto", "manger", "déjeuner"],
    },
    "bakeries": {
        "rw": ["imigati", "umugati", "keke", "amandazi"],
        "en": ["bakery", "bread", "cake", "cakes"],
        "fr": ["boulangerie", "pâtisserie", "gâteau"],
    },
    "butchers": {
        "rw": ["inyama", "ibagiro", "umubazi", "bushere"],
        "en": ["butcher", "butchery", "meat"],
        "fr": ["boucherie", "boucher", "viande"],
    },
    "events": {
        "rw": ["ibirori", "ubukwe", "gusaba"],
        "en": ["wedding", "party", "events"],
        "fr": ["mariage", "fête", "événement"],
    },
    "event-decor": {
        "rw": ["gutaka", "imitako", "imitako y'ibirori", "dekorasiyo"],
        "en": ["decoration", "decor", "event planner"],
        "fr": ["décorateur", "décoratrice"],
    },
    "photographers": {
        "rw": ["umufotozi", "gufotora", "amafoto", "videwo"],
        "en": ["photographer", "photography", "photo", "video"],
        "fr": ["photographe", "vidéaste"],
    },
    "sound-dj": {
        "rw": ["indangururamajwi", "umuziki", "sono", "disikijokeri"],
        "en": ["sound system", "speakers", "deejay", "music"],
        "fr": ["sonorisation", "disc jockey", "musique"],
    },
    "tent-chair-hire": {
        "rw": ["amahema", "ihema", "intebe", "gukodesha intebe"],
        "en": ["tent hire", "tents", "chairs", "chair rental"],
        "fr": ["location chaises", "chapiteau", "tente"],
    },
    "tech": {
        "rw": ["ikoranabuhanga", "telefone", "telefoni"],
        "en": ["phones", "computers", "electronics"],
        "fr": ["électronique", "informatique"],
    },
    "phone-repair": {
        "rw": ["gusana telefoni", "gukora telefoni", "gusana telefone", "gukanika telefoni"],
        "en": ["phone fix", "screen repair", "mobile repair", "smartphone repair"],
        "fr": ["réparation téléphone", "écran cassé"],
    },
    "computer-repair": {
        "rw": ["gusana mudasobwa", "mudasobwa", "orudinateri"],
        "en": ["laptop repair", "computer", "laptop"],
        "fr": ["ordinateur", "réparation ordinateur", "dépannage informatique"],
    },
    "printing": {
        "rw": ["gucapa", "gufotora impapuro", "fotokopi", "kopi"],
        "en": ["printing", "photocopy", "print", "copies"],
        "fr": ["imprimerie", "photocopie", "impression"],
    },
    "cyber-cafe": {
        "rw": ["saiberi", "sayiberi", "interineti"],
        "en": ["internet", "cyber", "wifi"],
        "fr": ["cybercafé", "cyber café"],
    },
    "health": {
        "rw": ["ubuvuzi", "kwivuza"],
        "en": ["medical", "healthcare"],
        "fr": ["soins", "médecine"],
    },
    "pharmacies": {
        "rw": ["farumasi", "farmasi", "imiti"],
        "en": ["pharmacy", "chemist", "drugstore", "medicine"],
        "fr": ["pharmacie", "médicaments"],
    },
    "clinics": {
        "rw": ["ivuriro", "kwa muganga", "muganga", "ibitaro"],
        "en": ["clinic", "doctor", "hospital"],
        "fr": ["clinique", "médecin", "hôpital", "docteur"],
    },
    "dentists": {
        "rw": ["amenyo", "muganga w'amenyo", "iryinyo"],
        "en": ["dentist", "teeth", "dental"],
        "fr": ["dentiste", "dents", "dentaire"],
    },
    "opticians": {
        "rw": ["amadarubindi", "indorerwamo z'amaso", "amaso"],
        "en": ["glasses", "optician", "eye test", "spectacles"],
        "fr": ["lunettes", "opticien", "optique"],
    },
    "education": {
        "rw": ["kwiga", "amasomo", "ishuri"],
        "en": ["school", "lessons", "classes"],
        "fr": ["école", "cours"],
    },
    "tutors": {
        "rw": ["umwarimu", "mwarimu", "kwigisha mu rugo"],
        "en": ["tutor", "tuition", "teacher", "homework"],
        "fr": ["cours particuliers", "répétiteur", "professeur"],
    },
    "language-schools": {
        "rw": ["icyongereza", "igifaransa", "igiswahili", "indimi"],
        "en": ["english lessons", "french lessons", "language"],
        "fr": ["cours d'anglais", "langues", "anglais"],
    },
    "vocational-training": {
        "rw": ["umwuga", "amahugurwa", "tvet"],
        "en": ["vocational", "training", "apprenticeship", "skills"],
        "fr": ["formation", "apprentissage", "métier"],
    },
    "professional": {
        "rw": ["serivisi", "umwuga"],
        "en": ["services", "consultant"],
        "fr": ["conseil", "prestataire"],
    },
    "accountants": {
        "rw": ["ibaruramari", "umucungamari", "imisoro"],
        "en": ["accountant", "accounting", "bookkeeping", "tax"],
        "fr": ["comptable", "comptabilité", "impôts"],
    },
    "lawyers": {
        "rw": ["umunyamategeko", "avoka", "amategeko", "noteri"],
        "en": ["lawyer", "attorney", "legal", "notary"],
        "fr": ["avocat", "notaire", "juriste"],
    },
    "cleaning": {
        "rw": ["isuku", "gukora isuku", "abakozi b'isuku"],
        "en": ["cleaning", "cleaner", "housekeeping"],
        "fr": ["nettoyage", "ménage", "femme de ménage"],
    },
    "movers": {
        "rw": ["kwimuka", "kwimura", "gutwara ibintu", "imizigo", "fuso"],
        "en": ["moving", "removals", "transport", "truck"],
        "fr": ["déménagement", "camion", "livraison"],
    },
    "security": {
        "rw": ["umutekano", "umuzamu", "abazamu", "kurinda"],
        "en": ["guard", "guards", "watchman"],
        "fr": ["gardiennage", "sécurité", "gardien", "vigile"],
    },
}
