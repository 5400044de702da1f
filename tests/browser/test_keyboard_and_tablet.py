"""The log-in form and the case page work with the keyboard alone, and the case page fits a tablet."""

from playwright.sync_api import expect

from cases.models import ReviewStatus
from tests.browser.helpers import TIMEOUT_MS, field, is_focused, tab_to
from tests.roles import PASSWORD


def test_keyboard_only_log_in_and_case_submission_and_no_sideways_scroll_on_a_tablet(
    page, live_server, screenshot, case_a, clinician
):
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{live_server.url}/accounts/login/")

    # The username field has the focus on arrival; Tab moves to the password, Enter logs in.
    expect(field(page, "Username")).to_be_focused()
    page.keyboard.type(clinician.username)
    page.keyboard.press("Tab")
    assert is_focused(field(page, "Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # From the dashboard to the case, an assessment added and the case submitted, with the keyboard only.
    my_cases = page.get_by_role("region", name="My centres' cases (latest)")
    tab_to(page, my_cases.get_by_role("link", name=case_a.study_id))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Case {case_a.study_id}")).to_be_visible()
    page.keyboard.press("Tab")  # the first Tab stop skips the navigation
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    tab_to(page, page.get_by_role("link", name="Add assessment"))
    page.keyboard.press("Enter")
    tab_to(page, field(page, "Timepoint"))
    page.keyboard.type("After")  # a closed select picks the option whose name starts with what is typed
    expect(field(page, "Timepoint")).to_have_value("after_msc")
    tab_to(page, field(page, "Patient/parent global assessment (0-10)"))
    page.keyboard.type("3")
    # Who observed the score: the safety-reporting checklist needs it before the case is submitted.
    tab_to(page, field(page, "Patient global: source"))
    page.keyboard.type("Reported by pa")
    expect(field(page, "Patient global: source")).to_have_value("family_reported")
    tab_to(page, page.get_by_role("button", name="Save assessment"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Assessment saved.")).to_be_visible()
    assert case_a.assessments.filter(timepoint="after_msc", patient_global=3).exists()

    tab_to(page, page.get_by_role("button", name="Submit for review"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Case submitted for review.")).to_be_visible()
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED

    # At a tablet's width the page does not scroll sideways: wide tables scroll inside their box.
    page.set_viewport_size({"width": 768, "height": 1024})
    page.reload()
    expect(page.get_by_role("heading", name=f"Case {case_a.study_id}")).to_be_visible()
    assert page.evaluate("[...document.querySelectorAll('table')].every(t => t.closest('.table-responsive'))")
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"the page scrolls sideways: {scroll_width}px wide in {inner_width}px"
    screenshot("case-page-tablet")
