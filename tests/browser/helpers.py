"""What a user does on a form, by the labels they read: fill fields, find an error next to a field,
move through a page with the Tab key."""

import re

from playwright.sync_api import Locator, Page, expect

TIMEOUT_MS = 10_000


def field(page: Page, label: str) -> Locator:
    """The one input whose visible label is exactly `label`, with the asterisk crispy-forms adds to a
    required field's label ('Study ID*'); exact, because 'Cost' would also match 'Cost currency'."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def fill_in(page: Page, values: dict) -> None:
    """Fill a form by its labels: a select by the option's visible text, a checkbox by True/False."""
    for label, value in values.items():
        target = field(page, label)
        expect(target).to_have_count(1)
        kind = target.evaluate("el => el.tagName === 'SELECT' ? 'select' : el.type")
        if kind == "select":
            target.select_option(label=value)
        elif kind == "checkbox":
            target.set_checked(bool(value))
        else:
            target.fill(str(value))


def expect_error_next_to(page: Page, label: str, message: str) -> None:
    """The field is marked invalid and its message sits in the field's own wrapper, tied to the input
    by aria-describedby so a screen reader reads it with the field."""
    target = field(page, label)
    expect(target).to_have_class(re.compile(r"(^|\s)is-invalid(\s|$)"))
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(target).to_have_accessible_description(re.compile(re.escape(message)))
    field_id = target.get_attribute("id")
    feedback = page.locator(f"#div_{field_id} .invalid-feedback")
    expect(feedback).to_have_text(message)
    feedback_id = feedback.get_attribute("id")
    assert feedback_id in (target.get_attribute("aria-describedby") or "").split()


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page: Page, locator: Locator, max_presses: int = 60) -> None:
    """Press Tab until `locator` has the focus, as a keyboard user would."""
    expect(locator).to_be_visible()
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if is_focused(locator):
            return
    raise AssertionError(f"{locator} never got the focus after {max_presses} presses of Tab")
