"""Synthetic MSC treatment: products from the synthetic providers, and their administrations."""

from cases.models import MscAdministration, MscProduct

from .vocabulary import (
    ADMINISTRATION_COUNT,
    COST_PER_ADMIN,
    DAYS_PER_YEAR,
    PROVIDER_WEIGHTS,
    PROVIDERS,
    ROUTES,
    SYNTHETIC,
    TISSUES,
    dec2,
    dec3,
    pick,
)


def weight_for_age(rng, age):
    """A child's weight in kg, roughly along the growth charts, with spread."""
    base = 3.5 + 7 * age if age < 2 else 8 + 2.6 * age + (0.9 * (age - 10) ** 2 if age > 10 else 0) * 0.3
    return min(110.0, max(6.0, base * rng.uniform(0.8, 1.25)))


def draw_msc(generator, case, currency, follow_up_days):
    """The MSC products of a case and their 1-6 administrations. Returns the administrations in order."""
    rng = generator.rng
    n = pick(rng, ADMINISTRATION_COUNT)
    n_products = 1 if n == 1 else pick(rng, [(1, 65), (2, 28), (3, 7)])
    n_products = min(n, n_products)
    provider_index = pick(rng, [(i, w) for i, w in enumerate(PROVIDER_WEIGHTS)])
    given_in = []  # each product's country of administration, given to each of its administrations
    for p in range(n_products):
        provider = generator.providers[
            provider_index if rng.random() < 0.8 else rng.randrange(len(generator.providers))
        ]
        meta = next(row for row in PROVIDERS if row[0] == provider.name)
        tissue = pick(rng, [(t, w) for t, (w, _, _) in TISSUES.items()])
        _, donors, harvest = TISSUES[tissue]
        regulated = provider.kind == "clinical_trial"
        given_in.append(meta[4])
        case.products.append(
            MscProduct(
                patient=case.patient,
                label=f"{tissue.replace('_', ' ')} MSC, course {p + 1}",
                provider=provider,
                tissue_source=tissue,
                donor_type=rng.choice(donors),
                harvest_procedure=harvest,
                preparation_country=meta[3],
                certificate_of_analysis="yes"
                if regulated
                else pick(rng, [("unknown", 45), ("verbal_claim", 35), ("no", 15), ("yes", 5)]),
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
        age = generator.msc_age + days / DAYS_PER_YEAR
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
            age_years=generator.age_at(days),
            timing_precision=rng.choice(["day", "week", "month"]),
            timing_estimated=rng.random() < 0.25,
            country=given_in[product_index],
            cost_amount=dec2(rng.uniform(cost_low, cost_high)) if rng.random() < 0.8 else None,
            cost_currency=currency,
            paid_by=pick(rng, [("family", 80), ("charity", 8), ("insurance", 2), ("unknown", 10)]),
            # The first administration agrees with the case on whether the team knew before MSC.
            team_informed_before=case.patient.team_knew_before_msc or "unknown"
            if seq == 1
            else pick(rng, [("no", 50), ("yes", 30), ("unknown", 20)]),
            abstracted_from=SYNTHETIC,
            version=1,
        )
        if administration.cost_amount is None:
            administration.cost_currency = ""
        case.administrations.append((product_index, administration))
        administrations.append(administration)
    return administrations
