"""A synthetic registry: clinically plausible, obviously fake cases, reproducible for a seed, fast.

`generate(patients, seed, centre_code)` fills one centre marked `is_synthetic` with generated cases:
diagnoses (JIA by ILAR category, SLE, MCTD, JDM...), medication histories in which conventional
therapy is stopped around the first MSC (by the provider or the family, often without the team
knowing), MSC products from a few synthetic providers, 1-6 administrations each with cells,
weight, dose and route, adverse events graded by CTCAE (mostly grade 1-2, rarely serious), flares
linked to the withdrawals that preceded them, assessments before and after MSC with the source of
each value, and costs. Every study ID reads SYN-000001..., every record is abstracted from
"synthetic", and the generator refuses a centre that is not marked synthetic: generated data never
mixes with real cases.

Same seed, same data: every value comes from one `random.Random(seed)` consumed in case order, and
no value comes from the clock (times are ages and offsets from the first MSC, never dates). Only
the audit rows carry the real time of writing, as an audit trail must.

Speed: a chunk of cases at a time, in one transaction, so a failure leaves nothing behind, and inside
`cases.audit.history_writing_bulk()` (the only place the audited querysets allow a bulk write). On
PostgreSQL rows and their creation rows in the audit history are streamed with COPY
(`synthetic.bulk_copy`, which spares bulk_create's per-value work in Python); elsewhere they go through
`bulk_create` and the historical model's `bulk_history_create`. Either way the many-to-many history
(funding sources, flares' preceding withdrawals) is written too, so each creation row is complete.
"""

import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from concurrency.api import disable_concurrency
from django.db import connection, transaction
from django.utils import timezone

from cases.audit import history_writing_bulk
from cases.kinds import CASE_MODELS
from cases.models import (
    AdverseEvent,
    Assessment,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    PreviousDiagnosis,
    common,
)
from cases.models.medication import DEFAULT_CLASS
from registry.models import Centre

from . import bulk_copy

DEFAULT_CENTRE = "SYNTHETIC"
STUDY_ID_FORMAT = "SYN-{:06d}"
SYNTHETIC = "synthetic"
#: The registry's year (a Decimal in cases.models.common) as a float: the generator draws and sums
#: ages as floats, and only the values it stores are rounded to Decimals.
DAYS_PER_YEAR = float(common.DAYS_PER_YEAR)
CHANGE_REASON = "Synthetic data (generate_synthetic, seed {seed})"


class SyntheticError(Exception):
    """The generator refuses to run (a real centre, or a centre that already holds cases)."""


# ---------------------------------------------------------------------------------------------
# Vocabulary of the generator: weights are rough shares in a paediatric rheumatology MSC registry.

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


# ---------------------------------------------------------------------------------------------


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


def weight_for_age(rng, age):
    """A child's weight in kg, roughly along the growth charts, with spread."""
    base = 3.5 + 7 * age if age < 2 else 8 + 2.6 * age + (0.9 * (age - 10) ** 2 if age > 10 else 0) * 0.3
    return min(110.0, max(6.0, base * rng.uniform(0.8, 1.25)))


@dataclass
class Case:
    """One generated case before it is written: the records, and the links between them by index."""

    patient: Patient
    funding: list = field(default_factory=list)
    previous: list = field(default_factory=list)
    medications: list = field(default_factory=list)
    products: list = field(default_factory=list)
    administrations: list = field(default_factory=list)  # (product index, MscAdministration)
    events: list = field(default_factory=list)  # (AdverseEvent, administration index or None, [medication index])
    assessments: list = field(default_factory=list)


