"""Who may see what, and what may be written: the querysets of every clinical record.

`visible_to(user)` is the single place where records are scoped to a user's centres: every view,
form choice and export asks it, nothing filters by centre by hand. A record outside the user's
centres is not in the queryset, so a view that looks it up answers 404, never its content.

The same querysets refuse the writes that would escape the audit trail (see cases.audit), and
the default managers hide withdrawn records (see cases.models.common.Withdrawable).
"""

from django.db import models

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
