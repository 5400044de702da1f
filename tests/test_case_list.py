"""The case list: search by study ID, filters, sorting and pagination."""

from django.urls import reverse

from cases.models import TissueSource
from tests.factories import AdverseEventFactory, MscAdministrationFactory, MscProductFactory, PatientFactory


def listed(client, **params):
    response = client.get(reverse("cases:patient-list"), params)
    assert response.status_code == 200
    return [p.study_id for p in response.context["object_list"]]


def test_filters_by_study_id_diagnosis_source_route_and_serious_event(client, clinician, centre_a):
    sle = PatientFactory(centre=centre_a, study_id="SYN-SLE", diagnosis="sle")
    jia = PatientFactory(centre=centre_a, study_id="SYN-JIA", diagnosis="jia")
    product = MscProductFactory(patient=jia, tissue_source=TissueSource.UMBILICAL_CORD)
    MscAdministrationFactory(product=product, route="intra_articular")
    MscAdministrationFactory(product=MscProductFactory(patient=sle, tissue_source=TissueSource.ADIPOSE))
    AdverseEventFactory(patient=sle, required_hospitalisation=True)
    client.force_login(clinician)
    assert listed(client, study_id="jia") == ["SYN-JIA"]
    assert listed(client, diagnosis="sle") == ["SYN-SLE"]
    assert listed(client, source="umbilical_cord") == ["SYN-JIA"]
    assert listed(client, route="intra_articular") == ["SYN-JIA"]
    assert listed(client, serious_event="true") == ["SYN-SLE"]
    assert listed(client, serious_event="false") == ["SYN-JIA"]


def test_sorts_and_paginates(client, clinician, centre_a):
    for n in range(30):
        PatientFactory(centre=centre_a, study_id=f"SYN-{n:03d}")
    client.force_login(clinician)
    assert listed(client, ordering="-study_id")[0] == "SYN-029"
    first_page = listed(client)
    assert len(first_page) == 25
    assert listed(client, page=2) == ["SYN-025", "SYN-026", "SYN-027", "SYN-028", "SYN-029"]


def test_sorts_by_number_of_administrations(client, clinician, centre_a):
    few = PatientFactory(centre=centre_a, study_id="SYN-FEW")
    many = PatientFactory(centre=centre_a, study_id="SYN-MANY")
    MscAdministrationFactory(product=MscProductFactory(patient=few))
    product = MscProductFactory(patient=many)
    for seq in (1, 2, 3):
        MscAdministrationFactory(product=product, sequence=seq)
    client.force_login(clinician)
    assert listed(client, ordering="-administrations") == ["SYN-MANY", "SYN-FEW"]
    page = client.get(reverse("cases:patient-list"), {"ordering": "-administrations"})
    assert [p.administration_count for p in page.context["object_list"]] == [3, 1]
