"""What the synthetic generator draws from: diagnoses, drugs, MSC providers, tissues, routes, costs, reactions.

Weights are rough shares in a paediatric rheumatology MSC registry; `pick` draws one value from a
weighted table with the generator's own random source, so the same seed gives the same draw.
"""

from decimal import Decimal

from cases.models.common import DAYS_PER_YEAR as REGISTRY_DAYS_PER_YEAR

STUDY_ID_FORMAT = "SYN-{:06d}"
SYNTHETIC = "synthetic"
#: The registry's year, as a float: the generator draws times with `random`, which works in floats.
DAYS_PER_YEAR = float(REGISTRY_DAYS_PER_YEAR)

DIAGNOSES = [
    ("jia", 40),
    ("sle", 25),
    ("mctd", 8),
    ("jdm", 8),
    ("uctd", 6),
    ("ssc", 5),
    ("vasculitis", 4),
    ("other", 4),
]
OTHER_DETAILS = ["Behçet disease", "Chronic recurrent multifocal osteomyelitis", "Sjögren syndrome", "Sarcoidosis"]
JIA_CATEGORIES = [
    ("systemic", 12),
    ("oligo_persistent", 15),
    ("oligo_extended", 10),
    ("poly_rf_negative", 25),
    ("poly_rf_positive", 8),
    ("psoriatic", 8),
    ("enthesitis", 15),
    ("undifferentiated", 7),
]
# (onset age low, high) by diagnosis or JIA category.
ONSET = {
    "systemic": (1, 10),
    "oligo_persistent": (1, 6),
    "oligo_extended": (1, 6),
    "poly_rf_negative": (2, 12),
    "poly_rf_positive": (9, 15),
    "psoriatic": (4, 14),
    "enthesitis": (8, 15),
    "undifferentiated": (2, 14),
    "sle": (8, 16),
    "mctd": (8, 15),
    "jdm": (4, 11),
    "uctd": (6, 15),
    "ssc": (6, 14),
    "vasculitis": (3, 14),
    "other": (3, 14),
}
FEMALE_SHARE = {"sle": 0.85, "mctd": 0.85, "uctd": 0.8, "ssc": 0.75, "jdm": 0.65, "enthesitis": 0.25, "systemic": 0.5}
CRITERIA = {
    "jia": ["ilar"],
    "sle": ["slicc_2012", "slicc_2012", "eular_acr_2019", "acr_1997"],
    "mctd": ["kasukawa", "not_stated"],
    "ssc": ["acr_eular_2013_ssc"],
}
CRITERIA_ITEMS = {
    "sle": ["malar rash", "arthritis", "ANA", "anti-dsDNA", "low complement", "leukopenia", "nephritis", "serositis"],
    "jia": ["arthritis > 6 weeks", "onset before 16"],
    "mctd": ["Raynaud", "swollen hands", "synovitis", "myositis", "anti-RNP"],
}
# drug: (route, dose low, dose high, unit, frequency)
DRUGS = {
    "methotrexate": ("subcutaneous", 10, 25, "mg_per_m2", "weekly"),
    "leflunomide": ("oral", 10, 20, "mg", "daily"),
    "azathioprine": ("oral", 1, 2.5, "mg_per_kg", "daily"),
    "mycophenolate": ("oral", 600, 1200, "mg_per_m2", "twice daily"),
    "sulfasalazine": ("oral", 30, 50, "mg_per_kg", "twice daily"),
    "cyclophosphamide": ("intravenous", 500, 750, "mg_per_m2", "monthly"),
    "hydroxychloroquine": ("oral", 3, 5, "mg_per_kg", "daily"),
    "abatacept": ("intravenous", 10, 10, "mg_per_kg", "every 4 weeks"),
    "tocilizumab": ("intravenous", 8, 12, "mg_per_kg", "every 2 weeks"),
    "rituximab": ("intravenous", 375, 750, "mg_per_m2", "two doses 2 weeks apart"),
    "belimumab": ("intravenous", 10, 10, "mg_per_kg", "every 4 weeks"),
    "etanercept": ("subcutaneous", 0.8, 0.8, "mg_per_kg", "weekly"),
    "adalimumab": ("subcutaneous", 20, 40, "mg", "every 14 days"),
    "infliximab": ("intravenous", 5, 10, "mg_per_kg", "every 8 weeks"),
    "anakinra": ("subcutaneous", 1, 2, "mg_per_kg", "daily"),
    "canakinumab": ("subcutaneous", 4, 4, "mg_per_kg", "every 4 weeks"),
    "tofacitinib": ("oral", 5, 5, "mg", "twice daily"),
    "baricitinib": ("oral", 2, 4, "mg", "daily"),
    "prednisone": ("oral", 5, 40, "mg", "daily"),
    "prednisolone": ("oral", 0.2, 2, "mg_per_kg", "daily"),
    "methylprednisolone": ("intravenous", 10, 30, "mg_per_kg", "3 daily pulses"),
    "triamcinolone": ("intra_articular", 20, 40, "mg", "single injection"),
    "naproxen": ("oral", 5, 10, "mg_per_kg", "twice daily"),
    "ibuprofen": ("oral", 10, 10, "mg_per_kg", "three times daily"),
    "meloxicam": ("oral", 7.5, 15, "mg", "daily"),
    "ivig": ("intravenous", 1, 2, "mg_per_kg", "monthly"),
    "hyperbaric_oxygen": ("not_applicable", 1, 1, "session", "daily for 20 sessions"),
    "red_light": ("not_applicable", 1, 1, "session", "weekly"),
    "pemf": ("not_applicable", 1, 1, "session", "weekly"),
}
# Each diagnosis's usual therapy pool: (drug, probability of having had it).
THERAPY = {
    "jia": [
        ("methotrexate", 0.9),
        ("naproxen", 0.6),
        ("ibuprofen", 0.2),
        ("etanercept", 0.5),
        ("adalimumab", 0.4),
        ("tocilizumab", 0.25),
        ("abatacept", 0.1),
        ("tofacitinib", 0.1),
        ("triamcinolone", 0.5),
        ("prednisolone", 0.3),
        ("leflunomide", 0.1),
    ],
    "systemic": [
        ("anakinra", 0.7),
        ("canakinumab", 0.3),
        ("tocilizumab", 0.6),
        ("methylprednisolone", 0.5),
        ("prednisolone", 0.8),
        ("methotrexate", 0.3),
        ("naproxen", 0.4),
    ],
    "sle": [
        ("hydroxychloroquine", 0.95),
        ("prednisone", 0.85),
        ("mycophenolate", 0.6),
        ("azathioprine", 0.3),
        ("rituximab", 0.3),
        ("belimumab", 0.2),
        ("cyclophosphamide", 0.15),
        ("methylprednisolone", 0.3),
    ],
    "mctd": [("hydroxychloroquine", 0.9), ("methotrexate", 0.6), ("prednisone", 0.7), ("mycophenolate", 0.3)],
    "uctd": [("hydroxychloroquine", 0.9), ("prednisone", 0.4), ("methotrexate", 0.3)],
    "jdm": [
        ("methotrexate", 0.9),
        ("prednisone", 0.9),
        ("methylprednisolone", 0.6),
        ("ivig", 0.4),
        ("hydroxychloroquine", 0.4),
        ("mycophenolate", 0.2),
    ],
    "ssc": [("mycophenolate", 0.8), ("methotrexate", 0.5), ("prednisone", 0.3), ("tocilizumab", 0.1)],
    "vasculitis": [("prednisone", 0.95), ("cyclophosphamide", 0.4), ("rituximab", 0.4), ("azathioprine", 0.5)],
    "other": [("prednisone", 0.6), ("methotrexate", 0.5), ("naproxen", 0.3)],
}
COMPLEMENTARY = [("hyperbaric_oxygen", 0.08), ("red_light", 0.05), ("pemf", 0.04)]
STOPPED_BEFORE = [("inefficacy", 45), ("adverse_effect", 20), ("injection_pain", 10), ("remission", 10), ("cost", 5)]
WITHDRAWAL = [("msc_provider_instruction", "msc_provider", 55), ("family_decision", "family", 35)]

