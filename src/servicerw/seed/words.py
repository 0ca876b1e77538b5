"""Vocabularies for the synthetic data generator: names, places, per-category services and phrases.

Everything here is plain data (tuples and dicts in a fixed order) so that generation stays deterministic.
Kinyarwanda and French texts are written to be real, plain phrases a Rwandan business would use.
"""

from __future__ import annotations

# Positive Kinyarwanda words that are common in business names ("Ineza Salon", "Garage Amahoro").
KINYARWANDA_WORDS = (
    "Ineza", "Urumuri", "Amahoro", "Ubumwe", "Imena", "Intwari", "Umucyo", "Iriza", "Agaciro", "Ikaze",
    "Inyange", "Isimbi", "Keza", "Gakondo", "Umurava", "Ituze", "Ihirwe", "Amizero", "Urukundo", "Inyenyeri",
    "Ishema", "Indatwa", "Imanzi", "Umuco", "Icyerekezo", "Impano", "Imbuto", "Inganzo", "Isoko", "Intore",
    "Umurage", "Ikirezi", "Shema", "Hirwa", "Ganza", "Rugwiro", "Umutako", "Inkingi", "Ubuhanga", "Umwezi",
    "Akanyenyeri", "Iteka", "Umuhigo", "Ingoma", "Imararungu", "Nziza", "Ubwiza", "Inzozi", "Umugisha",
    "Isange", "Ingabire", "Impuhwe", "Gisubizo", "Ubudasa", "Intego", "Umurimo", "Karame", "Akeza",
)  # fmt: skip

# Common first names in Rwanda (Christian / French), male and female.
FIRST_NAMES = (
    "Jean Paul", "Jean Claude", "Jean de Dieu", "Jean Bosco", "Emmanuel", "Eric", "Patrick", "Olivier",
    "Aimable", "Innocent", "Fabrice", "Claude", "Théogène", "Alphonse", "Didier", "Yves", "Samuel", "Gilbert",
    "Pacifique", "Janvier", "Vincent", "Eugène", "Gaspard", "Fidèle", "Célestin", "Jérôme", "Joseph", "David",
    "Felix", "Prince", "Kevin", "Christian", "Alice", "Marie Claire", "Diane", "Josiane", "Clarisse", "Chantal",
    "Grace", "Ange", "Aline", "Solange", "Vestine", "Jeanne", "Espérance", "Beatha", "Claudine", "Sandrine",
    "Divine", "Liliane", "Françoise", "Immaculée", "Delphine", "Denise", "Odette", "Gloria", "Yvonne",
    "Henriette", "Marie Rose", "Jacqueline", "Agnès", "Vanessa", "Sonia", "Nadine",
)  # fmt: skip

# Kinyarwanda family names.
SURNAMES = (
    "Uwase", "Mugisha", "Niyonzima", "Habimana", "Mukamana", "Uwimana", "Nshimiyimana", "Hakizimana",
    "Niyonsenga", "Uwera", "Ingabire", "Mutoni", "Iradukunda", "Tuyishime", "Ndayisaba", "Bizimana",
    "Nsengiyumva", "Mukeshimana", "Uwamahoro", "Umutoni", "Kayitesi", "Mukandayisenga", "Nkurunziza",
    "Gatera", "Kamanzi", "Munyaneza", "Ntwari", "Twagirimana", "Nyiraneza", "Rukundo", "Sibomana", "Manzi",
    "Kalisa", "Ishimwe", "Irakoze", "Byiringiro", "Ndahiro", "Karangwa", "Murenzi", "Gasana", "Mutesi",
    "Umuhoza", "Uwineza", "Niyitegeka", "Nzeyimana", "Hategekimana", "Uwizeye", "Dusabe", "Ndagijimana",
    "Mugabo", "Rwigema", "Kabera", "Mbabazi", "Uwitonze", "Nyirahabimana", "Musoni", "Gakuba", "Rutayisire",
    "Nsabimana", "Uwayezu", "Mukarugwiza", "Habineza", "Nizeyimana", "Mbonigaba",
)  # fmt: skip

NAME_SUFFIXES = ("Ltd", "Services", "Center", "Co. Ltd", "Group", "Plus", "Express", "& Sons")

# District weights (relative). Kigali's three districts get 45 % of all businesses in the generator;
# the secondary towns come next, the rest share what is left.
KIGALI_DISTRICTS = ("Gasabo", "Kicukiro", "Nyarugenge")
KIGALI_SHARE = 0.45
DISTRICT_WEIGHTS = {
    "Gasabo": 20.0, "Kicukiro": 12.0, "Nyarugenge": 13.0,
    "Musanze": 5.0, "Rubavu": 5.0, "Huye": 4.0, "Rwamagana": 3.0, "Muhanga": 3.0, "Nyagatare": 2.5,
    "Rusizi": 2.5, "Bugesera": 2.5, "Karongi": 2.0, "Kayonza": 2.0, "Nyanza": 1.5, "Kamonyi": 1.5,
}  # fmt: skip
OTHER_DISTRICT_WEIGHT = 1.2

# Busy sectors (town centres and Kigali's commercial areas) get more businesses.
BUSY_SECTORS = {
    # Gasabo
    "Kimironko": 5, "Remera": 5, "Kacyiru": 4, "Kimihurura": 3, "Gisozi": 3, "Kinyinya": 3, "Gikomero": 1,
    # Kicukiro
    "Kicukiro": 4, "Niboye": 3, "Kagarama": 3, "Gikondo": 4, "Kanombe": 3, "Gatenga": 3,
    # Nyarugenge
    "Nyarugenge": 5, "Muhima": 4, "Nyamirambo": 5, "Kimisagara": 4, "Gitega": 3, "Nyakabanda": 3,
    # Secondary towns
    "Muhoza": 6, "Gisenyi": 6, "Ngoma": 4, "Kigabiro": 5, "Nyamabuye": 5, "Kamembe": 5, "Bwishyura": 4,
    "Busanza": 2, "Mukarange": 4, "Nyamata": 5, "Busasamana": 4, "Byumba": 5, "Tumba": 3,
}  # fmt: skip

# Kigali street codes: KG (Gasabo), KK (Kicukiro), KN (Nyarugenge).
STREET_PREFIX = {"Gasabo": "KG", "Kicukiro": "KK", "Nyarugenge": "KN"}
STREET_KINDS = ("St", "St", "Ave", "Rd")
LANDMARK_ADDRESSES = (
    "Near the market, {sector}",
    "Opposite the bus park, {sector}",
    "Main road, {sector}",
    "Next to the health centre, {sector}",
    "Near the sector office, {sector}",
    "{district} town centre, {sector}",
    "Behind the SACCO, {sector}",
    "Near the church, {sector}",
)

