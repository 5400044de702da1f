"""What the data-quality rules find in the cases, and what reviewers accepted.

`run(queryset)` runs every rule (cases.quality.rules) over every case of a queryset in a fixed
number of queries (cases.case_records.with_records); a reviewer's DiscrepancyAcknowledgement
(rule + record key) marks a discrepancy as accepted. Nothing here knows about requests: a view
that saves a record asks `new_discrepancies` what the save introduced and tells the user itself.
"""

from dataclasses import dataclass

from django.urls import reverse

from ..case_records import CaseRecords, with_records
from ..kinds import edit_url, record_key
from ..models import Patient
from .rules import RULES, Rule


@dataclass
class Discrepancy:
    patient: object
    rule: Rule
    record: object
    message: str
    acknowledgement: object = None

    @property
    def record_key(self):
        return record_key(self.record)

    @property
    def record_label(self):
        if self.record is None:
            return "case"
        return f"{self.record._meta.verbose_name} {self.record}"

    @property
    def link(self):
        return edit_url(self.patient if self.record is None else self.record)

    @property
    def acknowledge_url(self):
        base = reverse("cases:discrepancy-acknowledge", args=[self.patient.pk])
        return f"{base}?rule={self.rule.code}&record={self.record_key}"

    @property
    def is_acknowledged(self):
        return self.acknowledgement is not None

    @property
    def key(self):
        return (self.patient.pk, self.rule.code, self.record_key)

    def line(self):
        """One line for check_data_quality: 'STUDY-ID  rule  record  message  [acknowledged: reason]'."""
        text = f"{self.patient.study_id}  {self.rule.code}  {self.record_key or 'case'}  {self.message}"
        if self.acknowledgement is not None:
            text += f"  [acknowledged: {' '.join(self.acknowledgement.reason.split())}]"
        return text


def case_discrepancies(records):
    """Every discrepancy of one case (a CaseRecords), acknowledged or not."""
    found = []
    for r in RULES:
        for record, message in r.check(records):
            d = Discrepancy(records.patient, r, record, message)
            d.acknowledgement = records.acknowledgements.get((r.code, d.record_key))
            found.append(d)
    return found


def run(queryset):
    """{patient: [Discrepancy, ...]} for every case of the queryset, in a fixed number of queries."""
    return {p: case_discrepancies(CaseRecords(p)) for p in with_records(queryset)}


def keys_of(patient):
    """The keys of a case's current discrepancies, to tell which ones a save adds."""
    return {d.key for d in find_all(patient)}


def find_all(patient):
    return case_discrepancies(CaseRecords(with_records(Patient.objects.filter(pk=patient.pk)).get()))


def open_discrepancies(patient):
    """The discrepancies of a case that no reviewer has acknowledged: a case is not verified while
    any remains, and whoever submits it confirms having seen them."""
    return [d for d in find_all(patient) if not d.is_acknowledged]


def count_text(discrepancies):
    """'1 data-quality discrepancy', '3 data-quality discrepancies'."""
    n = len(discrepancies)
    return f"{n} data-quality discrepanc{'y' if n == 1 else 'ies'}"


def new_discrepancies(patient, before):
    """After a save: the unacknowledged discrepancies of the case whose keys were not in `before`
    (keys_of the case before the save), i.e. those the save introduced."""
    return [d for d in find_all(patient) if d.key not in before and not d.is_acknowledged]


def new_discrepancies_text(new):
    """The warning that lists what a save introduced, at most five discrepancies by name."""
    listed = "; ".join(f"{d.rule.title}: {d.message}" for d in new[:5])
    more = f" (and {len(new) - 5} more)" if len(new) > 5 else ""
    return f"Data-quality check found {len(new)} new discrepanc{'y' if len(new) == 1 else 'ies'}: {listed}{more}"
