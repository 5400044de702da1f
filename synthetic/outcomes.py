"""Synthetic outcomes: adverse events graded by CTCAE, flares after withdrawals, and assessments."""

from cases.models import AdverseEvent, Assessment

from .medications import restarted_course
from .vocabulary import REACTIONS, SYNTHETIC, dec1, pick

SERIOUSNESS_CRITERIA = (
    "resulted_in_death",
    "life_threatening",
    "required_hospitalisation",
    "persistent_disability",
    "congenital_anomaly",
    "medically_important",
)


def seriousness(values):
    """Serious exactly when a criterion is met; an event whose outcome is not known is of unknown
    seriousness too. Derived rather than drawn, so that a seed's other values stay the same."""
    if any(values.get(name) for name in SERIOUSNESS_CRITERIA):
        return "serious"
    return "unknown" if values.get("outcome", "unknown") == "unknown" else "not_serious"


def adverse_event(generator, case, days, **values):
    """An adverse event `days` from the first MSC, with its onset age and the given values. The
    products are unlicensed, so expectedness has no reference to be judged against."""
    return AdverseEvent(
        patient=case.patient,
        seriousness=seriousness(values),
        expectedness="unknown",
        expectedness_reference="no reference safety information: unlicensed product",
        onset_days_from_first_msc=days,
        onset_offset_unit="days",
        onset_age_years=generator.age_at(days),
        onset_precision=generator.rng.choice(["day", "week"]),
        abstracted_from=SYNTHETIC,
        version=1,
        **values,
    )


def draw_events(generator, case, administrations, withdrawn, follow_up_days):
    """Early reactions and rare serious events after administrations, and flares after withdrawals."""
    rng = generator.rng
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
                (
                    adverse_event(generator, case, administration.days_from_first_msc + rng.randint(0, 3), **values),
                    index,
                    [],
                )
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
            case.events.append((adverse_event(generator, case, days, **values), index, []))
        elif serious < 0.024:  # a thromboembolism after an infusion: life-threatening, or fatal
            fatal = rng.random() < 0.1
            values = dict(
                description="pulmonary embolism" if administration.route == "intravenous" else "deep vein thrombosis",
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
            case.events.append(
                (adverse_event(generator, case, administration.days_from_first_msc + 1, **values), index, [])
            )
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
            flare_severity={2: "moderate", 3: "severe", 4: "severe"}[grade],
            required_hospitalisation=grade >= 3 and rng.random() < 0.6,
            life_threatening=grade == 4,
            attribution=pick(rng, [("unrelated", 40), ("unlikely", 40), ("not_assessed", 20)]),
            attributed_by="rheumatology_team",
            attribution_note="After stopping conventional therapy.",
            attribution_to_withdrawal="probable",
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
            case.medications.append(restarted_course(generator, case, stopped, start))
        case.events.append((adverse_event(generator, case, days, **values), after[-1] if after else None, links))


def serious_answer(case, number):
    """The case's 'any serious adverse event after MSC', as its generated events say; one case in ten
    without a serious event answers 'unknown'. Derived rather than drawn, so a seed's other values stay."""
    if any(e.is_serious and e.onset_days_from_first_msc >= 0 for e, _, _ in case.events):
        return "yes"
    return "unknown" if number % 10 == 0 else "no"


def draw_assessments(generator, case, diagnosis, kind, follow_up_days):
    """Disease activity before MSC and at follow-up visits after it, with the source of each value."""
    rng = generator.rng
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
            age_years=generator.age_at(day),
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