# --- Per category (sub-category slug) ---------------------------------------------------------------
# en / fr: nouns used in business names; what: (en, rw, fr) what the business does — rw is an
# infinitive phrase (it follows "serivisi zo …" / "ibijyanye no …"); services: (en, rw, fr, min, max RWF);
# chez: "Chez Aline" style names fit; h24: chance of being open around the clock; w: relative frequency.
CATEGORY_VOCAB: dict[str, dict] = {
    "plumbers": {
        "en": ("Plumbing", "Plumbing Services", "Plumbing Works", "Water Solutions"),
        "fr": ("Plomberie", "Plomberie Générale"),
        "what": (
            "plumbing repairs and installations",
            "gusana no gushyiraho imiyoboro y'amazi",
            "des travaux de plomberie",
        ),
        "services": (
            ("Pipe repair", "Gusana amatiyo", "Réparation de tuyaux", 5000, 30000),
            ("Water tank installation", "Gushyiraho ikigega cy'amazi", "Installation de citerne", 20000, 120000),
            ("Toilet and sink repair", "Gusana ubwiherero n'amarobine", "Réparation de WC et lavabo", 5000, 25000),
            ("Leak detection", "Gushakisha aho amazi ava", "Détection de fuites", 5000, 20000),
            (
                "Water heater installation",
                "Gushyiraho icyuma gishyushya amazi",
                "Installation de chauffe-eau",
                15000,
                80000,
            ),
            ("Drain unblocking", "Gufungura imiyoboro yazibye", "Débouchage de canalisations", 5000, 30000),
        ),
    },
    "electricians": {
        "en": ("Electrical Services", "Electric", "Electrical Works", "Power Solutions"),
        "fr": ("Électricité", "Électricité Générale"),
        "what": (
            "electrical installations and repairs",
            "gushyira no gusana amashanyarazi mu nzu",
            "des installations et réparations électriques",
        ),
        "services": (
            ("House wiring", "Gushyira insinga z'amashanyarazi mu nzu", "Câblage de maison", 30000, 150000),
            (
                "Socket and switch repair",
                "Gusana prize na switch",
                "Réparation de prises et interrupteurs",
                2000,
                10000,
            ),
            (
                "Cash power meter installation",
                "Gushyiraho kashipawa",
                "Installation de compteur Cash Power",
                10000,
                40000,
            ),
            ("Lighting installation", "Gushyiraho amatara", "Installation d'éclairage", 5000, 50000),
            (
                "Solar panel installation",
                "Gushyiraho imirasire y'izuba",
                "Installation de panneaux solaires",
                50000,
                150000,
            ),
            ("Fault finding", "Gushakisha ikibazo cy'amashanyarazi", "Recherche de pannes", 5000, 20000),
        ),
    },
    "carpenters": {
        "en": ("Carpentry", "Furniture Workshop", "Woodworks", "Furniture"),
        "fr": ("Menuiserie", "Meubles"),
        "what": (
            "custom furniture and woodwork",
            "gukora intebe, ameza n'ibindi bikoresho by'ibiti",
            "des meubles sur mesure et des travaux de menuiserie",
        ),
        "services": (
            ("Custom furniture", "Gukora ibikoresho byo mu nzu", "Meubles sur mesure", 50000, 150000),
            ("Doors and window frames", "Gukora inzugi n'amadirishya", "Portes et fenêtres en bois", 30000, 150000),
            ("Furniture repair", "Gusana ibikoresho by'ibiti", "Réparation de meubles", 5000, 40000),
            ("Kitchen cabinets", "Gukora utubati tw'igikoni", "Placards de cuisine", 80000, 150000),
            ("Beds", "Gukora ibitanda", "Fabrication de lits", 60000, 150000),
            ("Roof timber work", "Gushyiraho ibiti by'igisenge", "Charpente", 40000, 150000),
        ),
    },
    "masons": {
        "en": ("Construction", "Builders", "Building Works", "Construction Services"),
        "fr": ("Construction", "Bâtiment"),
        "what": (
            "building and renovation work",
            "kubaka no kuvugurura inzu",
            "des travaux de construction et de rénovation",
        ),
        "services": (
            ("House construction", "Kubaka inzu", "Construction de maisons", 100000, 150000),
            ("Tiling", "Gushyira amakaro", "Pose de carrelage", 10000, 60000),
            ("Plastering", "Guhoma inkuta", "Crépissage", 10000, 50000),
            ("Fence building", "Kubaka urupangu", "Construction de clôtures", 50000, 150000),
            ("Renovation", "Kuvugurura inzu", "Rénovation", 30000, 150000),
            ("Paving", "Gushyira amapave", "Pose de pavés", 20000, 100000),
        ),
    },
    "painters": {
        "en": ("Painting", "Paint Works", "Painters", "Decor & Paint"),
        "fr": ("Peinture", "Peinture et Décoration"),
        "what": (
            "interior and exterior painting",
            "gusiga amarangi mu nzu no hanze",
            "des travaux de peinture intérieure et extérieure",
        ),
        "services": (
            ("Interior painting", "Gusiga amarangi mu nzu", "Peinture intérieure", 20000, 150000),
            ("Exterior painting", "Gusiga amarangi hanze", "Peinture extérieure", 30000, 150000),
            ("Gate and metal painting", "Gusiga amarangi ku byuma", "Peinture de portails", 10000, 50000),
            ("Wall decoration", "Gutaka inkuta", "Décoration murale", 15000, 80000),
            ("Ceiling painting", "Gusiga amarangi ku gisenge", "Peinture de plafonds", 15000, 60000),
        ),
    },
    "welders": {
        "en": ("Welding", "Metal Works", "Welding Workshop", "Steel Works"),
        "fr": ("Soudure", "Métallerie"),
        "what": (
            "metal gates, windows and welding repairs",
            "gukora inzugi z'ibyuma, amadirishya no gusudira",
            "des portails, fenêtres métalliques et travaux de soudure",
        ),
        "services": (
            ("Metal gates", "Gukora amarembo y'ibyuma", "Portails métalliques", 80000, 150000),
            ("Window grills", "Gukora ibyuma birinda amadirishya", "Grilles de fenêtres", 20000, 80000),
            ("Welding repairs", "Gusudira ibyangiritse", "Réparations de soudure", 3000, 20000),
            ("Metal doors", "Gukora inzugi z'ibyuma", "Portes métalliques", 60000, 150000),
            ("Water tank stands", "Gukora ibyuma bitereka ibigega", "Supports de citernes", 40000, 120000),
        ),
    },
    "hair-salons": {
        "en": ("Hair Salon", "Beauty Salon", "Hair Studio", "Salon"),
        "fr": ("Salon de Coiffure", "Coiffure"),
        "chez": True,
        "w": 2.5,
        "what": (
            "hair care, braiding and styling",
            "gutunganya no kuboha imisatsi",
            "la coiffure, les tresses et les soins capillaires",
        ),
        "services": (
            ("Braiding", "Kuboha imisatsi", "Tresses", 5000, 40000),
            ("Hair wash and blow-dry", "Koza no kumutsa imisatsi", "Shampooing et brushing", 3000, 10000),
            ("Hair relaxing", "Kugorora imisatsi", "Défrisage", 5000, 20000),
            ("Wig installation", "Gushyiraho imisatsi y'imikorano", "Pose de perruque", 5000, 30000),
            ("Dreadlocks", "Gukora dreadlocks", "Dreadlocks", 10000, 50000),
            ("Hair colouring", "Gusiga irangi mu misatsi", "Coloration", 5000, 30000),
        ),
    },
    "barbers": {
        "en": ("Barbershop", "Barber", "Cuts", "Men's Grooming"),
        "fr": ("Coiffure Homme", "Barbier"),
        "chez": True,
        "w": 2.0,
        "what": (
            "haircuts and beard grooming",
            "kogosha umusatsi n'ubwanwa",
            "des coupes de cheveux et l'entretien de la barbe",
        ),
        "services": (
            ("Haircut", "Kogosha", "Coupe de cheveux", 2000, 5000),
            ("Beard trim", "Gutunganya ubwanwa", "Taille de barbe", 2000, 4000),
            ("Kids haircut", "Kogosha abana", "Coupe enfant", 2000, 3000),
            ("Hair dyeing", "Gusiga irangi mu musatsi", "Teinture", 3000, 10000),
            ("Shave and hot towel", "Kogosha n'igitambaro gishyushye", "Rasage et serviette chaude", 3000, 8000),
        ),
    },
    "nail-salons": {
        "en": ("Nails", "Nail Studio", "Nail Bar"),
        "fr": ("Onglerie", "Beauté des Ongles"),
        "chez": True,
        "what": (
            "manicure, pedicure and nail art",
            "gutunganya inzara z'intoki n'iz'amano",
            "la manucure, la pédicure et le nail art",
        ),
        "services": (
            ("Manicure", "Gutunganya inzara z'intoki", "Manucure", 3000, 10000),
            ("Pedicure", "Gutunganya inzara z'amano", "Pédicure", 4000, 15000),
            ("Gel nails", "Gushyiraho inzara za gel", "Ongles en gel", 8000, 25000),
            ("Nail art", "Gutaka inzara", "Nail art", 5000, 20000),
            ("Acrylic nails", "Gushyiraho inzara z'imikorano", "Ongles en acrylique", 10000, 30000),
        ),
    },
    "massage-spa": {
        "en": ("Spa", "Massage & Spa", "Wellness Centre", "Spa & Wellness"),
        "fr": ("Spa", "Institut de Bien-être"),
        "what": (
            "massage and relaxation treatments",
            "gukora massage no kuruhura umubiri",
            "des massages et soins de détente",
        ),
        "services": (
            ("Full body massage", "Massage y'umubiri wose", "Massage complet", 15000, 50000),
            ("Foot massage", "Massage y'ibirenge", "Massage des pieds", 8000, 20000),
            ("Facial treatment", "Gutunganya uruhu rwo mu maso", "Soin du visage", 10000, 40000),
            ("Sauna and steam bath", "Sauna n'ubwogero bw'umwuka", "Sauna et hammam", 5000, 20000),
            ("Body scrub", "Gusukura uruhu", "Gommage corporel", 10000, 35000),
        ),
    },
    "cosmetics": {
        "en": ("Cosmetics", "Beauty Shop", "Beauty Store"),
        "fr": ("Cosmétiques", "Parfumerie"),
        "chez": True,
        "what": (
            "cosmetics, perfumes and beauty products",
            "kugurisha amavuta, imibavu n'ibindi bikoresho by'ubwiza",
            "des cosmétiques, des parfums et des produits de beauté",
        ),
        "services": (
            ("Skin care products", "Amavuta yo kwisiga", "Produits de soin de la peau", 3000, 40000),
            ("Perfumes", "Imibavu", "Parfums", 5000, 80000),
            ("Make-up products", "Ibirungo by'ubwiza", "Maquillage", 3000, 30000),
            ("Hair products", "Ibikoresho by'imisatsi", "Produits capillaires", 2000, 20000),
            ("Make-up session", "Gusiga make-up", "Séance de maquillage", 10000, 50000),
        ),
    },
    "mechanics": {
        "en": ("Auto Garage", "Garage", "Motors", "Auto Repair"),
        "fr": ("Garage", "Garage Auto", "Mécanique Auto"),
        "w": 1.5,
        "what": (
            "car repairs and servicing",
            "gukora no gusuzuma imodoka",
            "la réparation et l'entretien de voitures",
        ),
        "services": (
            ("Engine repair", "Gukora moteri", "Réparation de moteur", 20000, 150000),
            ("Oil change", "Guhindura amavuta ya moteri", "Vidange", 10000, 40000),
            ("Brake repair", "Gukora feri", "Réparation de freins", 10000, 60000),
            ("Car diagnosis", "Gusuzuma imodoka", "Diagnostic auto", 10000, 30000),
            ("Suspension repair", "Gukora amortisseurs", "Réparation de suspension", 20000, 100000),
            ("Car electrics", "Gukora amashanyarazi y'imodoka", "Électricité auto", 10000, 60000),
        ),
    },
    "car-wash": {
        "en": ("Car Wash", "Auto Wash", "Car Care"),
        "fr": ("Lavage Auto",),
        "what": ("car washing and cleaning", "koza imodoka na moto", "le lavage de voitures et de motos"),
        "services": (
            ("Exterior wash", "Koza inyuma", "Lavage extérieur", 3000, 8000),
            ("Full wash", "Koza imbere n'inyuma", "Lavage complet", 5000, 15000),
            ("Engine wash", "Koza moteri", "Lavage moteur", 5000, 10000),
            ("Seat cleaning", "Koza intebe z'imodoka", "Nettoyage des sièges", 10000, 30000),
            ("Motorbike wash", "Koza moto", "Lavage de moto", 2000, 3000),
        ),
    },
    "tyres": {
        "en": ("Tyres", "Tyre Centre", "Wheels & Tyres"),
        "fr": ("Pneus", "Pneumatiques"),
        "what": (
            "tyres, wheel balancing and alignment",
            "kugurisha no kuringaniza amapine",
            "des pneus, l'équilibrage et le parallélisme",
        ),
        "services": (
            ("New tyres", "Amapine mashya", "Pneus neufs", 40000, 150000),
            ("Puncture repair", "Gupfuka ipine", "Réparation de crevaison", 2000, 5000),
            ("Wheel balancing", "Kuringaniza amapine", "Équilibrage des roues", 5000, 15000),
            ("Wheel alignment", "Kugorora imigendere y'amapine", "Parallélisme", 10000, 25000),
            ("Used tyres", "Amapine yakoreshejwe", "Pneus d'occasion", 15000, 50000),
        ),
    },
    "moto-repair": {
        "en": ("Moto Repair", "Motorbike Garage", "Moto Centre"),
        "fr": ("Garage Moto", "Réparation Moto"),
        "what": (
            "motorbike repairs and spare parts",
            "gukora moto no kugurisha ibyuma byazo",
            "la réparation de motos et les pièces détachées",
        ),
        "services": (
            ("Moto servicing", "Gusuzuma moto", "Entretien de moto", 5000, 20000),
            ("Engine overhaul", "Gukora moteri ya moto", "Révision moteur", 20000, 80000),
            ("Chain and sprocket", "Gusimbuza umunyururu", "Chaîne et pignon", 8000, 25000),
            ("Brake repair", "Gukora feri", "Réparation de freins", 3000, 15000),
            ("Spare parts", "Ibyuma by'ibisimbura", "Pièces détachées", 2000, 50000),
        ),
    },
    "driving-schools": {
        "en": ("Driving School", "Auto School", "Driving Academy"),
        "fr": ("Auto-École",),
        "w": 0.5,
        "what": (
            "driving lessons and licence preparation",
            "kwigisha gutwara ibinyabiziga no gutegura uruhushya rwo gutwara",
            "des cours de conduite et la préparation au permis",
        ),
        "services": (
            ("Car driving course", "Isomo ryo gutwara imodoka", "Cours de conduite auto", 80000, 150000),
            ("Motorbike driving course", "Isomo ryo gutwara moto", "Cours de conduite moto", 50000, 100000),
            ("Highway code lessons", "Amasomo y'amategeko y'umuhanda", "Cours de code de la route", 20000, 50000),
            ("Refresher lessons", "Amasomo yo kwibutsa", "Cours de perfectionnement", 20000, 60000),
            ("Exam preparation", "Gutegura ikizamini", "Préparation à l'examen", 20000, 50000),
        ),
    },
    "tailors": {
        "en": ("Tailoring", "Fashion House", "Designs", "Couture"),
        "fr": ("Couture", "Atelier de Couture"),
        "chez": True,
        "w": 2.0,
        "what": (
            "tailor-made clothes in kitenge and other fabrics",
            "kudoda imyenda y'ibitenge n'indi",
            "des vêtements sur mesure en pagne et autres tissus",
        ),
        "services": (
            ("Kitenge dress", "Ikanzu y'igitenge", "Robe en pagne", 15000, 60000),
            ("Men's suit", "Ikoti n'ipantaro", "Costume homme", 60000, 150000),
            ("Alterations", "Guhindura imyenda", "Retouches", 2000, 10000),
            ("School uniforms", "Imyenda y'ishuri", "Uniformes scolaires", 8000, 25000),
            ("Mushanana", "Umushanana", "Mushanana (tenue traditionnelle)", 40000, 150000),
            ("Shirt tailoring", "Kudoda ishati", "Chemise sur mesure", 10000, 30000),
        ),
    },
    "shoe-repair": {
        "en": ("Shoe Repair", "Shoe Clinic", "Cobbler"),
        "fr": ("Cordonnerie",),
        "what": (
            "shoe and bag repairs",
            "gukanika inkweto n'ibikapu",
            "la réparation de chaussures et de sacs",
        ),
        "services": (
            ("Sole replacement", "Gusimbuza soli y'inkweto", "Remplacement de semelles", 3000, 15000),
            ("Shoe polishing", "Gusiga inkweto umuti", "Cirage", 2000, 3000),
            ("Stitching", "Kudoda inkweto", "Couture de chaussures", 2000, 8000),
            ("Bag repair", "Gukanika ibikapu", "Réparation de sacs", 3000, 15000),
            ("Heel repair", "Gusana agatsinsino", "Réparation de talons", 2000, 8000),
        ),
    },
    "laundry": {
        "en": ("Laundry", "Dry Cleaners", "Laundry Services"),
        "fr": ("Pressing", "Blanchisserie"),
        "what": (
            "washing, ironing and dry cleaning",
            "kumesa no gutera ipasi imyenda",
            "le lavage, le repassage et le nettoyage à sec",
        ),
        "services": (
            ("Wash and fold", "Kumesa no kuzinga", "Lavage et pliage", 2000, 10000),
            ("Ironing", "Gutera ipasi", "Repassage", 2000, 6000),
            ("Dry cleaning of suits", "Kumesa amakoti", "Nettoyage à sec de costumes", 5000, 15000),
            ("Bedding and curtains", "Kumesa amashuka n'amarido", "Literie et rideaux", 5000, 25000),
            ("Pick-up and delivery", "Kuza gufata no kugarura imyenda", "Collecte et livraison", 2000, 5000),
        ),
    },
    "boutiques": {
        "en": ("Boutique", "Fashion", "Collections", "Clothing Store"),
        "fr": ("Boutique", "Mode"),
        "chez": True,
        "w": 2.0,
        "what": (
            "clothes, shoes and accessories",
            "kugurisha imyenda, inkweto n'imirimbo",
            "des vêtements, des chaussures et des accessoires",
        ),
        "services": (
            ("Ladies' dresses", "Amakanzu y'abagore", "Robes pour femmes", 10000, 80000),
            ("Men's shirts", "Amashati y'abagabo", "Chemises pour hommes", 8000, 40000),
            ("Shoes", "Inkweto", "Chaussures", 10000, 80000),
            ("Handbags", "Amasakoshi", "Sacs à main", 10000, 60000),
            ("Kids' clothes", "Imyenda y'abana", "Vêtements pour enfants", 5000, 30000),
        ),
    },
    "caterers": {
        "en": ("Catering", "Events Catering", "Kitchen"),
        "fr": ("Traiteur", "Service Traiteur"),
        "chez": True,
        "what": (
            "catering for weddings, parties and meetings",
            "gutegura amafunguro y'ubukwe, ibirori n'inama",
            "un service traiteur pour mariages, fêtes et réunions",
        ),
        "services": (
            (
                "Wedding buffet (per guest)",
                "Ifunguro ry'ubukwe (ku muntu)",
                "Buffet de mariage (par invité)",
                8000,
                25000,
            ),
            ("Office lunch", "Ifunguro rya saa sita ku kazi", "Déjeuner de bureau", 4000, 10000),
            ("Brochettes and grill", "Burusheti n'inyama zokeje", "Brochettes et grillades", 5000, 20000),
            ("Cocktail snacks", "Utuntu two kurya mu birori", "Amuse-bouches de cocktail", 3000, 15000),
            ("Birthday cake", "Gato y'isabukuru", "Gâteau d'anniversaire", 15000, 80000),
        ),
    },
    "restaurants": {
        "en": ("Restaurant", "Café", "Grill", "Kitchen", "Bistro"),
        "fr": ("Restaurant", "Resto", "Café"),
        "chez": True,
        "w": 2.5,
        "what": (
            "local and international dishes",
            "gutegura amafunguro ya Kinyarwanda n'ayo mu mahanga",
            "des plats locaux et internationaux",
        ),
        "services": (
            ("Buffet lunch", "Bifeti ya saa sita", "Buffet du midi", 2500, 8000),
            ("Brochettes", "Burusheti", "Brochettes", 2000, 6000),
            ("Isombe with rice", "Isombe n'umuceri", "Isombe avec riz", 2500, 6000),
            ("Grilled tilapia", "Tilapia yokeje", "Tilapia grillé", 8000, 20000),
            ("African tea", "Icyayi cy'amata", "Thé africain", 2000, 3000),
            ("Takeaway meals", "Ibiryo byo gutwara", "Plats à emporter", 3000, 10000),
        ),
    },
    "bakeries": {
        "en": ("Bakery", "Bakery & Pastry", "Cakes"),
        "fr": ("Boulangerie", "Pâtisserie", "Boulangerie-Pâtisserie"),
        "what": (
            "fresh bread, cakes and pastries",
            "gukora imigati mishya na gato",
            "du pain frais, des gâteaux et des pâtisseries",
        ),
        "services": (
            ("Bread", "Imigati", "Pain", 2000, 3000),
            ("Birthday cakes", "Gato z'isabukuru", "Gâteaux d'anniversaire", 15000, 80000),
            ("Wedding cakes", "Gato z'ubukwe", "Gâteaux de mariage", 50000, 150000),
            ("Mandazi and samosas", "Amandazi na sambusa", "Beignets et samoussas", 2000, 5000),
            ("Pastries", "Utugati turyoshye", "Viennoiseries", 2000, 8000),
        ),
    },
    "butchers": {
        "en": ("Butchery", "Meat Shop", "Fresh Meat"),
        "fr": ("Boucherie",),
        "what": (
            "fresh beef, goat and chicken",
            "kugurisha inyama nshya z'inka, ihene n'inkoko",
            "de la viande fraîche de bœuf, de chèvre et de poulet",
        ),
        "services": (
            ("Beef (per kg)", "Inyama y'inka (ikiro)", "Bœuf (le kilo)", 5000, 8000),
            ("Goat meat (per kg)", "Inyama y'ihene (ikiro)", "Viande de chèvre (le kilo)", 6000, 9000),
            ("Whole chicken", "Inkoko yose", "Poulet entier", 7000, 15000),
            ("Minced meat (per kg)", "Inyama zisye (ikiro)", "Viande hachée (le kilo)", 6000, 9000),
            ("Sausages", "Sosiso", "Saucisses", 3000, 8000),
            ("Pork (per kg)", "Inyama y'ingurube (ikiro)", "Porc (le kilo)", 4000, 7000),
        ),
    },
    "event-decor": {
        "en": ("Decor", "Events Decor", "Event Design"),
        "fr": ("Décoration", "Déco Événements"),
        "what": (
            "decoration for weddings and events",
            "gutaka ubukwe n'ibindi birori",
            "la décoration de mariages et d'événements",
        ),
        "services": (
            ("Wedding decoration", "Gutaka ubukwe", "Décoration de mariage", 100000, 150000),
            (
                "Gusaba and gukwa decoration",
                "Gutaka umuhango wo gusaba no gukwa",
                "Décoration de dot (gusaba)",
                80000,
                150000,
            ),
            ("Flower arrangements", "Gutunganya indabo", "Compositions florales", 10000, 60000),
            ("Birthday decoration", "Gutaka isabukuru", "Décoration d'anniversaire", 20000, 80000),
            ("Table setting", "Gutunganya ameza", "Dressage des tables", 20000, 100000),
        ),
    },
    "photographers": {
        "en": ("Photography", "Studio", "Photo & Video", "Pictures"),
        "fr": ("Studio Photo", "Photographie"),
        "what": (
            "photography and video for every occasion",
            "gufotora no gufata amashusho mu birori byose",
            "la photo et la vidéo pour toutes les occasions",
        ),
        "services": (
            ("Wedding photography", "Amafoto y'ubukwe", "Photos de mariage", 100000, 150000),
            ("Passport photos", "Amafoto ya pasiporo", "Photos d'identité", 2000, 5000),
            ("Event video", "Amashusho y'ibirori", "Vidéo d'événement", 50000, 150000),
            ("Photo shoot", "Gufotora ku giti cyawe", "Séance photo", 20000, 80000),
            ("Photo printing", "Gucapa amafoto", "Impression de photos", 2000, 10000),
        ),
    },
    "sound-dj": {
        "en": ("Sound", "DJ Services", "Sound & Lights", "Entertainment"),
        "fr": ("Sonorisation", "Animation"),
        "what": (
            "sound systems, lighting and DJ for events",
            "gukodesha indangururamajwi n'amatara no gucuranga mu birori",
            "la sonorisation, l'éclairage et l'animation DJ",
        ),
        "services": (
            ("DJ for weddings", "DJ w'ubukwe", "DJ pour mariage", 80000, 150000),
            ("Sound system hire", "Gukodesha indangururamajwi", "Location de sono", 30000, 120000),
            ("Stage lighting", "Amatara y'urubyiniro", "Éclairage de scène", 30000, 100000),
            ("MC services", "Umusangiza w'amagambo", "Maître de cérémonie", 50000, 150000),
            ("Microphone hire", "Gukodesha mikoro", "Location de micros", 5000, 20000),
        ),
    },
    "tent-chair-hire": {
        "en": ("Tents & Chairs", "Event Hire", "Rentals"),
        "fr": ("Location", "Location de Matériel"),
        "what": (
            "tents, chairs and tables for hire",
            "gukodesha amahema, intebe n'ameza",
            "la location de tentes, chaises et tables",
        ),
        "services": (
            ("Tent hire", "Gukodesha ihema", "Location de tente", 30000, 150000),
            ("Chair hire (per 100)", "Gukodesha intebe (100)", "Location de chaises (par 100)", 20000, 50000),
            ("Table hire", "Gukodesha ameza", "Location de tables", 2000, 5000),
            ("Chair covers", "Imyenda y'intebe", "Housses de chaises", 10000, 40000),
            ("Delivery and setup", "Kugeza no gushinga amahema", "Livraison et installation", 10000, 50000),
        ),
    },
    "phone-repair": {
        "en": ("Phone Repair", "Mobile Clinic", "Phones", "Mobile Solutions"),
        "fr": ("Réparation Téléphones", "Téléphonie"),
        "w": 2.0,
        "what": (
            "phone repairs and accessories",
            "gukora telefone no kugurisha ibikoresho byazo",
            "la réparation de téléphones et les accessoires",
        ),
        "services": (
            ("Screen replacement", "Gusimbuza ikirahure cya telefone", "Remplacement d'écran", 10000, 120000),
            ("Battery replacement", "Gusimbuza batiri", "Remplacement de batterie", 5000, 30000),
            ("Charging port repair", "Gukora aho bacomeka umuriro", "Réparation du port de charge", 3000, 15000),
            ("Software unlocking", "Gufungura telefone", "Déblocage logiciel", 3000, 10000),
            ("Phone accessories", "Ibikoresho bya telefone", "Accessoires de téléphone", 2000, 20000),
        ),
    },
    "computer-repair": {
        "en": ("Computer Services", "Tech Solutions", "IT Services", "Computers"),
        "fr": ("Informatique", "Services Informatiques"),
        "what": (
            "computer repairs, software and networking",
            "gukora mudasobwa no gushyiraho porogaramu na interineti",
            "la réparation d'ordinateurs, les logiciels et les réseaux",
        ),
        "services": (
            ("Laptop repair", "Gukora mudasobwa igendanwa", "Réparation d'ordinateur portable", 10000, 80000),
            ("Windows installation", "Gushyiramo Windows", "Installation de Windows", 5000, 15000),
            ("Virus removal", "Gukuraho virusi", "Suppression de virus", 5000, 15000),
            ("Data recovery", "Kugarura amakuru yatakaye", "Récupération de données", 15000, 80000),
            ("Network setup", "Gushyiraho umuyoboro wa interineti", "Installation réseau", 20000, 150000),
        ),
    },
    "printing": {
        "en": ("Printing", "Print Shop", "Prints & Copies", "Graphics"),
        "fr": ("Imprimerie", "Impression"),
        "what": (
            "printing, photocopying and branding",
            "gucapa, gufotora impapuro no gushyira ibirango ku bikoresho",
            "l'impression, la photocopie et le marquage",
        ),
        "services": (
            ("Photocopies (100 pages)", "Gufotora impapuro (100)", "Photocopies (100 pages)", 2000, 5000),
            ("Business cards", "Amakarita y'akazi", "Cartes de visite", 10000, 40000),
            ("Banner printing", "Gucapa ibyapa", "Impression de banderoles", 15000, 80000),
            ("T-shirt printing", "Gucapa ku mipira", "Impression sur t-shirts", 5000, 15000),
            ("Binding and lamination", "Guhambira no gushyira pulasitiki", "Reliure et plastification", 2000, 10000),
        ),
    },
    "cyber-cafe": {
        "en": ("Cyber Café", "Internet Café", "Cyber", "Digital Hub"),
        "fr": ("Cybercafé",),
        "what": (
            "internet access, printing and online services",
            "gutanga interineti, gucapa no gufasha gusaba serivisi kuri murandasi",
            "l'accès à internet, l'impression et les démarches en ligne",
        ),
        "services": (
            ("Internet (2 hours)", "Interineti (amasaha 2)", "Internet (2 heures)", 2000, 3000),
            ("Irembo applications", "Gusaba serivisi kuri Irembo", "Démarches Irembo", 2000, 5000),
            ("Printing and scanning", "Gucapa no gusikana", "Impression et numérisation", 2000, 5000),
            ("CV writing", "Kwandika CV", "Rédaction de CV", 3000, 10000),
            ("Typing services", "Kwandika inyandiko", "Saisie de documents", 2000, 8000),
        ),
    },
    "pharmacies": {
        "en": ("Pharmacy", "Pharma", "Chemist"),
        "fr": ("Pharmacie",),
        "w": 1.5,
        "h24": 0.2,
        "what": (
            "medicines and health products",
            "kugurisha imiti n'ibikoresho by'ubuzima",
            "des médicaments et des produits de santé",
        ),
        "services": (
            ("Prescription medicines", "Imiti yandikwa na muganga", "Médicaments sur ordonnance", 2000, 50000),
            ("Blood pressure check", "Gupima umuvuduko w'amaraso", "Contrôle de tension", 2000, 3000),
            ("Baby care products", "Ibikoresho by'abana", "Produits pour bébés", 2000, 30000),
            ("Malaria test", "Gupima malariya", "Test de paludisme", 2000, 5000),
            ("Vitamins and supplements", "Vitamini n'inyongeramirire", "Vitamines et compléments", 3000, 40000),
        ),
    },
    "clinics": {
        "en": ("Clinic", "Medical Centre", "Health Centre", "Polyclinic"),
        "fr": ("Clinique", "Polyclinique", "Centre Médical"),
        "h24": 0.15,
        "what": (
            "general consultations and laboratory tests",
            "kuvura no gupima indwara",
            "des consultations générales et des analyses de laboratoire",
        ),
        "services": (
            ("General consultation", "Kubonana na muganga", "Consultation générale", 5000, 20000),
            ("Laboratory tests", "Ibizamini bya laboratwari", "Analyses de laboratoire", 3000, 50000),
            ("Ultrasound", "Ekografi", "Échographie", 15000, 50000),
            ("Antenatal care", "Gukurikirana abagore batwite", "Consultation prénatale", 5000, 20000),
            ("Vaccination", "Gukingira", "Vaccination", 5000, 30000),
            ("Minor surgery", "Kubaga byoroheje", "Petite chirurgie", 20000, 150000),
        ),
    },
    "dentists": {
        "en": ("Dental Clinic", "Dental Care", "Smile Clinic"),
        "fr": ("Cabinet Dentaire", "Clinique Dentaire"),
        "w": 0.6,
        "what": (
            "dental care for the whole family",
            "kuvura amenyo y'abagize umuryango bose",
            "des soins dentaires pour toute la famille",
        ),
        "services": (
            ("Dental check-up", "Gusuzuma amenyo", "Contrôle dentaire", 5000, 20000),
            ("Tooth extraction", "Gukura iryinyo", "Extraction dentaire", 10000, 40000),
            ("Scaling and cleaning", "Koza amenyo", "Détartrage", 15000, 50000),
            ("Filling", "Gupfuka iryinyo", "Plombage", 15000, 60000),
            ("Teeth whitening", "Kweza amenyo", "Blanchiment des dents", 50000, 150000),
        ),
    },
    "opticians": {
        "en": ("Optical", "Optics", "Eye Care", "Vision Centre"),
        "fr": ("Optique", "Opticien"),
        "w": 0.5,
        "what": (
            "eye tests, glasses and lenses",
            "gupima amaso no gukora amadarubindi",
            "des examens de la vue, des lunettes et des lentilles",
        ),
        "services": (
            ("Eye test", "Gupima amaso", "Examen de la vue", 5000, 15000),
            ("Prescription glasses", "Amadarubindi ya muganga", "Lunettes de vue", 20000, 150000),
            ("Sunglasses", "Amadarubindi y'izuba", "Lunettes de soleil", 10000, 80000),
            ("Contact lenses", "Lentiye zo mu maso", "Lentilles de contact", 20000, 80000),
            ("Frame repair", "Gusana amadarubindi", "Réparation de montures", 2000, 10000),
        ),
    },
    "tutors": {
        "en": ("Tutoring", "Tutors", "Learning Centre", "Home Tuition"),
        "fr": ("Cours Particuliers", "Soutien Scolaire"),
        "what": (
            "private lessons at home for primary and secondary students",
            "kwigisha abanyeshuri bo mu mashuri abanza n'ayisumbuye mu rugo",
            "des cours particuliers à domicile pour le primaire et le secondaire",
        ),
        "services": (
            ("Mathematics lessons", "Amasomo y'imibare", "Cours de mathématiques", 20000, 60000),
            ("English lessons", "Amasomo y'Icyongereza", "Cours d'anglais", 20000, 60000),
            ("Physics and chemistry", "Ubugenge n'ubutabire", "Physique et chimie", 25000, 70000),
            (
                "National exam preparation",
                "Gutegura ibizamini bya Leta",
                "Préparation aux examens nationaux",
                30000,
                100000,
            ),
            ("Homework support", "Gufasha abana gukora imikoro", "Aide aux devoirs", 15000, 40000),
        ),
    },
    "language-schools": {
        "en": ("Language School", "Language Centre", "Languages Academy"),
        "fr": ("École de Langues", "Centre de Langues"),
        "w": 0.5,
        "what": (
            "English, French, Kinyarwanda and Swahili courses",
            "kwigisha Icyongereza, Igifaransa, Ikinyarwanda n'Igiswahili",
            "des cours d'anglais, de français, de kinyarwanda et de swahili",
        ),
        "services": (
            ("English course", "Isomo ry'Icyongereza", "Cours d'anglais", 30000, 100000),
            ("French course", "Isomo ry'Igifaransa", "Cours de français", 30000, 100000),
            ("Kinyarwanda for foreigners", "Ikinyarwanda ku banyamahanga", "Kinyarwanda pour étrangers", 40000, 120000),
            ("Swahili course", "Isomo ry'Igiswahili", "Cours de swahili", 30000, 100000),
            ("IELTS and TOEFL preparation", "Gutegura IELTS na TOEFL", "Préparation IELTS et TOEFL", 50000, 150000),
        ),
    },
    "vocational-training": {
        "en": ("Training Centre", "Skills Centre", "Academy", "Institute"),
        "fr": ("Centre de Formation", "Institut"),
        "w": 0.7,
        "what": (
            "hands-on training in practical trades",
            "gutanga amahugurwa mu myuga itandukanye",
            "des formations pratiques aux métiers",
        ),
        "services": (
            ("Tailoring course", "Amahugurwa yo kudoda", "Formation en couture", 50000, 150000),
            ("Hairdressing course", "Amahugurwa yo gutunganya imisatsi", "Formation en coiffure", 50000, 150000),
            ("Computer course", "Amahugurwa ya mudasobwa", "Formation en informatique", 30000, 100000),
            ("Cooking course", "Amahugurwa yo guteka", "Formation en cuisine", 50000, 150000),
            ("Electrical installation course", "Amahugurwa y'amashanyarazi", "Formation en électricité", 60000, 150000),
        ),
    },
    "accountants": {
        "en": ("Accounting", "Consulting", "Accountants", "Finance & Tax"),
        "fr": ("Cabinet Comptable", "Expertise Comptable", "Conseil"),
        "w": 0.7,
        "what": (
            "bookkeeping, tax returns and business advice",
            "gukora ibaruramari, kumenyekanisha imisoro no kugira inama abacuruzi",
            "la comptabilité, les déclarations fiscales et le conseil",
        ),
        "services": (
            ("Monthly bookkeeping", "Ibaruramari rya buri kwezi", "Tenue de comptabilité mensuelle", 50000, 150000),
            ("RRA tax declaration", "Kumenyekanisha imisoro muri RRA", "Déclaration fiscale RRA", 20000, 80000),
            ("Business registration", "Kwandikisha ikigo muri RDB", "Enregistrement d'entreprise", 20000, 60000),
            ("Financial statements", "Raporo z'imari", "États financiers", 80000, 150000),
            ("Payroll services", "Gutegura imishahara", "Gestion de la paie", 30000, 100000),
        ),
    },
    "lawyers": {
        "en": ("Law Firm", "Legal Services", "Advocates", "Chambers"),
        "fr": ("Cabinet d'Avocats", "Étude Notariale"),
        "w": 0.6,
        "what": (
            "legal advice, contracts and notary services",
            "kugira inama mu by'amategeko, gutegura amasezerano no gutanga serivisi za noteri",
            "le conseil juridique, les contrats et les actes notariés",
        ),
        "services": (
            ("Legal consultation", "Inama mu by'amategeko", "Consultation juridique", 30000, 100000),
            ("Contract drafting", "Gutegura amasezerano", "Rédaction de contrats", 50000, 150000),
            ("Notary services", "Serivisi za noteri", "Services notariaux", 10000, 50000),
            ("Land transfer", "Guhererekanya ubutaka", "Mutation foncière", 50000, 150000),
            ("Court representation", "Kuburanira abakiriya mu rukiko", "Représentation en justice", 100000, 150000),
        ),
    },
    "cleaning": {
        "en": ("Cleaning Services", "Cleaners", "Cleaning", "Hygiene Services"),
        "fr": ("Nettoyage", "Services de Propreté"),
        "what": (
            "cleaning for homes, offices and events",
            "gusukura ingo, ibiro n'aho ibirori bibera",
            "le nettoyage de maisons, de bureaux et d'événements",
        ),
        "services": (
            ("House cleaning", "Gusukura inzu", "Nettoyage de maison", 15000, 60000),
            ("Office cleaning", "Gusukura ibiro", "Nettoyage de bureaux", 30000, 150000),
            ("Sofa and carpet cleaning", "Koza intebe n'amatapi", "Nettoyage de canapés et tapis", 10000, 50000),
            ("Fumigation", "Gutera imiti yica udukoko", "Désinsectisation", 20000, 100000),
            ("After-construction cleaning", "Gusukura nyuma yo kubaka", "Nettoyage après travaux", 50000, 150000),
        ),
    },
    "movers": {
        "en": ("Movers", "Transport", "Logistics", "Moving Services"),
        "fr": ("Déménagement", "Transport"),
        "what": (
            "moving, transport and delivery",
            "kwimura ibintu, gutwara imizigo no kugeza ibicuruzwa ku bakiriya",
            "le déménagement, le transport et la livraison",
        ),
        "services": (
            ("House moving in Kigali", "Kwimura ibintu by'inzu i Kigali", "Déménagement à Kigali", 50000, 150000),
            ("Truck hire", "Gukodesha ikamyo", "Location de camion", 40000, 150000),
            ("Parcel delivery", "Kugeza ibipfunyika", "Livraison de colis", 2000, 10000),
            ("Office relocation", "Kwimura ibiro", "Déménagement de bureaux", 80000, 150000),
            ("Packing service", "Gupakira ibintu", "Service d'emballage", 20000, 60000),
        ),
    },
    "security": {
        "en": ("Security", "Security Services", "Guards", "Protection"),
        "fr": ("Sécurité", "Gardiennage"),
        "w": 0.5,
        "h24": 0.5,
        "what": (
            "trained guards and security systems",
            "gutanga abazamu batojwe no gushyiraho ibikoresho by'umutekano",
            "des agents formés et des systèmes de sécurité",
        ),
        "services": (
            ("Day guard (monthly)", "Umuzamu w'amanywa (ukwezi)", "Gardien de jour (mensuel)", 80000, 150000),
            ("Night guard (monthly)", "Umuzamu w'ijoro (ukwezi)", "Gardien de nuit (mensuel)", 90000, 150000),
            ("CCTV installation", "Gushyiraho kamera z'umutekano", "Installation de vidéosurveillance", 50000, 150000),
            ("Event security", "Umutekano mu birori", "Sécurité d'événements", 30000, 150000),
            ("Alarm systems", "Ibikoresho bitabaza", "Systèmes d'alarme", 40000, 150000),
        ),
    },
}

