"""factory_boy factories for synthetic test data: obviously fake study IDs, never a real case."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from cases.models import (
    AdverseEvent,
    Assessment,
    Consent,
    ConsentKind,
    Diagnosis,
    EventCategory,
    FollowUpStatus,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    MscRoute,
    Patient,
    PreviousDiagnosis,
    RecordSource,
    RelationToMsc,
    ReportedBy,
    Timepoint,
    Visit,
    VisitDefinition,
    VisitStatus,
    VitalStatus,
)
from cases.models import Drug as DrugChoice
from registry.models import Centre


class CentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Centre
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"SYN-C{n:03d}")
    name = factory.Sequence(lambda n: f"Synthetic centre {n}")
    country = "XX"
    is_synthetic = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"synthetic-user-{n}")
    password = factory.django.Password("synthetic-password-123")

    @factory.post_generation
    def centres(self, create, extracted, **kwargs):
        if create and extracted:
            self.centres.set(extracted)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    centre = factory.SubFactory(CentreFactory)
    study_id = factory.Sequence(lambda n: f"SYN-{n + 1:04d}")
    diagnosis = Diagnosis.SLE
    age_at_onset_years = Decimal("12.0")
    age_at_diagnosis_years = Decimal("12.5")
    abstracted_from = RecordSource.SYNTHETIC


class PreviousDiagnosisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PreviousDiagnosis

    patient = factory.SubFactory(PatientFactory)
    diagnosis = Diagnosis.UCTD
    age_years = Decimal("11.0")
    abstracted_from = RecordSource.SYNTHETIC


class MscProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MscProvider
        django_get_or_create = ["name", "country"]

    name = factory.Sequence(lambda n: f"Synthetic cell clinic {n}")
    country = "XX"
    abstracted_from = RecordSource.SYNTHETIC


class MscProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MscProduct

    patient = factory.SubFactory(PatientFactory)
    label = factory.Sequence(lambda n: f"synthetic product {n}")
    provider = factory.SubFactory(MscProviderFactory)
    abstracted_from = RecordSource.SYNTHETIC


class MscAdministrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MscAdministration

    product = factory.SubFactory(MscProductFactory)
    sequence = 1
    route = MscRoute.INTRAVENOUS
    age_years = Decimal("13.0")
    cells_millions = Decimal("100.00")
    weight_kg = Decimal("50.00")
    abstracted_from = RecordSource.SYNTHETIC


class MedicationCourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicationCourse

    patient = factory.SubFactory(PatientFactory)
    drug = DrugChoice.METHOTREXATE
    relation_to_msc = RelationToMsc.BEFORE
    start_age_years = Decimal("12.5")
    abstracted_from = RecordSource.SYNTHETIC


SERIOUSNESS_CRITERIA = (
    "resulted_in_death",
    "life_threatening",
    "required_hospitalisation",
    "persistent_disability",
    "congenital_anomaly",
    "medically_important",
)


class AdverseEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdverseEvent

    patient = factory.SubFactory(PatientFactory)
    description = "synthetic flu-like symptoms"
    category = EventCategory.FEVER_FLU_LIKE
    ctcae_grade = 1
    reported_by = ReportedBy.FAMILY
    # Answered from the criteria the test ticks, as a reviewer would: serious exactly when one is met.
    seriousness = factory.LazyAttribute(
        lambda e: "serious" if any(getattr(e, name, False) for name in SERIOUSNESS_CRITERIA) else "not_serious"
    )
    abstracted_from = RecordSource.SYNTHETIC


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment

    patient = factory.SubFactory(PatientFactory)
    timepoint = Timepoint.BEFORE_MSC
    age_years = Decimal("12.9")
    abstracted_from = RecordSource.SYNTHETIC


class ConsentFactory(factory.django.DjangoModelFactory):
    """The parents' permission covering registry data and sharing: a consent basis."""

    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory)
    kind = ConsentKind.PARENTAL_PERMISSION
    form_version = "Synthetic permission v1"
    covers_sharing = True


class FollowUpStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpStatus

    patient = factory.SubFactory(PatientFactory)
    status = VitalStatus.ALIVE
    abstracted_from = RecordSource.SYNTHETIC


class VisitFactory(factory.django.DjangoModelFactory):
    """The 1-month visit, done on day 30, every screen question answered 'No'."""

    class Meta:
        model = Visit

    patient = factory.SubFactory(PatientFactory)
    definition = factory.LazyFunction(lambda: VisitDefinition.objects.get(code="M1"))
    status = VisitStatus.DONE
    visit_days_from_first_msc = 30
    weight_kg = Decimal("40.5")
    esi_infection = esi_thromboembolism = esi_infusion_reaction = esi_malignancy = "no"
    esi_ectopic_tissue = esi_hospitalisation = esi_new_autoimmunity = "no"
    abstracted_from = RecordSource.SYNTHETIC
