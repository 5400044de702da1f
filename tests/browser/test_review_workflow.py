"""A reviewer queries a submitted case, the clinician answers, the reviewer closes the query and signs
the case; the signed case is then locked for the clinician."""

from playwright.sync_api import expect

from cases import workflow
from cases.models import DataQuery, QueryStatus, ReviewStatus
from tests.browser.helpers import TIMEOUT_MS, field
from tests.roles import PASSWORD

QUESTION = "ANA titre at baseline?"


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_query_answered_and_closed_then_reviewer_signs_and_the_case_locks(
    page, live_server, login, screenshot, case_a, clinician, reviewer
):
    page.set_default_timeout(TIMEOUT_MS)
    workflow.submit(case_a, clinician)
    case_url = f"{live_server.url}/cases/{case_a.pk}/"
    assessment = case_a.assessments.get(timepoint="after_msc")

    # The reviewer raises a query on the case as a whole.
    login(reviewer.username, PASSWORD)
    page.goto(case_url)
    page.get_by_role("link", name="Raise a data query").click()
    expect(field(page, "About")).to_have_value("")
    field(page, "Question").fill(QUESTION)
    page.get_by_role("button", name="Raise query").click()
    expect(page.get_by_role("status").filter(has_text="Data query raised.")).to_be_visible()
    query_card = page.get_by_role("article").filter(has_text=QUESTION)
    expect(query_card).to_contain_text("Open")
    log_out(page)

    # The clinician who entered the case finds it on the dashboard and answers on the case page.
    login(clinician.username, PASSWORD)
    my_queries = page.get_by_role("region", name="Open data queries addressed to me")
    expect(my_queries).to_contain_text(QUESTION)
    my_queries.get_by_role("link", name=case_a.study_id).click()
    expect(page.get_by_role("heading", name=f"Case {case_a.study_id}")).to_be_visible()
    expect(page.get_by_role("link", name="Edit case details")).to_be_visible()  # submitted, not yet locked
    expect(page.get_by_role("button", name="Close query")).to_have_count(0)  # only a reviewer closes
    field(page, "Answer to query 1").fill("1:320, speckled, in the baseline letter.")
    page.get_by_role("button", name="Send answer to query 1").click()
    expect(page.get_by_role("status").filter(has_text="Answer sent.")).to_be_visible()
    expect(query_card).to_contain_text("Answered")
    expect(query_card).to_contain_text("1:320, speckled, in the baseline letter.")
    log_out(page)

    # The reviewer closes the query, then signs by re-entering their password.
    login(reviewer.username, PASSWORD)
    page.goto(case_url)
    field(page, "Note on closing query 1 (optional)").fill("Matches the source.")
    page.get_by_role("button", name="Close query 1").click()
    expect(page.get_by_role("status").filter(has_text="Query closed.")).to_be_visible()
    assert DataQuery.objects.get(patient=case_a).status == QueryStatus.CLOSED

    page.get_by_role("link", name="Verify and sign").click()
    field(page, "Your password").fill("not-my-password")
    page.get_by_role("button", name="Sign and verify").click()
    expect(page.get_by_role("alert")).to_contain_text("The password is not correct; the case was not verified.")
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED

    field(page, "Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign and verify").click()
    expect(page.get_by_role("status").filter(has_text="Case verified and signed.")).to_be_visible()
    signature = page.get_by_role("status").filter(has_text="Verified and signed by")
    expect(signature).to_contain_text(f"by {reviewer.username}")
    expect(signature).to_contain_text("I have reviewed this case against its sources")
    expect(page.get_by_role("heading", name=f"Case {case_a.study_id}")).to_contain_text("Verified (locked)")
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.VERIFIED
    log_out(page)

    # The clinician sees the signature and no way to edit; the edit URLs answer 403.
    login(clinician.username, PASSWORD)
    page.goto(case_url)
    expect(page.get_by_role("status").filter(has_text="Verified and signed by")).to_contain_text(reviewer.username)
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Edit case details")).to_have_count(0)
    expect(main.get_by_role("link", name="Edit")).to_have_count(0)
    expect(main.get_by_role("link", name="Add")).to_have_count(0)
    expect(main.get_by_role("link", name="Delete")).to_have_count(0)
    expect(main.get_by_role("button", name="Submit for review")).to_have_count(0)
    screenshot("case-page")

    for url in (f"{case_url}edit/", f"{case_url}assessment/{assessment.pk}/edit/", f"{case_url}assessment/add/"):
        response = page.goto(url)
        assert response.status == 403, url