# Services for a sub-category this file does not know (a category added later): still plausible.
GENERIC_SERVICES = (
    ("Consultation", "Kugira inama", "Consultation", 5000, 30000),
    ("Home visit", "Kugusanga mu rugo", "Déplacement à domicile", 5000, 20000),
    ("Standard service", "Serivisi isanzwe", "Service standard", 5000, 50000),
    ("Express service", "Serivisi yihuse", "Service express", 10000, 80000),
)

# --- Descriptions (2–3 sentences per language) --------------------------------------------------------
DESC_EN_INTRO = (
    "{name} offers {what} in {sector}, {district}.",
    "Based in {sector}, {district}, {name} provides {what}.",
    "{name} is your trusted partner for {what} in {district}.",
)
DESC_EN_SERVICES = ("Our services include {services}.", "We offer {services}.", "Ask us about {services}.")
DESC_EN_CLOSING = (
    "Fair prices and friendly service.",
    "Call or WhatsApp us to book.",
    "Serving customers since {year}.",
    "Quality work, delivered on time.",
    "Walk-ins are welcome.",
)

DESC_RW_INTRO = (
    "{name} ikora ibijyanye no {what} i {sector}, mu Karere ka {district}.",
    "Turi i {sector}, {district}. Dutanga serivisi zo {what}.",
    "{name} ikorera i {sector}, mu Karere ka {district}, ikaba izobereye mu {what}.",
)
DESC_RW_SERVICES = ("Dutanga serivisi zikurikira: {services}.", "Muri serivisi zacu harimo {services}.")
DESC_RW_CLOSING = (
    "Dutanga serivisi nziza ku giciro cyiza.",
    "Muze mutugane!",
    "Duhamagare cyangwa utwandikire kuri WhatsApp.",
    "Murakaza neza!",
    "Dukorera abakiriya kuva mu {year}.",
    "Serivisi yihuse kandi yizewe.",
)

