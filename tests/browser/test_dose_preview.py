"""Dose per kg appears beside the fields it comes from while the clinician types cells and weight,
written with one decimal as the paper writes doses."""

from playwright.sync_api import expect

from tests.browser.helpers import TIMEOUT_MS, field
from tests.roles import PASSWORD


def type_into(page, label, text):
    target = field(page, label)
    target.click()
    target.press("Control+A")
    target.press("Backspace")
    target.press_sequentially(text, delay=20)


def test_dose_per_kg_shows_while_typing_cells_and_weight(page, live_server, login, screenshot, case_a, clinician):
    page.set_default_timeout(TIMEOUT_MS)
    login(clinician.username, PASSWORD)
    page.goto(f"{live_server.url}/cases/{case_a.pk}/administration/add/")
    preview = page.locator("#dose-preview")
    expect(preview).to_have_text("enter cells and weight")

    type_into(page, "Cells (x10^6)", "100")
    expect(preview).to_have_text("enter cells and weight")
    type_into(page, "Patient weight (kg)", "40")
    expect(preview).to_have_text("2.5")
    expect(preview).to_be_in_viewport()  # beside the fields, not at the foot of a long form

    type_into(page, "Patient weight (kg)", "50")
    expect(preview).to_have_text("2.0")
    type_into(page, "Cells (x10^6)", "95")
    expect(preview).to_have_text("1.9")
    expect(preview).to_be_in_viewport()
    screenshot("dose-preview")
