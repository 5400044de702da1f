"""Who may see what, and what may be written: the querysets of every clinical record.

`visible_to(user)` is the single place where records are scoped to a user's centres: every view,
form choice and export asks it, nothing filters by centre by hand. A record outside the user's
centres is not in the queryset, so a view that looks it up answers 404, never its content.

The same querysets refuse the writes that would escape the audit trail (see cases.audit), and
the default managers hide withdrawn records (see cases.models.common.Withdrawable).
"""

from django.apps import apps
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from registry.roles import sees_all_centres

from .audit import refuse_unaudited


class ClinicalQuerySet(models.QuerySet):
    #: The lookup from this model to its Centre, e.g. "patient__centre".
    centre_path = "patient__centre"
    #: The lookup to the case, whose withdrawal hides all its records ("" for the case itself).
    case_path = "patient"

    def visible_to(self, user):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        queryset = self
        if self.case_path:
            queryset = queryset.filter(**{f"{self.case_path}__withdrawn_at__isnull": True})
        if sees_all_centres(user):
            return queryset
        return queryset.filter(**{f"{self.centre_path}__members": user})

    def update(self, **kwargs):
        refuse_unaudited("update")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        refuse_unaudited("bulk_update")
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def bulk_create(self, objs, *args, **kwargs):
        refuse_unaudited("bulk_create")
        return super().bulk_create(objs, *args, **kwargs)

    def delete(self):
        # Deleting through a queryset bypasses the per-record rules (only drafts may be deleted,
        # submitted records are withdrawn); delete one record at a time.
        refuse_unaudited("delete")
        return super().delete()


class ActiveManager(models.Manager):
    """The default manager: records that have not been withdrawn."""

    def get_queryset(self):
        return super().get_queryset().filter(withdrawn_at__isnull=True)


def records_per_case(records, patient_path):
    """The number of a case's records in `records` (a queryset), as a subquery on the case."""
    per_case = records.filter(**{patient_path: OuterRef("pk")}).order_by().values(patient_path)
    return Coalesce(Subquery(per_case.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)


class PatientQuerySet(ClinicalQuerySet):
    centre_path = "centre"
    case_path = ""  # the default manager already hides withdrawn cases

    def get_by_natural_key(self, centre_code, study_id):
        return self.get(centre__code=centre_code, study_id=study_id)

    def for_case_list(self, user):
        """The cases a user may see, as the case list, the dashboard and the reports show them."""
        return self.visible_to(user).select_related("centre")

    def with_record_counts(self):
        """Each case with its (not withdrawn) administrations, adverse events and open data queries.

        Subqueries in the SELECT list, which PostgreSQL evaluates after the sort and the LIMIT, for the
        page's 25 rows only; sorting by a count computes it for every matching case, still less than a
        Count() over joins, which groups by every column of the case. This needs current planner
        statistics: on tables it believed empty, PostgreSQL ran such subqueries by sequential scan (see
        docs/deploy.md). The models are looked up when called: they import this module."""
        administrations = apps.get_model("cases", "MscAdministration").objects.all()
        events = apps.get_model("cases", "AdverseEvent").objects.all()
        queries = apps.get_model("cases", "DataQuery").objects.exclude(status="closed")
        return self.annotate(
            administration_count=records_per_case(administrations, "product__patient"),
            event_count=records_per_case(events, "patient"),
            open_query_count=records_per_case(queries, "patient"),
        )