DESC_FR_INTRO = (
    "{name} propose {what} à {sector}, dans le district de {district}.",
    "Situé à {sector} ({district}), {name} vous propose {what}.",
    "{name} est votre partenaire de confiance pour {what} à {district}.",
)
DESC_FR_SERVICES = ("Nos services : {services}.", "Nous proposons notamment : {services}.")
DESC_FR_CLOSING = (
    "Des prix justes et un accueil chaleureux.",
    "Appelez-nous ou écrivez-nous sur WhatsApp.",
    "À votre service depuis {year}.",
    "Travail soigné et rapide.",
    "Avec ou sans rendez-vous.",
)

# --- Customer inquiries -------------------------------------------------------------------------------
INQUIRY_EN = (
    "Hello, how much do you charge for {service}?",
    "Hi, are you available this week for {service}? I am in {sector}.",
    "Good morning. I need {service} at my place in {sector}. Please call me back.",
    "Hello, can you come to {sector} {day}? I am interested in {service}.",
    "Hello, what are your opening hours on Saturday?",
    "I would like to book {service} for {day}. Is that possible?",
    "Do you accept MoMo payment for {service}?",
)
INQUIRY_RW = (
    "Muraho, {service} ni angahe?",
    "Mwiriwe, nifuzaga kumenya igiciro cya: {service}. Mwampamagara?",
    "Mwaramutse, muraboneka iki cyumweru? Ndi i {sector}.",
    "Muraho, mushobora kuza i {sector} {day}? Nkeneye: {service}.",
    "Muraho, mukora ku wa gatandatu no ku cyumweru?",
    "Nifuza kumenya igiciro cya: {service}. Murakoze.",
    "Mwaramutse, ese mwemera kwishyurwa kuri MoMo?",
)
INQUIRY_FR = (
    "Bonjour, quel est votre tarif pour : {service} ?",
    "Bonjour, êtes-vous disponible cette semaine ? J'habite à {sector}. Service souhaité : {service}.",
    "Bonsoir, je souhaiterais un devis pour : {service}. Merci de me rappeler.",
    "Bonjour, êtes-vous ouverts le dimanche ?",
    "Je voudrais réserver « {service} » pour {day}. Est-ce possible ?",
    "Bonjour, acceptez-vous le paiement par MoMo ?",
)
DAYS_EN = ("tomorrow", "on Saturday", "next week", "this afternoon", "on Monday")
DAYS_RW = ("ejo", "ku wa gatandatu", "mu cyumweru gitaha", "uyu munsi nimugoroba", "ku wa mbere")
DAYS_FR = ("demain", "samedi", "la semaine prochaine", "cet après-midi", "lundi")