class CaseGenerator:
    def __init__(self, seed, centre, providers):
        self.rng = random.Random(seed)
        self.centre = centre
        self.providers = providers

    # Times are days from the first MSC, and the age they give.
    def age_at(self, days):
        return dec1(self.msc_age + days / DAYS_PER_YEAR)

    def case(self, number):
        rng = self.rng
        diagnosis = pick(rng, DIAGNOSES)
        category = pick(rng, JIA_CATEGORIES) if diagnosis == "jia" else ""
        kind = category or diagnosis
        low, high = ONSET[kind]
        onset = rng.uniform(low, high)
        diagnosed = onset + rng.uniform(0.1, 1.5)
        self.msc_age = msc_age = min(21.0, diagnosed + rng.uniform(1.0, 7.0))
        follow_up_days = rng.randint(180, 1460)
        female = rng.random() < FEMALE_SHARE.get(kind, 0.6)
        sle_like = diagnosis in ("sle", "mctd", "uctd")
        ana_positive = sle_like or diagnosis in ("jdm", "ssc") or (kind.startswith("oligo") and rng.random() < 0.7)
        currency = pick(rng, CURRENCIES)
        decision = pick(
            rng,
            [
                ("family_decision", 55),
                ("against_medical_advice", 20),
                ("referred_by_team", 4),
                ("clinical_trial", 6),
                ("unknown", 15),
            ],
        )
        team_knew = (
            "yes"
            if decision in ("referred_by_team", "clinical_trial", "against_medical_advice")
            else pick(rng, [("no", 55), ("yes", 25), ("unknown", 20)])
        )
        patient = Patient(
            centre=self.centre,
            study_id=STUDY_ID_FORMAT.format(number),
            sex="female" if female else "male",
            diagnosis=diagnosis,
            diagnosis_detail=rng.choice(OTHER_DETAILS) if diagnosis == "other" else "",
            jia_category=category,
            classification_criteria=rng.choice(CRITERIA.get(diagnosis, ["not_stated"])),
            criteria_items=", ".join(
                rng.sample(CRITERIA_ITEMS[diagnosis], k=min(len(CRITERIA_ITEMS[diagnosis]), rng.randint(2, 5)))
            )
            if diagnosis in CRITERIA_ITEMS
            else "",
            age_at_onset_years=dec1(onset),
            age_at_diagnosis_years=dec1(diagnosed),
            age_at_last_follow_up_years=dec1(msc_age + follow_up_days / DAYS_PER_YEAR),
            family_history=rng.choice(
                ["", "", "", "Maternal hypothyroidism", "Aunt with SLE", "Father with psoriasis"]
            ),
            ana_titre=rng.choice([160, 320, 640, 1280, 2560]) if ana_positive else None,
            ana_pattern=rng.choice(["speckled", "homogeneous"]) if ana_positive else "",
            anti_dsdna=("positive" if rng.random() < 0.7 else "negative") if diagnosis == "sle" else "not_tested",
            anti_ena="positive" if diagnosis == "mctd" else rng.choice(["negative", "not_tested", "unknown"]),
            anti_rnp="positive" if diagnosis == "mctd" else rng.choice(["negative", "not_tested"]),
            rheumatoid_factor="positive" if category == "poly_rf_positive" else rng.choice(["negative", "not_tested"]),
            anti_ccp="positive" if category == "poly_rf_positive" and rng.random() < 0.6 else "not_tested",
            hla_b27=("positive" if rng.random() < 0.7 else "negative") if category == "enthesitis" else "not_tested",
            msc_decision=decision,
            team_knew_before_msc=team_knew,
            team_counselled_against=pick(rng, [("yes", 60), ("no", 15), ("unknown", 25)]) if team_knew == "yes" else "",
            provider_communicated_with_team=pick(rng, [("no", 75), ("yes", 10), ("unknown", 15)]),
            conventional_therapy_refused_after_msc=pick(rng, [("no", 50), ("yes", 30), ("unknown", 20)]),
            paid_out_of_pocket=pick(rng, [("yes", 85), ("no", 5), ("unknown", 10)]),
            total_cost_currency="",
            abstracted_from=SYNTHETIC,
            source_passage="Generated by generate_synthetic; not a real patient.",
            version=1,
        )
        case = Case(patient)
        case.funding = [code for code, p in FUNDING if rng.random() < p]

        if diagnosis in ("sle", "mctd") and rng.random() < 0.35:
            earlier = rng.choice(["uctd", "jia"])
            case.previous.append(
                PreviousDiagnosis(
                    patient=patient,
                    diagnosis=earlier,
                    age_years=dec1(onset + rng.uniform(0, diagnosed - onset)),
                    timing_precision="year",
                    note="Revised when new features appeared.",
                    abstracted_from=SYNTHETIC,
                    version=1,
                )
            )

        withdrawn = self.medications(case, kind, diagnosed)
        administrations = self.msc(case, currency, follow_up_days)
        self.events(case, administrations, withdrawn, follow_up_days)
        self.assessments(case, diagnosis, kind, follow_up_days)

        costs = [a.cost_amount for _, a in case.administrations if a.cost_amount is not None]
        if costs and rng.random() < 0.85:
            patient.total_cost_amount = dec2(float(sum(costs)) * rng.uniform(1.05, 1.4))  # with travel
            patient.total_cost_currency = currency
            patient.total_cost_estimated = rng.random() < 0.4
            patient.cost_notes = "Includes travel and accommodation." if rng.random() < 0.5 else ""
        return case

    def medications(self, case, kind, diagnosed):
        """Courses before MSC; those running at MSC are often stopped around it. Returns the
        indices of the courses withdrawn around MSC."""
        rng = self.rng
        pool = THERAPY.get(kind) or THERAPY[case.patient.diagnosis]
        if case.patient.diagnosis == "jia" and kind != "systemic":
            pool = THERAPY["jia"]
        chosen = [drug for drug, p in pool + COMPLEMENTARY if rng.random() < p]
        if not chosen:
            chosen = [pool[0][0]]
        disease_days = max(60, int((self.msc_age - diagnosed) * DAYS_PER_YEAR))
        withdrawn = []
        for drug in chosen:
            route, low, high, unit, frequency = DRUGS[drug]
            start = -rng.randint(45, disease_days)
            course = MedicationCourse(
                patient=case.patient,
                drug=drug,
                drug_class=DEFAULT_CLASS.get(drug, "other"),
                route=route,
                dose=dec3(rng.uniform(low, high)) if unit != "session" else Decimal("1.000"),
                dose_unit=unit,
                frequency=frequency,
                start_days_from_first_msc=start,
                start_offset_unit="days",
                start_age_years=self.age_at(start),
                start_precision=rng.choice(["month", "month", "year", "day"]),
                start_estimated=rng.random() < 0.3,
                abstracted_from=SYNTHETIC,
                version=1,
            )
            fate = rng.random()
            if drug in ("triamcinolone", "methylprednisolone", "rituximab", "cyclophosphamide", "hyperbaric_oxygen"):
                stop = min(-1, start + rng.randint(1, 180))
                self.stop(course, stop, "course_completed", "rheumatology_team", "yes", "before")
            elif fate < 0.3:  # stopped by the team well before MSC
                stop = rng.randint(start, -30)
                reason = pick(rng, STOPPED_BEFORE)
                self.stop(course, stop, reason, "rheumatology_team", "yes", "before")
            elif fate < 0.8:  # stopped around the first MSC, the paper's concern
                reason, decided, _ = pick(rng, WITHDRAWAL)
                stop = max(start, rng.randint(-60, 30))
                knew = pick(rng, [("no", 55), ("yes", 25), ("unknown", 20)])
                self.stop(course, stop, reason, decided, knew, "before" if stop < 0 else "concomitant")
                course.note = "Stopped on the MSC provider's advice." if decided == "msc_provider" else ""
                withdrawn.append(len(case.medications))
            else:  # continued through MSC
                course.relation_to_msc = "concomitant"
                course.is_ongoing = True
                course.is_confounder = DEFAULT_CLASS.get(drug) in ("bdmard", "gc_systemic", "tsdmard")
            case.medications.append(course)
        return withdrawn

    def stop(self, course, days, reason, decided_by, knew, relation):
        course.stop_days_from_first_msc = days
        course.stop_offset_unit = "days"
        course.stop_age_years = self.age_at(days)
        course.stop_precision = course.start_precision
        course.reason_stopped = reason
        course.stop_decided_by = decided_by
        course.team_knew_of_stop = knew
        course.relation_to_msc = relation

    def msc(self, case, currency, follow_up_days):
        rng = self.rng
        n = pick(rng, ADMINISTRATION_COUNT)
        n_products = 1 if n == 1 else pick(rng, [(1, 65), (2, 28), (3, 7)])
        n_products = min(n, n_products)
        provider_index = pick(rng, [(i, w) for i, w in enumerate(PROVIDER_WEIGHTS)])
        for p in range(n_products):
            provider = self.providers[provider_index if rng.random() < 0.8 else rng.randrange(len(self.providers))]
            meta = next(row for row in PROVIDERS if row[0] == provider.name)
            tissue = pick(rng, [(t, w) for t, (w, _, _) in TISSUES.items()])
            _, donors, harvest = TISSUES[tissue]
            regulated = provider.kind == "clinical_trial"
            case.products.append(
                MscProduct(
                    patient=case.patient,
                    label=f"{tissue.replace('_', ' ')} MSC, course {p + 1}",
                    provider=provider,
                    tissue_source=tissue,
                    donor_type=rng.choice(donors),
                    harvest_procedure=harvest,
                    preparation_country=meta[3],
                    administration_country=meta[4],
                    passage_number=rng.randint(2, 6) if rng.random() < 0.3 else None,
                    viability_percent=dec2(rng.uniform(85, 99)) if rng.random() < 0.3 else None,
                    isct_phenotype_confirmed=pick(rng, [("unknown", 70), ("yes", 25), ("no", 5)]),
                    sterility_tested=pick(rng, [("unknown", 60), ("yes", 35), ("no", 5)]),
                    storage=pick(rng, [("unknown", 50), ("cryopreserved", 30), ("fresh", 20)]),
                    regulatory_status="clinical_trial"
                    if regulated
                    else pick(rng, [("unregulated_commercial", 80), ("unknown", 20)]),
                    provider_claims=rng.choice(["", "Claims to 'reset the immune system'.", "Claims remission."]),
                    abstracted_from=SYNTHETIC,
                    version=1,
                )
            )
        days = 0
        administrations = []
        for seq in range(1, n + 1):
            if seq > 1:
                days += rng.randint(14, max(15, follow_up_days // (n + 1)))
            product_index = min(n_products - 1, (seq - 1) * n_products // n)
            route = pick(rng, ROUTES)
            age = self.msc_age + days / DAYS_PER_YEAR
            weight = weight_for_age(rng, age)
            if route == "intravenous":
                cells = weight * rng.uniform(0.5, 2.5)
            else:
                cells = rng.choice([10, 20, 25, 30, 50, 100]) * rng.uniform(0.9, 1.1)
            reported = None
            if rng.random() < 0.4:
                reported = cells / weight * (rng.uniform(1.3, 2.0) if rng.random() < 0.05 else 1.0)
            cost_low, cost_high = COST_PER_ADMIN[currency]
            administration = MscAdministration(
                product=case.products[product_index],
                sequence=seq,
                route=route,
                anatomical_site="both knees" if route == "intra_articular" else "",
                cells_millions=dec2(cells),
                volume_ml=dec2(rng.uniform(2, 100)) if rng.random() < 0.3 else None,
                weight_kg=dec2(weight),
                reported_dose_millions_per_kg=dec3(reported) if reported else None,
                days_from_first_msc=days,
                offset_unit="days",
                age_years=self.age_at(days),
                timing_precision=rng.choice(["day", "week", "month"]),
                timing_estimated=rng.random() < 0.25,
                country=case.products[product_index].administration_country,
                cost_amount=dec2(rng.uniform(cost_low, cost_high)) if rng.random() < 0.8 else None,
                cost_currency=currency,
                paid_by=pick(rng, [("family", 80), ("charity", 8), ("insurance", 2), ("unknown", 10)]),
                team_informed_before=pick(rng, [("no", 50), ("yes", 30), ("unknown", 20)]),
                abstracted_from=SYNTHETIC,
                version=1,
            )
            if administration.cost_amount is None:
                administration.cost_currency = ""
            case.administrations.append((product_index, administration))
            administrations.append(administration)
        return administrations

    def event(self, case, days, **values):
        return AdverseEvent(
            patient=case.patient,
            onset_days_from_first_msc=days,
            onset_offset_unit="days",
            onset_age_years=self.age_at(days),
            onset_precision=self.rng.choice(["day", "week"]),
            abstracted_from=SYNTHETIC,
            version=1,
            **values,
        )

    def events(self, case, administrations, withdrawn, follow_up_days):
        rng = self.rng
        for index, administration in enumerate(administrations):
            if rng.random() < 0.4:  # an early reaction, mostly mild
                category, description, _ = pick(rng, REACTIONS)
                grade = pick(rng, [(1, 70), (2, 26), (3, 4)])
                values = dict(
                    description=description,
                    category=category,
                    ctcae_grade=grade,
                    attribution=pick(rng, [("probable", 40), ("possible", 35), ("definite", 10), ("not_assessed", 15)]),
                    attributed_by=pick(rng, [("rheumatology_team", 50), ("msc_provider", 30), ("family", 20)]),
                    action_taken=pick(rng, [("not_changed", 70), ("unknown", 20), ("withdrawn", 10)]),
                    outcome=pick(rng, [("recovered", 85), ("unknown", 15)]),
                    duration_days=rng.randint(1, 7),
                    treatment=rng.choice(["", "paracetamol", "ibuprofen"]),
                    reported_by=pick(rng, [("family", 60), ("msc_provider", 20), ("rheumatology_team", 20)]),
                )
                if category == "fever_flu_like" and rng.random() < 0.2:
                    values["attribution_note"] = "The provider called it a detoxification reaction."
                case.events.append(
                    (self.event(case, administration.days_from_first_msc + rng.randint(0, 3), **values), index, [])
                )
            serious = rng.random()
            if serious < 0.02:  # a serious infection needing admission
                days = administration.days_from_first_msc + rng.randint(2, 30)
                values = dict(
                    description=rng.choice(["bacteraemia", "pneumonia", "cellulitis at the injection site"]),
                    category="infection",
                    ctcae_grade=3,
                    required_hospitalisation=True,
                    attribution=pick(rng, [("possible", 60), ("probable", 30), ("unlikely", 10)]),
                    attributed_by="rheumatology_team",
                    action_taken=pick(rng, [("withdrawn", 60), ("not_applicable", 40)]),
                    outcome=pick(rng, [("recovered", 85), ("sequelae", 10), ("recovering", 5)]),
                    duration_days=rng.randint(5, 21),
                    treatment="intravenous antibiotics",
                    reported_by="rheumatology_team",
                )
                case.events.append((self.event(case, days, **values), index, []))
            elif serious < 0.024:  # a thromboembolism after an infusion: life-threatening, or fatal
                fatal = rng.random() < 0.1
                values = dict(
                    description="pulmonary embolism"
                    if administration.route == "intravenous"
                    else "deep vein thrombosis",
                    category="thromboembolism",
                    ctcae_grade=5 if fatal else 4,
                    life_threatening=True,
                    resulted_in_death=fatal,
                    required_hospitalisation=True,
                    attribution="probable",
                    attributed_by="rheumatology_team",
                    action_taken="withdrawn",
                    outcome="fatal" if fatal else "recovered",
                    duration_days=None if fatal else rng.randint(10, 60),
                    treatment="anticoagulation",
                    reported_by="rheumatology_team",
                )
                case.events.append((self.event(case, administration.days_from_first_msc + 1, **values), index, []))
        # Flares after withdrawals: the later the stop, the likelier a flare months after it.
        if withdrawn and rng.random() < 0.55:
            stops = [case.medications[i].stop_days_from_first_msc for i in withdrawn]
            days = min(follow_up_days, max(stops) + rng.randint(30, 240))
            grade = pick(rng, [(2, 55), (3, 40), (4, 5)])
            after = [i for i, a in enumerate(administrations) if a.days_from_first_msc <= days]
            values = dict(
                description=rng.choice(["polyarticular flare", "disease flare", "flare with fever and rash"]),
                category="disease_flare",
                ctcae_grade=grade,
                required_hospitalisation=grade >= 3 and rng.random() < 0.6,
                life_threatening=grade == 4,
                attribution=pick(rng, [("unrelated", 40), ("unlikely", 40), ("not_assessed", 20)]),
                attributed_by="rheumatology_team",
                attribution_note="After stopping conventional therapy.",
                action_taken="not_applicable",
                outcome=pick(rng, [("recovered", 50), ("recovering", 30), ("not_recovered", 20)]),
                treatment=rng.choice(["prednisone restarted", "methylprednisolone pulses", "methotrexate restarted"]),
                reported_by="rheumatology_team",
            )
            links = [i for i in withdrawn if rng.random() < 0.8] or withdrawn[:1]
            refused = case.patient.conventional_therapy_refused_after_msc == "yes"
            for i in links:  # the team restarts what was stopped, unless the family refuses
                if refused or rng.random() < 0.3:
                    continue
                stopped = case.medications[i]
                start = days + rng.randint(0, 14)
                case.medications.append(
                    MedicationCourse(
                        patient=case.patient,
                        drug=stopped.drug,
                        drug_class=stopped.drug_class,
                        route=stopped.route,
                        dose=stopped.dose,
                        dose_unit=stopped.dose_unit,
                        frequency=stopped.frequency,
                        relation_to_msc="after",
                        is_ongoing=True,
                        start_days_from_first_msc=start,
                        start_offset_unit="days",
                        start_age_years=self.age_at(start),
                        start_precision="month",
                        note="Restarted after the flare.",
                        abstracted_from=SYNTHETIC,
                        version=1,
                    )
                )
            case.events.append((self.event(case, days, **values), after[-1] if after else None, links))

    def assessments(self, case, diagnosis, kind, follow_up_days):
        rng = self.rng
        times = [("before_msc", -rng.randint(1, 60))]
        for months in (1, 3, 6, 12, 24):
            day = int(months * 30.4375) + rng.randint(-7, 7)
            if day < follow_up_days - 30 and rng.random() < 0.75:
                times.append(("after_msc", day))
        times.append(("follow_up", follow_up_days))
        activity = rng.uniform(0.5, 1.0)  # baseline disease activity, 0-1
        jadas_variant, jadas_max = rng.choice([("jadas10", 40), ("cjadas10", 30), ("jadas27", 57), ("jadas71", 101)])
        for timepoint, day in times:
            if timepoint != "before_msc":
                activity = min(1.0, max(0.0, activity + rng.uniform(-0.25, 0.2)))
            family_view = max(0.0, activity - rng.uniform(0, 0.4)) if timepoint != "before_msc" else activity
            a = Assessment(
                patient=case.patient,
                timepoint=timepoint,
                days_from_first_msc=day,
                offset_unit="days",
                age_years=self.age_at(day),
                timing_precision=rng.choice(["day", "month"]),
                patient_global=dec1(10 * family_view),
                patient_global_source=pick(rng, [("family_reported", 80), ("provider_reported", 20)]),
                physician_global=dec1(10 * activity) if rng.random() < 0.7 else None,
                esr_mm_per_h=int(5 + 80 * activity * rng.uniform(0.5, 1.2)) if rng.random() < 0.7 else None,
                crp_mg_per_l=dec1(60 * activity * rng.uniform(0.2, 1.2)) if rng.random() < 0.6 else None,
                abstracted_from=SYNTHETIC,
                version=1,
            )
            if a.physician_global is not None:
                a.physician_global_source = "team_documented"
            if a.esr_mm_per_h is not None:
                a.esr_source = "laboratory"
            if a.crp_mg_per_l is not None:
                a.crp_source = "laboratory"
            if diagnosis == "jia":
                a.jadas, a.jadas_variant = dec1(jadas_max * activity * 0.6), jadas_variant
                a.jadas_source = "team_documented"
            elif diagnosis in ("sle", "mctd"):
                a.sledai2k = int(24 * activity)
                a.sledai2k_source = "team_documented"
                if rng.random() < 0.4:
                    a.ana_titre, a.ana_source = rng.choice([80, 160, 320, 640]), "laboratory"
            elif diagnosis == "ssc":
                a.mrss, a.mrss_source = dec1(30 * activity), "team_documented"
            elif diagnosis == "jdm":
                a.ck_u_per_l, a.ck_source = int(100 + 4000 * activity**2), "laboratory"
            if timepoint != "before_msc" and rng.random() < 0.3:
                a.clinical_findings = rng.choice(
                    ["Family reports more energy.", "Persistent synovitis on examination.", "Rash improved."]
                )
            case.assessments.append(a)


# ---------------------------------------------------------------------------------------------


def synthetic_centre(code, create=True):
    """The synthetic centre named `code`, created when missing; a real centre is refused."""
    centre = Centre.objects.filter(code=code).first()
    if centre is None:
        if not create:
            raise SyntheticError(f"No centre {code}.")
        return Centre.objects.create(
            code=code, name=f"Synthetic registry {code} (generated, not real patients)", country="XX", is_synthetic=True
        )
    if not centre.is_synthetic:
        raise SyntheticError(
            f"Centre {code} holds real cases (is_synthetic is off): synthetic data is never written into it."
        )
    return centre


def synthetic_providers(seed):
    providers = []
    for name, country, kind, _, _ in PROVIDERS:
        provider = MscProvider.objects.filter(name=name, country=country).first()
        if provider is None:
            provider = MscProvider(name=name, country=country, kind=kind, abstracted_from=SYNTHETIC)
            provider._change_reason = CHANGE_REASON.format(seed=seed)
            provider.save()
        providers.append(provider)
    return providers


def _bulk(model, objs, history_date, reason):
    """Insert `objs` and their creation rows in the audit history. Returns {pk: history_id}."""
    if bulk_copy.available():
        return bulk_copy.create_with_history(model, objs, history_date, reason)
    if not objs:
        return {}
    model._default_manager.bulk_create(objs, batch_size=2000)
    history = model.history.bulk_history_create(
        objs, batch_size=2000, default_date=history_date, default_change_reason=reason
    )
    return {row.id: row.history_id for row in history}


def _bulk_m2m(model, field_name, links, history_ids):
    """Write many-to-many links [(owner pk, target pk), ...] and copy them into the owners' creation rows."""
    if bulk_copy.available():
        return bulk_copy.link_with_history(model, field_name, links, history_ids)
    if not links:
        return
    m2m_field = model._meta.get_field(field_name)
    through = m2m_field.remote_field.through
    owner_attr = f"{m2m_field.m2m_field_name()}_id"
    target_attr = f"{m2m_field.m2m_reverse_field_name()}_id"
    rows = [through(**{owner_attr: owner, target_attr: target}) for owner, target in links]
    through.objects.bulk_create(rows, batch_size=5000)
    history_model = getattr(model.history.model, field_name).model
    history_model.objects.bulk_create(
        [
            history_model(
                history_id=history_ids[getattr(row, owner_attr)],
                id=row.id,
                **{owner_attr: getattr(row, owner_attr), target_attr: getattr(row, target_attr)},
            )
            for row in rows
        ],
        batch_size=5000,
    )


def write(cases, history_date, reason):
    """Write a chunk of generated cases, parents before children, each with its history."""
    patients = [c.patient for c in cases]
    history = _bulk(Patient, patients, history_date, reason)
    _bulk_m2m(Patient, "funding_sources", [(c.patient.pk, code) for c in cases for code in c.funding], history)
    _bulk(PreviousDiagnosis, [r for c in cases for r in c.previous], history_date, reason)
    _bulk(MedicationCourse, [r for c in cases for r in c.medications], history_date, reason)
    _bulk(MscProduct, [r for c in cases for r in c.products], history_date, reason)
    _bulk(MscAdministration, [a for c in cases for _, a in c.administrations], history_date, reason)
    for c in cases:
        for event, index, _ in c.events:
            if index is not None:
                event.administration = c.administrations[index][1]
    events = [e for c in cases for e, _, _ in c.events]
    event_history = _bulk(AdverseEvent, events, history_date, reason)
    _bulk_m2m(
        AdverseEvent,
        "preceding_withdrawals",
        [(e.pk, c.medications[i].pk) for c in cases for e, _, links in c.events for i in links],
        event_history,
    )
    _bulk(Assessment, [r for c in cases for r in c.assessments], history_date, reason)


def refresh_statistics():
    """Tell the database planner what was just written.

    After a bulk load PostgreSQL still believes the tables are nearly empty until autovacuum gets to
    them, and picks nested loops over sequential scans, which makes the case list's count query many
    times slower until ANALYZE has run. VACUUM also sets the visibility map, so
    counts can be answered from indexes; it cannot run inside a transaction, so within one (tests,
    or a caller's atomic block) only ANALYZE runs."""
    tables = []
    for model in CASE_MODELS:
        tables += [model._meta.db_table, model.history.model._meta.db_table]
        tables += [f.remote_field.through._meta.db_table for f in model._meta.local_many_to_many]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            cursor.execute(f"{command} {', '.join(connection.ops.quote_name(t) for t in tables)}")
        else:
            cursor.execute("ANALYZE")


@dataclass
class Result:
    centre: Centre
    patients: int
    records: dict
    seconds: float

    @property
    def total_records(self):
        return sum(self.records.values())


def generate(patients, seed, centre_code=DEFAULT_CENTRE, chunk_size=1000):
    """Generate `patients` synthetic cases into the synthetic centre `centre_code`, in one transaction."""
    if patients < 1:
        raise SyntheticError("Ask for at least one patient.")
    started = time.perf_counter()
    history_date = timezone.now()  # the real time of writing, for the audit rows only
    reason = CHANGE_REASON.format(seed=seed)
    with transaction.atomic(), disable_concurrency(), history_writing_bulk():
        centre = synthetic_centre(centre_code)
        existing = Patient.all_objects.filter(centre=centre).count()
        if existing:
            raise SyntheticError(
                f"Centre {centre_code} already holds {existing} cases; generate into another synthetic centre."
            )
        generator = CaseGenerator(seed, centre, synthetic_providers(seed))
        counts = dict.fromkeys(
            ["patients", "previous_diagnoses", "medications", "products", "administrations", "adverse_events"], 0
        )
        counts.update(assessments=0, funding_links=0, withdrawal_links=0)
        for first in range(1, patients + 1, chunk_size):
            cases = [generator.case(n) for n in range(first, min(patients, first + chunk_size - 1) + 1)]
            write(cases, history_date, reason)
            counts["patients"] += len(cases)
            counts["previous_diagnoses"] += sum(len(c.previous) for c in cases)
            counts["medications"] += sum(len(c.medications) for c in cases)
            counts["products"] += sum(len(c.products) for c in cases)
            counts["administrations"] += sum(len(c.administrations) for c in cases)
            counts["adverse_events"] += sum(len(c.events) for c in cases)
            counts["assessments"] += sum(len(c.assessments) for c in cases)
            counts["funding_links"] += sum(len(c.funding) for c in cases)
            counts["withdrawal_links"] += sum(len(links) for c in cases for _, _, links in c.events)
    refresh_statistics()
    return Result(centre, patients, counts, time.perf_counter() - started)
