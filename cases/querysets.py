"""Who may see what: the single place where records are scoped to a user's centres.

Every view, form choice and export asks `Model.objects.visible_to(user)`; nothing filters by
centre by hand. A record outside the user's centres is simply not in the queryset, so a view
that looks it up answers 404, never its content.
"""

from django.db import models

from registry.roles import sees_all_centres


class CentreScopedQuerySet(models.QuerySet):
    #: The lookup from this model to its Centre, e.g. "patient__centre".
    centre_path = "patient__centre"

    def visible_to(self, user):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_all_centres(user):
            return self
        return self.filter(**{f"{self.centre_path}__members": user})
