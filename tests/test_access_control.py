"""Every URL of the project, for every role, with the answer it must give.

A URL added without an entry in ACCESS makes test_every_url_has_an_access_rule fail, so nobody
ships a page without deciding who may see it.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases.kinds import RECORD_KINDS
from cases.models import DataQuery

ROLES = ["anonymous", "clinician", "other_clinician", "reviewer", "registry_admin"]
LOGIN = "login"  # redirected to the log-in page
OK, REDIRECT, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 302, 403, 404, 405


def rule(method, anonymous, clinician, other_clinician, reviewer, registry_admin):
    return method, dict(zip(ROLES, [anonymous, clinician, other_clinician, reviewer, registry_admin], strict=True))


ACCESS = {
    "login": rule("get", OK, OK, OK, OK, OK),
    "logout": rule("post", REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "password_change": rule("get", LOGIN, OK, OK, OK, OK),
    "password_change_done": rule("get", LOGIN, OK, OK, OK, OK),
    # Two-factor: anyone logged in may enrol; without a device the second step has nothing to ask.
    "two_factor_setup": rule("get", LOGIN, OK, OK, OK, OK),
    "two_factor_verify": rule("get", LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "admin:index": rule("get", REDIRECT, REDIRECT, REDIRECT, REDIRECT, OK),
    "cases:dashboard": rule("get", LOGIN, OK, OK, OK, OK),
    "cases:patient-list": rule("get", LOGIN, OK, OK, OK, OK),
    "cases:patient-create": rule("get", LOGIN, OK, OK, OK, OK),
    "cases:patient-detail": rule("get", LOGIN, OK, NOT_FOUND, OK, OK),
    "cases:patient-update": rule("get", LOGIN, OK, NOT_FOUND, OK, OK),
    "cases:patient-delete": rule("get", LOGIN, OK, NOT_FOUND, OK, OK),
    "cases:patient-submit": rule("post", LOGIN, REDIRECT, NOT_FOUND, REDIRECT, REDIRECT),
    "cases:patient-verify": rule("get", LOGIN, FORBIDDEN, NOT_FOUND, OK, OK),
    "cases:patient-unlock": rule("get", LOGIN, FORBIDDEN, NOT_FOUND, FORBIDDEN, OK),
    "cases:patient-history": rule("get", LOGIN, FORBIDDEN, FORBIDDEN, OK, OK),
    "cases:withdrawn-list": rule("get", LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "cases:withdrawn-restore": rule("get", LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "cases:query-create": rule("get", LOGIN, FORBIDDEN, NOT_FOUND, OK, OK),
    "cases:query-answer": rule("post", LOGIN, REDIRECT, NOT_FOUND, REDIRECT, REDIRECT),
    "cases:query-close": rule("post", LOGIN, FORBIDDEN, NOT_FOUND, REDIRECT, REDIRECT),
    "cases:query-reopen": rule("post", LOGIN, FORBIDDEN, NOT_FOUND, REDIRECT, REDIRECT),
    # Spreadsheets: export for reviewers and admins, import for registry admins only.
    "cases:export": rule("get", LOGIN, FORBIDDEN, FORBIDDEN, OK, OK),
    "cases:import": rule("get", LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "cases:import-confirm": rule("post", LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, REDIRECT),
    # Checklist statements by whoever edits the case; acknowledging discrepancies and the
    # all-cases data-quality list for reviewers; summary table and cohort for everyone logged in.
    "cases:checklist-statement": rule("get", LOGIN, OK, NOT_FOUND, OK, OK),
    "cases:case-data-quality": rule("get", LOGIN, OK, NOT_FOUND, OK, OK),
    "cases:discrepancy-acknowledge": rule("get", LOGIN, FORBIDDEN, NOT_FOUND, OK, OK),
    "cases:data-quality": rule("get", LOGIN, FORBIDDEN, FORBIDDEN, OK, OK),
    "cases:summary-table": rule("get", LOGIN, OK, OK, OK, OK),
    "cases:cohort": rule("get", LOGIN, OK, OK, OK, OK),
    **{
        f"cases:{slug}-{action}": rule("get", LOGIN, OK, NOT_FOUND, OK, OK)
        for slug in RECORD_KINDS
        for action in ("create", "update", "delete")
    },
}


def url_names(resolver=None, namespace=""):
    """Every named URL of the project; the admin counts as one (its own tests are Django's)."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                yield "admin:index"
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_url_has_an_access_rule():
    assert set(url_names()) == set(ACCESS)


def url_for(name, case):
    if name in {"login", "logout", "password_change", "password_change_done", "admin:index"} or name in {
        "two_factor_setup",
        "two_factor_verify",
        "cases:dashboard",
        "cases:patient-list",
        "cases:patient-create",
        "cases:withdrawn-list",
        "cases:export",
        "cases:import",
        "cases:import-confirm",
        "cases:data-quality",
        "cases:summary-table",
        "cases:cohort",
    }:
        return reverse(name)
    if name == "cases:discrepancy-acknowledge":
        # A discrepancy to acknowledge: a reported dose that disagrees with cells / weight.
        administration = case.products.get().administrations.get()
        administration.reported_dose_millions_per_kg = administration.computed_dose_millions_per_kg * 3
        administration.save()
        return (
            reverse(name, args=[case.pk]) + f"?rule=dose_disagrees&record=cases.mscadministration:{administration.pk}"
        )
    if name == "cases:withdrawn-restore":
        medication = case.medications.get()
        medication.withdraw(case.created_by, "Entered twice.")
        return reverse(name, args=["medicationcourse", medication.pk])
    if name.startswith("cases:query-") and name != "cases:query-create":
        query = DataQuery.objects.get(patient=case)
        return reverse(name, args=[case.pk, query.pk])
    slug, _, action = name.removeprefix("cases:").rpartition("-")
    if slug in RECORD_KINDS and action in ("update", "delete"):
        record = RECORD_KINDS[slug].model.objects.filter(**{RECORD_KINDS[slug].case_path: case}).first()
        return reverse(name, args=[case.pk, record.pk])
    return reverse(name, args=[case.pk])


@pytest.fixture
def case_with_query(case_a, reviewer):
    from cases import workflow

    workflow.raise_query(case_a, reviewer, "ANA titre at baseline?")
    return case_a


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(ACCESS))
def test_each_role_gets_exactly_what_it_may(name, role, client, request, case_with_query):
    method, expected = ACCESS[name]
    expected = expected[role]
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    url = url_for(name, case_with_query)
    data = {"text": "Checked against the source."} if name.startswith("cases:query-") else {}
    response = getattr(client, method)(url, data)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    else:
        assert response.status_code == expected, f"{role} {method.upper()} {url}"
