"""The regenerated Summary Table and the cohort page, both for the cases the case list's filters
select (the same query string as cases:patient-list)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ..case_records import records_of
from ..filters import PatientFilter
from ..models import Patient
from ..reports import figures, safety, summary
from ..reports.cohort import cohort_numbers
from ..reports.flare_figure import flare_free_figure


def filtered_cases(request):
    """The cases of the case list's filters and their records (CaseRecords, built once for every
    table, number and figure of the page), in a fixed number of queries."""
    queryset = Patient.objects.for_case_list(request.user).order_by("centre__code", "study_id")
    filterset = PatientFilter(request.GET or None, queryset=queryset, request=request)
    cases = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    return filterset, records_of(cases)


@login_required
def summary_table(request):
    filterset, cases = filtered_cases(request)
    headers, rows = summary.summary_table(cases)
    context = {"filter": filterset, "headers": headers, "rows": rows, "querystring": request.GET.urlencode()}
    return render(request, "cases/summary_table.html", context)


@login_required
def cohort(request):
    filterset, cases = filtered_cases(request)
    flares = safety.time_to_flare(cases)
    context = {
        "filter": filterset,
        "numbers": cohort_numbers(cases),
        "figure": figures.cohort_figure(cases),
        "safety": safety.safety_rates(cases),
        "flares": flares,
        "flare_figure": flare_free_figure(flares),
        "querystring": request.GET.urlencode(),
    }
    return render(request, "cases/cohort.html", context)
