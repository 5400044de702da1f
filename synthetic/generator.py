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

`synthetic.cases` draws each case (with `synthetic.medications`, `synthetic.msc` and
`synthetic.outcomes`) from the tables of `synthetic.vocabulary`; this module checks the centre,
writes the cases and counts them.

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

import time
from dataclasses import dataclass

from concurrency.api import disable_concurrency
from django.db import connection, transaction
from django.utils import timezone

from cases.audit import history_writing_bulk
from cases.kinds import CASE_MODELS
from cases.models import (
    AdverseEvent,
    Assessment,
    Consent,
    FollowUpStatus,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    PreviousDiagnosis,
    Visit,
)
from registry.models import Centre

from . import bulk_copy
from .cases import CaseGenerator
from .vocabulary import PROVIDERS, SYNTHETIC

DEFAULT_CENTRE = "SYNTHETIC"
CHANGE_REASON = "Synthetic data (generate_synthetic, seed {seed})"


class SyntheticError(Exception):
    """The generator refuses to run (a real centre, or a centre that already holds cases)."""


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
    _bulk(Consent, [r for c in cases for r in c.consents], history_date, reason)
    _bulk(FollowUpStatus, [r for c in cases for r in c.statuses], history_date, reason)
    _bulk(Visit, [r for c in cases for r in c.visits], history_date, reason)


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
        counts.update(assessments=0, consents=0, vital_statuses=0, visits=0, funding_links=0, withdrawal_links=0)
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
            counts["consents"] += sum(len(c.consents) for c in cases)
            counts["vital_statuses"] += sum(len(c.statuses) for c in cases)
            counts["visits"] += sum(len(c.visits) for c in cases)
            counts["funding_links"] += sum(len(c.funding) for c in cases)
            counts["withdrawal_links"] += sum(len(links) for c in cases for _, _, links in c.events)
    refresh_statistics()
    return Result(centre, patients, counts, time.perf_counter() - started)
