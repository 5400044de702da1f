"""The case list: search by study ID, filters, sorting and pagination."""

from django.urls import reverse

from cases.models import DataQuery, TissueSource
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


def test_a_case_with_several_matching_records_is_listed_once(client, clinician, centre_a):
    patient = PatientFactory(centre=centre_a, study_id="SYN-TWICE")
    for seq in (1, 2):
        product = MscProductFactory(patient=patient, tissue_source=TissueSource.UMBILICAL_CORD)
        MscAdministrationFactory(product=product, route="intravenous", sequence=seq)
    client.force_login(clinician)
    assert listed(client, source="umbilical_cord", route="intravenous") == ["SYN-TWICE"]
    page = client.get(reverse("cases:patient-list"), {"source": "umbilical_cord"})
    assert page.context["paginator"].count == 1


def test_sorting_by_adverse_events_ignores_withdrawn_events(client, clinician, centre_a):
    one = PatientFactory(centre=centre_a, study_id="SYN-ONE")
    withdrawn = PatientFactory(centre=centre_a, study_id="SYN-WITHDRAWN-EVENTS")
    AdverseEventFactory(patient=one)
    for _ in range(2):
        event = AdverseEventFactory(patient=withdrawn)
        event.withdraw(clinician, "Entered twice")
    client.force_login(clinician)
    assert listed(client, ordering="-events") == ["SYN-ONE", "SYN-WITHDRAWN-EVENTS"]


def test_the_filter_form_shows_the_current_query_and_centres(client, clinician, centre_a):
    """The form is cached (cases.views.cases.PatientListView); what it shows must still follow the query
    and the centres the user may choose."""
    client.force_login(clinician)
    url = reverse("cases:patient-list")
    first = client.get(url, {"diagnosis": "sle"}).content.decode()
    assert '<option value="sle" selected>' in first
    assert '<option value="jia" selected>' in client.get(url, {"diagnosis": "jia"}).content.decode()
    assert '<option value="sle" selected>' in client.get(url, {"diagnosis": "sle"}).content.decode()
    centre_a.name = "Renamed synthetic centre"
    centre_a.save()
    assert "Renamed synthetic centre" in client.get(url, {"diagnosis": "sle"}).content.decode()


def test_each_row_counts_the_case_records_that_are_in_force(client, clinician, reviewer, centre_a):
    patient = PatientFactory(centre=centre_a, study_id="SYN-COUNTS")
    product = MscProductFactory(patient=patient)
    for seq in (1, 2):
        MscAdministrationFactory(product=product, sequence=seq)
    AdverseEventFactory(patient=patient)
    AdverseEventFactory(patient=patient).withdraw(clinician, "Entered twice")
    DataQuery.objects.create(patient=patient, question="Weight at infusion?", raised_by=reviewer)
    DataQuery.objects.create(patient=patient, question="Route?", raised_by=reviewer, status="closed")
    client.force_login(clinician)
    for url in (reverse("cases:patient-list"), reverse("cases:dashboard")):
        page = client.get(url)
        rows = page.context["object_list"] if "object_list" in page.context else page.context["my_cases"]
        [row] = [p for p in rows if p.study_id == "SYN-COUNTS"]
        assert (row.administration_count, row.event_count, row.open_query_count) == (2, 1, 1)
