"""Script payloads stored in free-text fields are shown as text on every page that shows them, and
never run: not on the case page, the case list, the dashboard, the history, the withdrawn list nor
the admin's change pages.

The Content-Security-Policy would block an inline script even if a template forgot to escape one;
this test therefore also proves the escaping itself: no element made of a payload exists in the DOM
and the browser reports no CSP violation (which it would for a blocked, i.e. unescaped, script).
"""

from decimal import Decimal

from playwright.sync_api import expect

from cases import workflow
from cases.models import MedicationCourse
from tests.browser.helpers import TIMEOUT_MS
from tests.factories import MedicationCourseFactory
from tests.roles import PASSWORD

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
SVG = "<svg onload=__xss=1>"  # 20 characters: fits the study ID
PAYLOADS = (SCRIPT, IMG, SVG)

INJECTED_ELEMENTS = "script:not([src]), img[onerror], svg[onload], [onload], [onerror]"


def watch(page):
    """Record every dialog (and dismiss it) and every script the CSP had to refuse."""
    seen = {"dialogs": [], "csp": []}

    def on_dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def on_console(msg):
        # Only script violations: the admin's own inline styles are refused by style-src, harmlessly.
        if "Content Security Policy" in msg.text and "script" in msg.text.lower() and "style" not in msg.text:
            seen["csp"].append(msg.text)

    page.on("console", on_console)
    return seen


def expect_shown_as_text_and_inert(page, url, seen, *expected_texts):
    page.goto(url)
    page.wait_for_load_state("load")
    body = page.locator("body")
    for text in expected_texts:
        expect(body).to_contain_text(text)
    assert page.evaluate("typeof window.__xss") == "undefined", f"a payload ran on {url}"
    injected = page.evaluate(
        """selector => [...document.querySelectorAll(selector)]
            .filter(el => /__xss/.test(el.outerHTML)).map(el => el.outerHTML)""",
        INJECTED_ELEMENTS,
    )
    assert injected == [], f"payload markup became elements on {url}: {injected}"
    assert seen["dialogs"] == [], f"a dialog opened on {url}: {seen['dialogs']}"
    assert seen["csp"] == [], f"the CSP had to block something on {url}: {seen['csp']}"


def test_stored_script_payloads_are_shown_as_text_and_never_run(
    page, live_server, login, screenshot, case_a, clinician, reviewer, registry_admin
):
    page.set_default_timeout(TIMEOUT_MS)
    seen = watch(page)

    # Payloads in every kind of free text, stored as the forms would store them.
    case_a.study_id = SVG
    case_a.family_history = SCRIPT
    case_a.source_passage = IMG
    case_a.communication_notes = SCRIPT
    case_a.save()
    medication = case_a.medications.get()
    medication.note = SCRIPT
    medication.source_passage = IMG
    medication.save()
    event = case_a.adverse_events.get()
    event.description = IMG
    event.treatment = SCRIPT
    event.save()
    for statement in case_a.checklist_statements.all():
        statement.save()  # the clinician states the unknowns again for the records as they now are
    workflow.submit(case_a, clinician)
    query = workflow.raise_query(case_a, reviewer, SCRIPT, record=medication)
    workflow.answer_query(query, clinician, IMG)
    medication.refresh_from_db()
    medication.note = f"{IMG} (edited)"
    medication._change_reason = SCRIPT
    medication.save()
    withdrawn = MedicationCourseFactory(patient=case_a, note=IMG, start_age_years=Decimal("12.0"))
    withdrawn.withdraw(clinician, SCRIPT)
    assert MedicationCourse.all_objects.filter(pk=withdrawn.pk, withdrawn_at__isnull=False).exists()

    base = live_server.url
    case_url = f"{base}/cases/{case_a.pk}/"

    login(clinician.username, PASSWORD)
    expect_shown_as_text_and_inert(page, f"{base}/", seen, SVG, SCRIPT, IMG)  # my cases, queries, events
    expect_shown_as_text_and_inert(page, f"{base}/cases/", seen, SVG)
    expect_shown_as_text_and_inert(page, case_url, seen, SVG, SCRIPT, IMG)
    screenshot("case-page")
    page.get_by_role("button", name="Log out").click()

    login(reviewer.username, PASSWORD)
    expect_shown_as_text_and_inert(page, case_url, seen, SCRIPT, IMG)
    expect_shown_as_text_and_inert(page, f"{case_url}history/", seen, SCRIPT, IMG)
    screenshot("history")
    page.get_by_role("button", name="Log out").click()

    login(registry_admin.username, PASSWORD)
    expect_shown_as_text_and_inert(page, f"{base}/withdrawn/", seen, SCRIPT)
    screenshot("withdrawn-list")
    expect_shown_as_text_and_inert(page, f"{base}/admin/cases/patient/", seen, SVG)
    patient_change = f"{base}/admin/cases/patient/{case_a.pk}/change/"
    page.goto(patient_change)
    # In the admin's inputs and textareas the payloads are values, not markup.
    expect(page.locator("textarea[name=family_history]")).to_have_value(SCRIPT)
    expect_shown_as_text_and_inert(page, patient_change, seen)
    medication_change = f"{base}/admin/cases/medicationcourse/{medication.pk}/change/"
    page.goto(medication_change)
    expect(page.locator("textarea[name=note]")).to_have_value(f"{IMG} (edited)")
    expect_shown_as_text_and_inert(page, medication_change, seen)
    expect_shown_as_text_and_inert(page, f"{patient_change.removesuffix('change/')}history/", seen, SVG)
    screenshot("admin-history")
