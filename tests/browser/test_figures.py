"""The case timeline and the cohort figure render, with one mark per record, for the published series;
screenshots are saved as test artefacts."""

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from cases.models import Patient
from tests.browser.helpers import TIMEOUT_MS
from tests.roles import PASSWORD

# Case 1 (fixtures/README.md): 6 administrations, 2 flares, 10 medication courses; PGA 8 (baseline,
# untimed, in the "time unknown" band) and 1 at 2 years; SLEDAI-2K 6 at baseline, 0 at 1 month, 0 after
# the second transplant.
CASE_1_MARKS = {
    ".mark.administration": 6,
    ".mark.event": 2,
    ".bar.course": 10,
    ".point.pga": 2,
    ".point.physician-global": 2,
    ".point.activity": 3,
    ".time-unknown.point": 3,
}


@pytest.fixture
def published_series(transactional_db):
    call_command("load_published_series", stdout=StringIO())


def test_case_timeline_has_a_mark_per_record(page, live_server, login, screenshot, registry_admin, published_series):
    page.set_default_timeout(TIMEOUT_MS)
    login(registry_admin.username, PASSWORD)
    case = Patient.objects.get(study_id="WONG2021-1")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    figure = page.locator("svg.case-timeline")
    expect(figure).to_be_visible()
    box = figure.bounding_box()
    assert box["width"] > 400 and box["height"] > 200
    for selector, count in CASE_1_MARKS.items():
        expect(figure.locator(selector)).to_have_count(count)
    intranasal = figure.locator(".mark.administration").filter(has_text="MSC #1 intranasal")
    expect(intranasal).to_have_count(1)
    figure.scroll_into_view_if_needed()
    screenshot("case-1-page")
    figure.screenshot(path=str(screenshot("case-1-page").parent / "case-1-timeline.png"))
    page.emulate_media(media="print")
    expect(figure).to_be_visible()
    screenshot("case-1-print")


def test_cohort_figure_pairs_before_and_after_per_patient(
    page, live_server, login, screenshot, registry_admin, published_series
):
    page.set_default_timeout(TIMEOUT_MS)
    login(registry_admin.username, PASSWORD)
    page.goto(f"{live_server.url}/cohort/")
    figure = page.locator("svg.cohort-figure")
    expect(figure).to_be_visible()
    expect(figure.locator("line.pair.pga")).to_have_count(3)
    expect(figure.locator("line.pair.activity")).to_have_count(3)
    expect(figure.locator("circle.point")).to_have_count(12)
    numbers = page.locator("#cohort-numbers")
    expect(numbers).to_contain_text("SLE: 1")
    expect(page.locator("#stopped-without-team")).to_have_text("3 of 3 (100 %)")
    expect(page.locator("#flares-after-withdrawal")).to_have_text("4")
    screenshot("cohort")
    # Safety over time: 7 events in 7.00 patient-years; 13 stops around MSC placed in time, 11 followed by a
    # linked flare (steps at days 7, 35 and 669) and 2 censored at day 245.
    expect(page.locator("#safety-rates-table")).to_contain_text("All adverse events")
    expect(page.locator("#safety-rates-table tbody tr").first).to_contain_text("40.20 to 206.02")
    expect(page.locator("#time-to-flare-summary")).to_contain_text("13 therapies stopped around MSC")
    curve = page.locator("svg.flare-free-figure")
    expect(curve).to_be_visible()
    expect(curve.locator("line.step.km")).to_have_count(4)
    expect(curve.locator("line.mark.censored")).to_have_count(2)
    curve.scroll_into_view_if_needed()
    screenshot("cohort-safety")
    # The case list's filters narrow the figure: JIA alone is one pair per panel.
    page.goto(f"{live_server.url}/cohort/?diagnosis=jia")
    expect(page.locator("svg.cohort-figure line.pair")).to_have_count(2)
    screenshot("cohort-jia")
