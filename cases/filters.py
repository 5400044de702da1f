"""The case list's search, filters and sort order (django-filter), scoped to the user's centres."""

import django_filters
from django.db.models import Exists, OuterRef

from registry.models import Centre
from registry.roles import sees_all_centres

from .models import (
    AdverseEvent,
    Diagnosis,
    MscAdministration,
    MscProduct,
    MscRoute,
    Patient,
    ReviewStatus,
    TissueSource,
)


def visible_centres(request):
    if request is None:
        return Centre.objects.none()
    if sees_all_centres(request.user):
        return Centre.objects.all()
    return Centre.objects.filter(members=request.user)


class PatientFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter("study_id", lookup_expr="icontains", label="Study ID")
    diagnosis = django_filters.ChoiceFilter(choices=Diagnosis.choices)
    centre = django_filters.ModelChoiceFilter(queryset=visible_centres)
    review_status = django_filters.ChoiceFilter(choices=ReviewStatus.choices, label="Review status")
    source = django_filters.ChoiceFilter(choices=TissueSource.choices, label="MSC source", method="filter_source")
    route = django_filters.ChoiceFilter(choices=MscRoute.choices, label="MSC route", method="filter_route")
    serious_event = django_filters.BooleanFilter(
        label="Serious adverse event", method="filter_serious", widget=django_filters.widgets.BooleanWidget
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("study_id", "study_id"),
            ("centre__code", "centre"),
            ("diagnosis", "diagnosis"),
            ("age_at_onset_years", "onset"),
            ("review_status", "status"),
            ("administration_count", "administrations"),
            ("event_count", "events"),
        ),
        field_labels={"administration_count": "MSC administrations", "event_count": "Adverse events"},
        label="Sort by",
    )

    class Meta:
        model = Patient
        fields = ["study_id", "diagnosis", "centre", "review_status", "source", "route", "serious_event"]

    # Filters on a case's records are EXISTS subqueries, not joins: a join repeats the case once per
    # matching record and needs DISTINCT over every column of the page and of its count, many times
    # the work of an EXISTS at registry scale.
    def filter_source(self, queryset, name, value):
        return queryset.filter(Exists(MscProduct.objects.filter(patient=OuterRef("pk"), tissue_source=value)))

    def filter_route(self, queryset, name, value):
        given = MscAdministration.objects.filter(product__patient=OuterRef("pk"), route=value)
        return queryset.filter(Exists(given))

    def filter_serious(self, queryset, name, value):
        serious = Exists(AdverseEvent.objects.serious().filter(patient=OuterRef("pk")))
        return queryset.filter(serious) if value else queryset.exclude(serious)
