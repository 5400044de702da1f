"""A clinician whose patient went to a provider that is not in the list adds it from the MSC product
form, finding its country by typing part of the name, and is stopped from adding one twice."""

from playwright.sync_api import expect

from cases.models import MscProduct, MscProvider
from tests.browser.helpers import TIMEOUT_MS, expect_error_next_to, field, fill_in
from tests.factories import MscProviderFactory
from tests.roles import PASSWORD


def test_clinician_adds_a_product_with_a_new_provider(page, live_server, login, screenshot, case_a, clinician):
    page.set_default_timeout(TIMEOUT_MS)
    MscProviderFactory(name="Synthetic Clínica Regenera", country="PA")
    login(clinician.username, PASSWORD)
    page.goto(f"{live_server.url}/cases/{case_a.pk}/")
    page.get_by_role("link", name="Add MSC product", exact=True).click()
    fill_in(
        page,
        {
            "Label": "Synthetic Panama MSC",
            "Tissue source": "Umbilical cord tissue",
            "Donor type": "Allogeneic, unrelated donor",
            "Abstracted from": "Synthetic (generated, not a real patient)",
            "New provider's name": "synthetic clinica REGENERA",
            "New provider's kind": "Commercial clinic",
        },
    )
    # The country list is filtered by what is typed above it: "pana" leaves Panama, chosen.
    page.get_by_label("Filter: New provider's country").fill("pana")
    expect(field(page, "New provider's country")).to_have_value("PA")

    # The same provider, written differently, is already in the list.
    page.get_by_role("button", name="Save MSC product").click()
    expect_error_next_to(
        page,
        "New provider's name",
        "A provider named Synthetic Clínica Regenera in Panama already exists: choose it from the list.",
    )
    screenshot("duplicate-provider")
    assert not MscProduct.objects.filter(label="Synthetic Panama MSC").exists()

    # A provider that is not in the list is added with the product.
    fill_in(page, {"New provider's name": "Synthetic Instituto Celular"})
    expect(field(page, "New provider's country")).to_have_value("PA")  # kept from the first try
    page.get_by_role("button", name="Save MSC product").click()
    expect(page.get_by_role("status").filter(has_text="MSC product saved.")).to_be_visible()
    screenshot("case-page")
    provider = MscProvider.objects.get(name="Synthetic Instituto Celular")
    assert (provider.country, provider.kind, provider.created_by) == ("PA", "commercial_clinic", clinician)
    assert MscProduct.objects.get(label="Synthetic Panama MSC").provider == provider
