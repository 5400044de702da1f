"""A clinician enters a whole case through the forms, as they would from a chart, and submits it."""

import re
from decimal import Decimal

from playwright.sync_api import expect

from cases.models import Assessment, MedicationCourse, MscAdministration, Patient, ReviewStatus
from tests.browser.helpers import TIMEOUT_MS, fill_in
from tests.roles import PASSWORD

STUDY_ID = "SYN-A-0100"


def section_table(page, heading):
    """The table under one of the case page's section headings."""
    return page.locator(
        f"xpath=//h2[normalize-space()='{heading}']/parent::div"
        "/following-sibling::div[contains(@class, 'table-responsive')][1]//table"
    )


def add_record(page, link_name, values, save_button):
    page.get_by_role("link", name=link_name, exact=True).click()
    fill_in(page, values)
    page.get_by_role("button", name=save_button).click()
    expect(page.get_by_role("heading", name=f"Case {STUDY_ID}")).to_be_visible()


def add_administration(page, number, cells, weight, expected_dose):
    page.get_by_role("link", name="Add MSC administration", exact=True).click()
    preview = page.locator("#dose-preview")
    expect(preview).to_have_text("enter cells and weight")
    fill_in(
        page,
        {
            "Product": "Synthetic cord MSC: allogeneic, unrelated donor umbilical cord tissue",
            "Number": number,
            "Route": "Intravenous",
            "Age at time (years)": "13.0",
            "Time precision": "Month",
            "Cells (x10^6)": cells,
            "Patient weight (kg)": weight,
            "Paid by": "Family, out of pocket",
            "Rheumatology team informed before": "No",
            "Abstracted from": "Synthetic (generated, not a real patient)",
        },
    )
    expect(preview).to_have_text(expected_dose)
    page.get_by_role("button", name="Save MSC administration").click()
    expect(page.get_by_role("status").filter(has_text="MSC administration saved.")).to_be_visible()


