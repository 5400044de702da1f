"""One synthetic case at a time: the patient, then each kind of record drawn from the same random source.

CaseGenerator draws every value from one `random.Random(seed)` in case order, so the same seed gives
the same cases; the records are built unsaved and kept in a Case until the generator writes them.
"""

import random
from dataclasses import dataclass, field
from functools import cached_property

from cases.models import Patient, PreviousDiagnosis, VisitDefinition

from .consent import consent_stream, draw_consents
from .follow_up import draw_visits, draw_vital_status
from .medications import draw_medications
from .msc import draw_msc
from .outcomes import draw_assessments, draw_events, serious_answer
from .vocabulary import (
    CRITERIA,
    CRITERIA_ITEMS,
    CURRENCIES,
    DAYS_PER_YEAR,
    DIAGNOSES,
    FEMALE_SHARE,
    FUNDING,
    JIA_CATEGORIES,
    ONSET,
    OTHER_DETAILS,
    STUDY_ID_FORMAT,
    SYNTHETIC,
    dec1,
    dec2,
    pick,
)


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
    consents: list = field(default_factory=list)
    statuses: list = field(default_factory=list)  # vital statuses
    visits: list = field(default_factory=list)


class CaseGenerator:
    """Draws case after case; holds the random source and the current case's age at its first MSC."""

    def __init__(self, seed, centre, providers):
        self.seed = seed
        self.rng = random.Random(seed)
        self.consent_rng = consent_stream(seed)  # its own stream: the main draws stay as they were
        self.centre = centre
        self.providers = providers

    @cached_property
    def visit_definitions(self):
        """The visit schedule, read once: synthetic visits follow it as the registry keeps it."""
        return list(VisitDefinition.objects.all())

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

        withdrawn = draw_medications(self, case, kind, diagnosed)
        administrations = draw_msc(self, case, currency, follow_up_days)
        draw_events(self, case, administrations, withdrawn, follow_up_days)
        patient.serious_adverse_events = serious_answer(case, number)
        draw_assessments(self, case, diagnosis, kind, follow_up_days)
        draw_consents(self.consent_rng, case, msc_age)
        draw_vital_status(self, case, number, follow_up_days)
        draw_visits(self, case, number, follow_up_days)

        costs = [a.cost_amount for _, a in case.administrations if a.cost_amount is not None]
        if costs and rng.random() < 0.85:
            patient.total_cost_amount = dec2(float(sum(costs)) * rng.uniform(1.05, 1.4))  # with travel
            patient.total_cost_currency = currency
            patient.total_cost_estimated = rng.random() < 0.4
            patient.cost_notes = "Includes travel and accommodation." if rng.random() < 0.5 else ""
        return case