PROVIDERS = [
    # name, country, kind, countries of preparation and administration
    ("Synthetic Regenerative Clinic Alpha", "MX", "commercial_clinic", "US", "MX"),
    ("Synthetic Cell Therapy Institute Beta", "PA", "commercial_clinic", "PA", "PA"),
    ("Synthetic Stem Cell Centre Gamma", "US", "commercial_clinic", "US", "US"),
    ("Synthetic Biologics Delta", "DE", "commercial_clinic", "DE", "DE"),
    ("Synthetic University MSC Trial Epsilon", "CN", "clinical_trial", "CN", "CN"),
]
PROVIDER_WEIGHTS = [35, 25, 20, 10, 10]
# tissue: (weight, donor types, harvest)
TISSUES = {
    "umbilical_cord": (35, ["allogeneic_unrelated", "allogeneic"], "cord after caesarean birth"),
    "adipose": (25, ["autologous"], "liposuction"),
    "bone_marrow": (15, ["autologous", "allogeneic_related"], "iliac crest aspirate"),
    "whartons_jelly": (10, ["allogeneic_unrelated"], "cord after birth"),
    "placenta": (5, ["allogeneic_unrelated"], ""),
    "unknown": (10, ["unknown"], ""),
}
ROUTES = [
    ("intravenous", 60),
    ("intra_articular", 12),
    ("intrathecal", 5),
    ("intranasal", 5),
    ("intramuscular", 5),
    ("lymph_node", 3),
    ("intraosseous", 3),
    ("other", 2),
    ("unknown", 5),
]
ADMINISTRATION_COUNT = [(1, 25), (2, 25), (3, 20), (4, 15), (5, 8), (6, 7)]
CURRENCIES = [("USD", 60), ("MXN", 15), ("EUR", 15), ("CAD", 5), ("GBP", 5)]
COST_PER_ADMIN = {"USD": (3000, 25000), "MXN": (60000, 450000), "EUR": (3000, 22000), "CAD": (4000, 30000)}
COST_PER_ADMIN["GBP"] = (2500, 20000)
FUNDING = [
    ("savings", 0.6),
    ("sold_property_or_car", 0.12),
    ("remortgage", 0.08),
    ("loan", 0.15),
    ("crowdfunding", 0.2),
    ("insurance", 0.03),
]
# Early reactions to an administration: (category, description, weight)
REACTIONS = [
    ("fever_flu_like", "flu-like symptoms", 35),
    ("infusion_reaction", "infusion reaction (flushing, rigors)", 15),
    ("local_pain", "pain at the injection site", 20),
    ("fatigue", "fatigue for several days", 20),
    ("other", "headache", 10),
]


# Values rounded as the models store them.
def dec1(x):
    return Decimal(f"{x:.1f}")


def dec2(x):
    return Decimal(f"{x:.2f}")


def dec3(x):
    return Decimal(f"{x:.3f}")


def pick(rng, weighted):
    """One value of [(value, weight), ...] (or [(value, ..., weight)])."""
    total = sum(item[-1] for item in weighted)
    r = rng.random() * total
    for item in weighted:
        r -= item[-1]
        if r < 0:
            return item[0] if len(item) == 2 else item
    return weighted[-1][0] if len(weighted[-1]) == 2 else weighted[-1]
