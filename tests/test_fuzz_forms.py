"""Property-based fuzzing of every form and every POST endpoint of the project.

Each endpoint named in tests/test_access_control.ACCESS (so a new URL cannot be forgotten) gets
random and hostile POSTs: huge and negative numbers, NaN and Infinity, empty and very long text,
NUL characters, RTL marks and emoji, SQL and HTML fragments, lists for scalars, unknown choices and
impossible dates, each on a random field of an otherwise valid-looking form (read from the page
itself, as a browser would send it) so that validation reaches the models' clean() and the database
constraints, not only the first missing field.

For every example we prove:
  (a) the app never answers 500;
  (b) nothing invalid is stored: every object of the project's models passes full_clean(), and a
      refused request (an error status, a re-rendered form or an error message) changed nothing.

Each example runs in a savepoint that is rolled back, so every example starts from the same case.
"""

import os
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import workflow
from cases.kinds import RECORD_KINDS
from cases.models import DataQuery, VisitDefinition
from tests.roles import PASSWORD
from tests.test_access_control import ACCESS, url_for, url_names

# Examples per endpoint; raise it (FUZZ_EXAMPLES=200) for a deeper run before a release.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --------------------------------------------------------------------------------------------------
# Hostile values
# --------------------------------------------------------------------------------------------------

HOSTILE_CONSTANTS = [
    "1e308",
    "-1e308",
    "1e-308",
    str(10**40),
    str(-(10**40)),
    "9" * 400,
    "-1",
    "-0",
    "0",
    "-36526",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "1.23456789",
    "99999.99",
    "1,5",
    "0x1A",
    "NaN",
    "nan",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "",
    " ",
    "\x00",
    "12\x00",
    "abc\x00def",
    "\u202eevil\u202c",
    "\u200f\u200e\u202b",
    "😀🧬💉" * 5,
    "Ω≈ç√∫˜µ≤≥÷",
    "'; DROP TABLE cases_patient; --",
    "1' OR '1'='1",
    '" OR ""="',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "{{ 7*7 }}{% debug %}",
    "%s%s%n",
    "2024-02-30",
    "2023-02-29",
    "2024-13-01",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "-2024-01-01",
    "not-a-choice",
    "yes",
    "true",
    "on",
    "None",
    "null",
    "999999999",
    "cases.patient:1",
    "cases.medicationcourse:999999",
    "1:signature-forged",
]

no_surrogates = st.characters(exclude_categories=("Cs",))
long_text = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["A", "é", "😀", "<b>", "\u202e", "9"]),
    st.integers(min_value=10_000, max_value=100_000),
)
scalar = st.one_of(
    st.sampled_from(HOSTILE_CONSTANTS),
    st.text(alphabet=no_surrogates, max_size=60),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(lambda d: d.isoformat()),
    long_text,
)
# A list where the form expects one value (or several values for a multiple choice).
hostile = st.one_of(scalar, scalar, scalar, st.lists(scalar, min_size=0, max_size=3))

UNKNOWN_FIELDS = ["id", "pk", "centre_id", "created_by", "review_status", "withdrawn_at", "is_superuser", "csrf"]


# --------------------------------------------------------------------------------------------------
# Reading a form as the browser would send it
# --------------------------------------------------------------------------------------------------


