"""A clinician gives a time as the paper does, 'month 4', and the case page says 'month 4' back."""

from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Assessment
from tests.browser.helpers import TIMEOUT_MS, field, fill_in
from tests.roles import PASSWORD


def test_a_time_entered_as_month_4_is_shown_as_month_4_on_the_case_page(
    page, live_server, login, screenshot, case_a, clinician
):
    page.set_default_timeout(TIMEOUT_MS)
    case_url = f"{live_server.url}/cases/{case_a.pk}/"
    login(clinician.username, PASSWORD)
    page.goto(case_url)
    page.get_by_role("link", name="Add assessment", exact=True).click()
    fill_in(
        page,
        {
            "Timepoint": "After MSC",
            "Time from first MSC": "4",
            "Unit of time from first MSC": "Months",
            "Patient/parent global assessment (0-10)": "3",
        },
    )
    page.get_by_role("button", name="Save assessment").click()
    expect(page).to_have_url(f"{case_url}#assessment")
    expect(page.get_by_role("cell", name="month 4 after first MSC", exact=True)).to_be_visible()
    screenshot("case-page")
    saved = Assessment.objects.filter(patient=case_a).latest("pk")
    assert (saved.days_from_first_msc, saved.offset_unit) == (122, "months")

    # Edited again, the form shows the time as it was entered.
    page.goto(live_server.url + reverse("cases:assessment-update", args=[case_a.pk, saved.pk]))
    expect(field(page, "Time from first MSC")).to_have_value("4")
    expect(field(page, "Unit of time from first MSC")).to_have_value("months")