# --- Reviews ------------------------------------------------------------------------------------------
# (positive: 4–5 stars, mixed: 3, negative: 1–2)
REVIEW_TEXT = {
    "en": (
        (
            "Excellent service, very professional!",
            "Great work and fair prices. Highly recommended.",
            "They came on time and did a clean job.",
            "Friendly staff, I will come back.",
            "Very satisfied with the result.",
            "Fast and reliable, thank you!",
        ),
        (
            "Good service but a bit slow.",
            "Decent work, prices could be lower.",
            "Okay overall, but they were late.",
            "The work is fine, communication could be better.",
        ),
        (
            "Very late and did not answer my calls.",
            "Too expensive for the quality.",
            "Not satisfied, I had to come back twice.",
            "Poor customer service.",
        ),
    ),
    "rw": (
        (
            "Serivisi nziza cyane! Ndabashimira.",
            "Bakora neza kandi ku gihe.",
            "Ni abanyamwuga, ndabagira inama yo kubagana.",
            "Ibiciro byabo ni byiza kandi bakira neza abakiriya.",
            "Nanyuzwe cyane na serivisi yabo.",
            "Murakoze cyane, muri abahanga!",
        ),
        (
            "Ni byiza ariko batinda gato.",
            "Serivisi ni nziza ariko igiciro kiri hejuru gato.",
            "Bakoze neza, ariko bakwiye kunoza itumanaho.",
        ),
        (
            "Batinze cyane kandi ntibitaba telefone.",
            "Igiciro kiri hejuru cyane ugereranyije n'ibyo bakora.",
            "Sinanyuzwe na serivisi yabo.",
            "Bakira nabi abakiriya.",
        ),
    ),
    "fr": (
        (
            "Excellent service, très professionnel !",
            "Travail soigné et prix raisonnables. Je recommande.",
            "Accueil chaleureux, je reviendrai.",
            "Ponctuels et efficaces, merci !",
            "Très satisfait du résultat.",
        ),
        (
            "Bon service mais un peu lent.",
            "Correct, mais les prix pourraient être plus bas.",
            "Le travail est bien fait, mais ils étaient en retard.",
        ),
        (
            "Très en retard et injoignables.",
            "Trop cher pour la qualité.",
            "Pas satisfait du tout.",
            "Accueil désagréable.",
        ),
    ),
}
OWNER_REPLY = {
    "en": (
        (
            "Thank you for your feedback! See you soon.",
            "Thank you, we are happy you liked our service.",
            "Thanks a lot for choosing us!",
        ),
        (
            "We are sorry for the inconvenience. Please call us so we can fix it.",
            "Thank you for telling us, we are working on it.",
        ),
    ),
    "rw": (
        ("Murakoze cyane kutugana!", "Murakoze, tuzahora tubakorera neza.", "Murakoze ku bw'icyizere mutugirira!"),
        ("Tubabajwe n'ikibazo mwagize. Mutuhamagare tugikemure.", "Murakoze kutubwira, tugiye kubikosora."),
    ),
    "fr": (
        ("Merci beaucoup pour votre avis !", "Merci, à très bientôt !", "Merci pour votre confiance !"),
        (
            "Nous sommes désolés. Contactez-nous afin que nous puissions corriger cela.",
            "Merci pour votre retour, nous allons nous améliorer.",
        ),
    ),
}

# --- Analytics ----------------------------------------------------------------------------------------
# Relative frequency of each event type: impressions ≫ views ≫ clicks.
EVENT_MIX = (
    ("search_impression", 62.0),
    ("profile_view", 25.0),
    ("call_click", 4.5),
    ("whatsapp_click", 4.5),
    ("website_click", 1.2),
    ("email_click", 0.8),
    ("inquiry", 2.0),
)
IMPRESSION_SOURCES = (("search", 70.0), ("category", 25.0), ("home", 5.0))
VIEW_SOURCES = (("search", 45.0), ("category", 25.0), ("home", 10.0), ("direct", 20.0))
