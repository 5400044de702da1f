"""A clinician never sees another centre's case: not by its URL, not in the case list or dashboard."""

from playwright.sync_api import expect

from cases import workflow
from tests.browser.helpers import TIMEOUT_MS, field
from tests.factories import PatientFactory
from tests.roles import PASSWORD


def test_clinician_of_another_centre_gets_404_and_never_sees_the_case_listed(
    page, live_server, login, screenshot, case_a, clinician, other_clinician, centre_b
):
    page.set_default_timeout(TIMEOUT_MS)
    own_case = PatientFactory(centre=centre_b, study_id="SYN-B-0001", created_by=other_clinician)
    workflow.submit(case_a, clinician)  # would show under "Cases waiting for review" if it leaked
    case_url = f"{live_server.url}/cases/{case_a.pk}/"
    assessment = case_a.assessments.get(timepoint="after_msc")

    login(other_clinician.username, PASSWORD)
    for url in (
        case_url,
        f"{case_url}edit/",
        f"{case_url}assessment/add/",
        f"{case_url}assessment/{assessment.pk}/edit/",
    ):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_text(case_a.study_id)).to_have_count(0)
        if url == case_url:
            screenshot("case-page-404")

    page.goto(f"{live_server.url}/cases/")
    expect(page.get_by_role("link", name=own_case.study_id)).to_be_visible()
    expect(page.get_by_text("1 case.")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text(case_a.study_id)
    field(page, "Study ID").fill(case_a.study_id)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("0 cases.")).to_be_visible()
    expect(page.get_by_role("cell", name="No case matches.")).to_be_visible()

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_text("1 case in your centres.")).to_be_visible()
    expect(page.get_by_role("link", name=own_case.study_id)).to_be_visible()
    main = page.get_by_role("main")
    expect(main).not_to_contain_text(case_a.study_id)
    expect(main).not_to_contain_text(case_a.adverse_events.get().description)
    screenshot("dashboard")