class FormReader(HTMLParser):
    """The fields of the page's POST forms with the values a browser would submit untouched."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data, self.names = {}, []
        self.in_form = False
        self.select = None
        self.option_value = None
        self.textarea = None

    def add(self, name, value):
        if name not in self.names:
            self.names.append(name)
        if value is not None:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.in_form = (a.get("method") or "get").lower() == "post"
        if not self.in_form or tag not in {"input", "select", "option", "textarea"}:
            return
        name = a.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = (a.get("type") or "text").lower()
            if kind in {"checkbox", "radio"}:
                self.add(name, (a.get("value") or "on") if "checked" in a else None)
            elif kind not in {"submit", "button", "reset", "file"}:
                self.add(name, a.get("value") or "")
        elif tag == "select" and name:
            self.select = name
            self.add(name, None)
        elif tag == "option" and self.select and "selected" in a:
            self.add(self.select, a.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.add(name, None)
            self.data.setdefault(name, []).append("")

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            if self.data[self.textarea][-1].startswith("\n"):
                self.data[self.textarea][-1] = self.data[self.textarea][-1][1:]
            self.textarea = None


def read_form(client, url):
    response = client.get(url)
    reader = FormReader()
    if response.status_code == 200 and "html" in response.get("Content-Type", ""):
        reader.feed(response.content.decode())
    return reader.names, {name: values if len(values) > 1 else values[0] for name, values in reader.data.items()}


# --------------------------------------------------------------------------------------------------
# The state of the database: everything must stay valid; a refused request must change nothing
# --------------------------------------------------------------------------------------------------


def project_models():
    models = list(apps.get_app_config("cases").get_models()) + [get_user_model()]
    return [m for m in models if not m._meta.auto_created]


def snapshot():
    state = {}
    for model in project_models():
        rows = model._base_manager.order_by("pk").values()
        state[model._meta.label] = [{k: v for k, v in row.items() if k != "last_login"} for row in rows]
    return state


def assert_everything_stored_is_valid():
    for model in project_models():
        if model._meta.label.startswith("cases.Historical"):
            continue  # the audit trail copies what was valid then; its own rows carry no constraints
        for obj in model._base_manager.all():
            obj.full_clean()


def was_refused(response):
    if response.status_code >= 400 or response.status_code == 200:
        return True  # an error status, or the form shown again with its errors
    return any(m.level >= message_levels.ERROR for m in get_messages(response.wsgi_request))


# --------------------------------------------------------------------------------------------------
# Every POST endpoint: who posts, in which state of the case, and with which valid-looking base data
# --------------------------------------------------------------------------------------------------

RECORD_NAMES = {f"cases:{slug}-{action}" for slug in RECORD_KINDS for action in ("create", "update", "delete")}
AUTH_NAMES = {"login", "logout", "password_change", "password_change_done", "two_factor_setup", "two_factor_verify"}
CASE_FORMS = {"cases:patient-create", "cases:patient-update", "cases:patient-delete"} | RECORD_NAMES


def actor_for(name):
    """The first role ACCESS lets through (200 or a redirect), so the request reaches the form."""
    if name == "login":
        return None
    _, expected = ACCESS[name]
    return next(role for role in ("clinician", "reviewer", "registry_admin") if expected[role] in (200, 302))


EXTRA_FIELDS = {
    "login": {"username": "clinician-a", "password": PASSWORD},
    "password_change": {
        "old_password": PASSWORD,
        "new_password1": "An0ther-synthetic-pass!",
        "new_password2": "An0ther-synthetic-pass!",
    },
    "two_factor_setup": {"token": "123456"},
    "two_factor_verify": {"token": "123456"},
    "cases:patient-verify": {"password": PASSWORD},
    "cases:patient-unlock": {"reason": "Source letter re-read."},
    "cases:withdrawn-restore": {"reason": "Withdrawn by mistake."},
    "cases:query-create": {"question": "ANA titre at baseline?", "record": ""},
    "cases:query-answer": {"text": "1:320, speckled."},
    "cases:query-close": {"text": "Matches the source."},
    "cases:query-reopen": {"text": "Re-opened."},
    "cases:patient-submit": {},
}


def prepare(name, case, users, submitted):
    """Put the case in the state the endpoint acts on and return the URL to post to."""
    clinician, reviewer = users["clinician"], users["reviewer"]
    if name in CASE_FORMS and submitted:
        workflow.submit(case, clinician)
    if name in {"cases:patient-verify", "cases:patient-unlock"}:
        workflow.submit(case, clinician)
    if name.startswith("cases:query-") and name != "cases:query-create":
        query = workflow.raise_query(case, reviewer, "ANA titre at baseline?")
        if name == "cases:query-reopen":
            workflow.close_query(query, reviewer)
        if name == "cases:query-answer":
            query.refresh_from_db()
        return reverse(name, args=[case.pk, query.pk])
    if name == "cases:patient-unlock":
        workflow.verify(case, reviewer, PASSWORD)
    if name == "cases:withdrawn-restore":
        workflow.submit(case, clinician)
        medication = case.medications.get()
        medication.withdraw(clinician, "Entered twice.")
        return reverse(name, args=["medicationcourse", medication.pk])
    if name in AUTH_NAMES:
        return reverse(name)
    return url_for(name, case)  # test_access_control knows how to reach every other URL


def valid_looking_data(name, client, url, case):
    """The form as the page shows it, filled in so that only the hostile values are wrong."""
    names, data = read_form(client, url)
    data = {**data, **EXTRA_FIELDS.get(name, {})}
    names = list(dict.fromkeys(names + list(data)))
    slug, _, action = name.removeprefix("cases:").rpartition("-")
    if action == "create" and slug in RECORD_KINDS:
        # Start a new record from the values of the case's existing one, so required fields are set.
        kind = RECORD_KINDS[slug]
        record = kind.model.objects.filter(**{kind.case_path: case}).first()
        existing_names, existing = read_form(client, reverse(f"cases:{slug}-update", args=[case.pk, record.pk]))
        data = {**existing, **{k: v for k, v in data.items() if v not in ("", None)}}
        data.pop("version", None)
        names = list(dict.fromkeys(names + existing_names))
        if slug == "visit":  # one record per scheduled visit: the new one takes a visit not yet recorded
            data["definition"] = str(VisitDefinition.objects.exclude(visits__patient=case).first().pk)
    if name == "cases:patient-create":
        existing_names, existing = read_form(client, reverse("cases:patient-update", args=[case.pk]))
        data = {**existing, "study_id": "SYN-A-FUZZ", "centre": data.get("centre") or str(case.centre_id)}
        data.pop("version", None)
        names = list(dict.fromkeys(names + existing_names))
    data.setdefault("change_reason", "Corrected from the source letter.")
    return names, data


ROLES_NEEDED = ["clinician", "reviewer", "registry_admin"]
FUZZED_NAMES = sorted(ACCESS)


def test_every_endpoint_is_fuzzed():
    """A new URL is in ACCESS (test_access_control checks that), and so it is fuzzed here too."""
    assert set(url_names()) == set(FUZZED_NAMES)


@pytest.mark.parametrize("name", FUZZED_NAMES)
def test_hostile_posts_never_cause_a_server_error_nor_store_invalid_data(name, request, case_a):
    users = {role: request.getfixturevalue(role) for role in ROLES_NEEDED}
    actor = actor_for(name)
    client = Client(raise_request_exception=False)
    if actor is not None:
        client.force_login(users[actor])

    base_data = {}  # per state of the case: the example's savepoint restores it, so the form reads the same
    with transaction.atomic():
        case = type(case_a).objects.get(pk=case_a.pk)
        names, _ = valid_looking_data(name, client, prepare(name, case, users, False), case)
        transaction.set_rollback(True)
    takes_a_form = name in EXTRA_FIELDS or set(names) - {"change_reason"}
    # A page without a form (a POST there is 405 or ignored) needs fewer examples than a form.

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES if takes_a_form else max(3, EXAMPLES // 6))
    @given(
        submitted=st.booleans(),
        field_picks=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=4),
        values=st.lists(hostile, min_size=4, max_size=4),
        extra=st.dictionaries(st.sampled_from(UNKNOWN_FIELDS), scalar, max_size=2),
        drop=st.booleans(),
    )
    def post_hostile(submitted, field_picks, values, extra, drop):
        with transaction.atomic():
            case = type(case_a).objects.get(pk=case_a.pk)
            url = prepare(name, case, users, submitted)
            if submitted not in base_data:
                base_data[submitted] = valid_looking_data(name, client, url, case)
            names, data = base_data[submitted][0], dict(base_data[submitted][1])
            targets = names or ["text"]
            for pick, value in zip(field_picks, values, strict=False):
                field = targets[pick % len(targets)]
                if drop and pick % 3 == 0:
                    data.pop(field, None)
                else:
                    data[field] = value
            data.update(extra)
            before = snapshot()
            client.cookies.pop("messages", None)  # messages left unread by earlier examples
            response = client.post(url, data)
            assert response.status_code < 500, f"POST {url} answered {response.status_code} with {str(data)[:500]}"
            assert_everything_stored_is_valid()
            if was_refused(response):
                assert snapshot() == before, f"POST {url} was refused but changed the database"
            transaction.set_rollback(True)

    post_hostile()


# --------------------------------------------------------------------------------------------------
# Deeper properties of the clinical forms
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", sorted(RECORD_KINDS))
def test_a_tampered_version_is_refused_with_400_and_changes_nothing(slug, clinician, case_a):
    client = Client(raise_request_exception=False)
    client.force_login(clinician)

    @settings(FUZZ_SETTINGS, max_examples=max(3, EXAMPLES // 3))
    @given(forged=st.one_of(st.sampled_from(["1:forged", "2", "-1", "1e308", "\x00", "9" * 400]), scalar))
    def post_forged(forged):
        with transaction.atomic():
            kind = RECORD_KINDS[slug]
            record = kind.model.objects.filter(**{kind.case_path: case_a}).first()
            url = reverse(f"cases:{slug}-update", args=[case_a.pk, record.pk])
            _, data = read_form(client, url)
            before = snapshot()
            response = client.post(url, {**data, "version": forged})
            assert response.status_code < 500
            if forged not in {"", "None"}:
                assert response.status_code in (200, 400)  # a forged signature is 400; "0" is a conflict
            assert snapshot() == before
            transaction.set_rollback(True)

    post_forged()


def test_a_valid_looking_record_posted_unchanged_is_saved(client, clinician, case_a):
    """The base data of the fuzzing is really valid: posting it untouched saves every kind of record,
    so the hostile values, not missing fields, are what the fuzz tests exercise."""
    client.force_login(clinician)
    for slug in RECORD_KINDS:
        kind = RECORD_KINDS[slug]
        count = kind.model.objects.filter(**{kind.case_path: case_a}).count()
        name = f"cases:{slug}-create"
        url = reverse(name, args=[case_a.pk])
        _, data = valid_looking_data(name, client, url, case_a)
        response = client.post(url, data)
        assert response.status_code == 302, (slug, response.context and response.context["form"].errors)
        assert kind.model.objects.filter(**{kind.case_path: case_a}).count() == count + 1
    url = reverse("cases:patient-create")
    _, data = valid_looking_data("cases:patient-create", client, url, case_a)
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors


def test_a_query_on_another_case_s_record_is_refused(client, reviewer, case_a, centre_b):
    from tests.factories import MedicationCourseFactory, PatientFactory

    other = MedicationCourseFactory(patient=PatientFactory(centre=centre_b))
    client.force_login(reviewer)
    response = client.post(
        reverse("cases:query-create", args=[case_a.pk]),
        {"question": "Which dose?", "record": f"cases.medicationcourse:{other.pk}"},
    )
    assert response.status_code == 400
    assert not DataQuery.objects.exists()
