"""Shared fixtures: one synthetic centre and one synthetic case in it."""

import pytest

from tests.factories import CentreFactory, PatientFactory

# People in each role, and a case of centre A.
pytest_plugins = ["tests.roles"]


@pytest.fixture
def centre(db):
    return CentreFactory(code="SYN-CENTRE", name="Synthetic test centre")


@pytest.fixture
def patient(centre):
    return PatientFactory(centre=centre)
