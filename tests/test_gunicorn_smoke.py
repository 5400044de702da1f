"""The app under gunicorn, with the production settings, against PostgreSQL: the log-in page and a
logged-in case page answer 200, and plain HTTP is redirected to HTTPS.

gunicorn is a separate process, so the data it reads must be committed: the test uses
`transactional_db` (pytest-django's test database, emptied afterwards) rather than a transaction
that is rolled back.
"""

import pytest
from django.conf import settings
from django.db import connection

from bench.server import Gunicorn, argon2_hash, database_url, log_in, production_env, request
from registry import roles
from tests.factories import CentreFactory, PatientFactory
from tests.roles import person

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="gunicorn smoke test needs PostgreSQL (set DATABASE_URL); SQLite is not a deployment database",
)

PASSWORD = "gunicorn-smoke-password-12345"


@pytest.fixture
def case_and_clinician(transactional_db):
    centre = CentreFactory(code="SYN-GUNICORN", name="Synthetic gunicorn centre")
    clinician = person("gunicorn-clinician", roles.CLINICIAN, [centre])
    clinician.password = argon2_hash(PASSWORD)
    clinician.save()
    return PatientFactory(centre=centre, study_id="SYN-G-0001", created_by=clinician), clinician


def test_gunicorn_serves_login_and_a_logged_in_case_page(case_and_clinician, tmp_path):
    patient, clinician = case_and_clinician
    env = production_env(database_url(settings.DATABASES["default"]), tmp_path / "static")
    with Gunicorn(env, workers=2, log=tmp_path / "gunicorn.log") as server:
        status, headers, _ = request(server.port, "GET", "/accounts/login/", headers={"X-Forwarded-Proto": "http"})
        assert status == 301 and dict(headers)["Location"].startswith("https://")

        status, headers, body = request(server.port, "GET", "/accounts/login/")
        assert status == 200 and b'name="password"' in body
        assert "max-age=31536000" in dict(headers)["Strict-Transport-Security"]

        cookies = log_in(server.port, clinician.username, PASSWORD)
        status, _, body = request(server.port, "GET", f"/cases/{patient.pk}/", cookies=cookies)
        assert status == 200, body[:500]
        assert b"SYN-G-0001" in body

        status, headers, _ = request(server.port, "GET", f"/cases/{patient.pk}/")  # not logged in
        assert status == 302 and "/accounts/login/" in dict(headers)["Location"]

        status, _, body = request(server.port, "GET", "/static/css/registry.css")
        assert status == 200 and body
