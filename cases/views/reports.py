"""The regenerated Summary Table and the cohort page, both for the cases the case list's filters
select (the same query string as cases:patient-list)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .. import figures, reports
from ..case_records import with_records
from ..filters import PatientFilter
from ..models import Patient


def filtered_cases(request):
    """The cases of the case list's filters, with their records, in a fixed number of queries."""
    queryset = Patient.objects.for_case_list(request.user).order_by("centre__code", "study_id")
    filterset = PatientFilter(request.GET or None, queryset=queryset, request=request)
    cases = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    return filterset, list(with_records(cases))


@login_required
def summary_table(request):
    filterset, cases = filtered_cases(request)
    headers, rows = reports.summary_table(cases)
    context = {"filter": filterset, "headers": headers, "rows": rows, "querystring": request.GET.urlencode()}
    return render(request, "cases/summary_table.html", context)


@login_required
def cohort(request):
    filterset, cases = filtered_cases(request)
    context = {
        "filter": filterset,
        "numbers": reports.cohort_numbers(cases),
        "figure": figures.cohort_figure(cases),
        "querystring": request.GET.urlencode(),
    }
    return render(request, "cases/cohort.html", context)
