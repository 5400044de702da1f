"""An invalid entry is refused with its message next to the field, and nothing is saved."""

from playwright.sync_api import expect

from cases.models import Assessment, MedicationCourse, MscAdministration
from tests.browser.helpers import TIMEOUT_MS, expect_error_next_to, field, fill_in
from tests.roles import PASSWORD


def open_form(page, case_url, link_name):
    page.goto(case_url)
    page.get_by_role("link", name=link_name, exact=True).click()


def test_invalid_entries_show_their_message_next_to_the_field_and_save_nothing(
    page, live_server, login, screenshot, case_a, clinician
):
    page.set_default_timeout(TIMEOUT_MS)
    case_url = f"{live_server.url}/cases/{case_a.pk}/"
    product = case_a.products.get()
    login(clinician.username, PASSWORD)

    # A global assessment is 0-10.
    assessments = Assessment.objects.filter(patient=case_a).count()
    open_form(page, case_url, "Add assessment")
    fill_in(page, {"Timepoint": "After MSC", "Patient/parent global assessment (0-10)": "11"})
    page.get_by_role("button", name="Save assessment").click()
    expect_error_next_to(
        page, "Patient/parent global assessment (0-10)", "Patient global assessment must be between 0 and 10."
    )
    expect(field(page, "Timepoint")).to_have_value("after_msc")  # what was typed is kept
    screenshot("assessment-form")
    assert Assessment.objects.filter(patient=case_a).count() == assessments

    # A course cannot stop before it starts.
    medications = MedicationCourse.objects.filter(patient=case_a).count()
    open_form(page, case_url, "Add medication")
    fill_in(
        page,
        {
            "Drug": "Tocilizumab",
            "Relation to MSC": "Before MSC",
            "Age at start (years)": "12",
            "Age at stop (years)": "10",
        },
    )
    page.get_by_role("button", name="Save medication course").click()
    expect_error_next_to(page, "Age at stop (years)", "Stop age cannot be before the start age.")
    screenshot("medication-form")
    assert MedicationCourse.objects.filter(patient=case_a).count() == medications

    # Cells given must be more than zero; the preview does not show a dose for zero either.
    administrations = MscAdministration.objects.filter(product__patient=case_a).count()
    open_form(page, case_url, "Add MSC administration")
    fill_in(
        page,
        {
            "Product": str(product),
            "Number": "2",
            "Route": "Intravenous",
            "Cells (x10^6)": "0",
            "Patient weight (kg)": "50",
        },
    )
    expect(page.locator("#dose-preview")).to_have_text("enter cells and weight")
    page.get_by_role("button", name="Save MSC administration").click()
    expect_error_next_to(page, "Cells (x10^6)", "Cells must be greater than 0.")
    screenshot("administration-form")
    assert MscAdministration.objects.filter(product__patient=case_a).count() == administrations
