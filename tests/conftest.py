"""Shared fixtures: one synthetic centre and one synthetic case in it."""

import pytest

from tests.factories import CentreFactory, PatientFactory


@pytest.fixture
def centre(db):
    return CentreFactory(code="SYN-CENTRE", name="Synthetic test centre")


@pytest.fixture
def patient(centre):
    return PatientFactory(centre=centre)


from tests.roles import *  # noqa: E402,F401,F403  (people in each role, and a case of centre A)
