"""Dose per kg is written as clinicians and the paper write it, with one decimal ('2.0'), wherever
the registry shows it; exports keep the number itself."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from cases.models import Patient
from cases.models.msc import dose_per_kg_text
from cases.quality import discrepancies
from cases.reports.summary import HEADERS, summary_table


@pytest.mark.parametrize(
    "dose, text",
    [
        (D("2.000"), "2.0"),
        (D("2"), "2.0"),
        (D("2.500"), "2.5"),
        (D("1.833"), "1.8"),
        (D("1.850"), "1.9"),
        (D("10.000"), "10.0"),
        (D("0.034"), "0.034"),
        (D("0.005"), "0.0050"),
        (None, ""),
    ],
)
def test_dose_per_kg_is_written_with_one_decimal(dose, text):
    assert dose_per_kg_text(dose) == text


def test_case_page_shows_a_whole_dose_per_kg_as_two_point_zero(client, clinician, case_a):
    client.force_login(clinician)
    page = client.get(reverse("cases:patient-detail", args=[case_a.pk])).content.decode()
    assert "2.0 (computed)" in page  # 100 × 10^6 cells / 50 kg


def test_summary_table_writes_a_whole_dose_with_one_decimal(case_a):
    (row,) = summary_table(Patient.objects.filter(pk=case_a.pk))[1]
    assert dict(zip(HEADERS, row, strict=True))["MSC dose"] == "2.0 × 10^6/kg/dose"


def test_dose_disagreement_message_writes_doses_with_one_decimal(case_a):
    administration = case_a.products.get().administrations.get()
    administration.reported_dose_millions_per_kg = D("3")
    administration.save()
    (found,) = [d for d in discrepancies.find_all(case_a) if d.rule.code == "dose_disagrees"]
    assert found.message == "#1: reported 3.0 × 10^6/kg, but 100 × 10^6 cells / 50 kg = 2.0 × 10^6/kg"