def test_clinician_enters_a_systemic_jia_case_with_msc_and_submits_it_for_review(
    page, live_server, login, screenshot, clinician
):
    page.set_default_timeout(TIMEOUT_MS)
    login(clinician.username, PASSWORD)

    # The case: a 13-year-old with systemic JIA.
    page.get_by_role("link", name="New case", exact=True).click()
    fill_in(
        page,
        {
            "Study ID": STUDY_ID,
            "Sex": "Female",
            "Current diagnosis": "Juvenile idiopathic arthritis (JIA)",
            "JIA category (ILAR)": "Systemic arthritis",
            "Classification criteria": "ILAR (JIA)",
            "Age at onset (years)": "9.0",
            "Age at current diagnosis (years)": "9.5",
            "Age at last follow-up (years)": "13.8",
            "How the MSC decision was made": "Family's own decision",
            "Rheumatology team knew before MSC": "No",
            "Abstracted from": "Synthetic (generated, not a real patient)",
        },
    )
    page.get_by_role("button", name="Save case").click()
    expect(page.get_by_role("heading", name=f"Case {STUDY_ID}")).to_be_visible()
    expect(page.get_by_text("Juvenile idiopathic arthritis (JIA), Systemic arthritis")).to_be_visible()

    # Tocilizumab, stopped by the family before MSC without telling the team.
    add_record(
        page,
        "Add medication",
        {
            "Drug": "Tocilizumab",
            "Route": "Intravenous",
            "Relation to MSC": "Before MSC",
            "Age at start (years)": "10.0",
            "Age at stop (years)": "12.9",
            "Reason stopped": "Family or patient decision",
            "Stop decided by": "Family",
            "Rheumatology team knew before the stop": "No",
            "Abstracted from": "Synthetic (generated, not a real patient)",
        },
        "Save medication course",
    )

    add_record(
        page,
        "Add MSC product",
        {
            "Label": "Synthetic cord MSC",
            "Tissue source": "Umbilical cord tissue",
            "Donor type": "Allogeneic, unrelated donor",
            "Regulatory status": "Unregulated commercial",
            "Abstracted from": "Synthetic (generated, not a real patient)",
        },
        "Save MSC product",
    )

    # Dose per kg is previewed as cells / weight while typing, and computed again on the server.
    add_administration(page, 1, "100", "50", "2.0")
    add_administration(page, 2, "150", "60", "2.5")

    add_record(
        page,
        "Add adverse event",
        {
            "Description": "Synthetic fever after the second infusion",
            "Category": "Fever or flu-like illness",
            "Administration": "#2 intravenous, 150x10^6 cells",
            "CTCAE grade": "1",
            "Seriousness": "Not serious",
            "Reported by": "Patient or parent",
            "Attribution to MSC": "Possible",
            "Attributed by": "Rheumatology team",
            "Outcome": "Recovered/resolved",
            "Duration (days)": "2",
            "Abstracted from": "Synthetic (generated, not a real patient)",
        },
        "Save adverse event",
    )

    for timepoint, age, score in (("Before MSC (baseline)", "12.9", "7"), ("After MSC", "13.5", "4")):
        add_record(
            page,
            "Add assessment",
            {
                "Timepoint": timepoint,
                "Age at time (years)": age,
                "Patient/parent global assessment (0-10)": score,
                "Patient global: source": "Reported by patient or family",
                "Abstracted from": "Synthetic (generated, not a real patient)",
            },
            "Save assessment",
        )

    # Everything entered shows on the case page, each in its section's table.
    medication = section_table(page, "Medications and therapies").get_by_role("row").filter(has_text="Tocilizumab")
    for text in ("Before MSC", "Family or patient decision", "Family", "No"):
        expect(medication).to_contain_text(text)
    expect(section_table(page, "MSC products")).to_contain_text("Synthetic cord MSC")
    administrations = section_table(page, "MSC administrations").locator("tbody tr")
    expect(administrations).to_have_count(2)
    dose_column = 7
    expect(administrations.nth(0).get_by_role("cell").nth(dose_column)).to_have_text(
        re.compile(r"^2(\.0*)? \(computed\)\s*$")
    )
    expect(administrations.nth(1).get_by_role("cell").nth(dose_column)).to_have_text(
        re.compile(r"^2\.50* \(computed\)\s*$")
    )
    events = section_table(page, "Adverse events and flares")
    expect(events).to_contain_text("Synthetic fever after the second infusion")
    expect(events).to_contain_text("#2 intravenous, 150x10^6 cells")
    expect(events).to_contain_text("Not serious")
    assessments = section_table(page, "Assessments over time").locator("tbody tr")
    expect(assessments.filter(has_text="Before MSC (baseline)")).to_contain_text("7/10")
    expect(assessments.filter(has_text="After MSC").filter(has_text="4/10")).to_have_count(1)

    patient = Patient.objects.get(study_id=STUDY_ID)
    assert patient.centre.code == "SYN-A" and patient.created_by == clinician
    course = MedicationCourse.objects.get(patient=patient)
    assert (course.reason_stopped, course.stop_decided_by, course.team_knew_before_stop) == (
        "family_decision",
        "family",
        "no",
    )
    doses = [a.computed_dose_millions_per_kg for a in MscAdministration.objects.filter(product__patient=patient)]
    assert doses == [Decimal("2"), Decimal("2.5")]
    assert Assessment.objects.filter(patient=patient).count() == 2

    # The safety-reporting checklist: not complete yet, so the case cannot be submitted.
    expect(page.get_by_role("heading", name="Safety-reporting checklist: 2/8 complete")).to_be_visible()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text(re.compile("checklist is not complete"))).to_be_visible()
    screenshot("checklist-incomplete")
    # Whether the provider spoke to the team, and whether any serious adverse event followed MSC, are
    # facts of the case: filled from the checklist's link.
    checklist = page.locator("#checklist-table")
    checklist.locator('tr[data-item="provider_communication"]').get_by_role("link", name="Edit case details").click()
    fill_in(page, {"MSC provider communicated with the team": "No", "Any serious adverse event after MSC": "No"})
    page.get_by_role("button", name="Save case").click()
    # What the chart does not say is stated explicitly, item by item.
    for number, statement, note in (
        (1, "Unknown", "Passage, viability, phenotype, sterility and country not in the provider's letter."),
        (4, "None", "No flare after tocilizumab was stopped, per clinic notes."),
        (6, "None", "No other treatment around MSC."),
        (7, "Unknown", "Family declined to say what it cost."),
    ):
        page.get_by_role("link", name=f"State none or unknown for item {number}").click()
        fill_in(page, {"Statement": statement, "Note": note})
        page.get_by_role("button", name="Save statement").click()
        expect(page.get_by_role("status").filter(has_text="Checklist:")).to_be_visible()
    expect(page.get_by_role("heading", name="Safety-reporting checklist: 8/8 complete")).to_be_visible()

    # The parents' permission is the consent basis without which no case is submitted.
    add_record(
        page,
        "Add consent",
        {
            "Kind": "Parental permission",
            "Form version": "Synthetic permission v1",
            "Abstracted from": "Synthetic (generated, not a real patient)",
        },
        "Save consent",
    )

    # The fever was entered without a time: an open data-quality discrepancy. Submitting without
    # saying so shows it; the clinician confirms having seen it and submits.
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("alert")).to_contain_text("confirm that you submit the case with them")
    open_discrepancies = page.get_by_role("region", name="Open data-quality discrepancies: 1")
    expect(open_discrepancies).to_contain_text("Synthetic fever after the second infusion")
    page.get_by_label("I have seen the open data-quality discrepancies and submit the case with them").check()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status").filter(has_text="Case submitted for review.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Case {STUDY_ID}")).to_contain_text("Submitted for review")
    patient.refresh_from_db()
    assert patient.review_status == ReviewStatus.SUBMITTED
    screenshot("case-page")
