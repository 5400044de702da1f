"""A record's check constraints evaluated in Python where Python and the database agree, so an
import validates a row without a query, a savepoint and a release per constraint."""

import operator
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import CheckConstraint, F, Q


class NotInPython(Exception):
    """A check constraint the Python evaluation does not understand: ask the database. `field`
    names a field the row has no value for (excluded after failing validation, or unknown)."""

    def __init__(self, what, field=None):
        super().__init__(what)
        self.field = field


COMPARISONS = {"exact": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
NUMBERS = (int, Decimal, float)


def sql_truth(condition, values):
    """A Q over one row's field values, with SQL's three-valued logic: True, False or None (unknown).

    Only the lookups the registry's constraints use are understood (exact, isnull and the
    comparisons, against literals or F() of another field, with AND, OR and NOT); anything else
    raises NotInPython. Comparisons are only made between values of the same kind (text, number,
    date, boolean), where Python and SQL agree; text is compared for equality only (collations).
    """
    if isinstance(condition, Q):
        if condition.connector not in (Q.AND, Q.OR):
            raise NotInPython(condition.connector)
        results = [sql_truth(child, values) for child in condition.children]
        if condition.connector == Q.AND:
            result = False if False in results else (None if None in results else True)
        else:
            result = True if True in results else (None if None in results else False)
        return (None if result is None else not result) if condition.negated else result
    if not isinstance(condition, tuple) or len(condition) != 2:
        raise NotInPython(condition)
    lookup, rhs = condition
    name, _, kind = lookup.partition("__")
    kind = kind or "exact"
    if name not in values:
        raise NotInPython(lookup, field=name)
    lhs = values[name]
    if kind == "isnull":
        if not isinstance(rhs, bool):
            raise NotInPython(lookup)
        return (lhs is None) == rhs
    if kind not in COMPARISONS:
        raise NotInPython(lookup)
    if isinstance(rhs, F):
        if rhs.name not in values:
            raise NotInPython(lookup, field=rhs.name)
        rhs = values[rhs.name]
    elif hasattr(rhs, "resolve_expression"):
        raise NotInPython(rhs)
    elif rhs is None:
        if kind != "exact":
            raise NotInPython(lookup)
        return lhs is None  # Django turns `field=None` into IS NULL
    if lhs is None or rhs is None:
        return None
    if isinstance(lhs, bool) or isinstance(rhs, bool):
        same = isinstance(lhs, bool) and isinstance(rhs, bool)
    elif isinstance(lhs, NUMBERS) or isinstance(rhs, NUMBERS):
        same = isinstance(lhs, NUMBERS) and isinstance(rhs, NUMBERS)
    elif isinstance(lhs, str) or isinstance(rhs, str):
        same = isinstance(lhs, str) and isinstance(rhs, str) and kind == "exact"
    else:
        same = type(lhs) is type(rhs) and isinstance(lhs, date)
    if not same:
        raise NotInPython(lookup)
    return COMPARISONS[kind](lhs, rhs)


def field_values(model, instance, exclude):
    """The values a check constraint sees, as Model._get_field_expression_map() gives them."""
    values = {f.name: getattr(instance, f.attname) for f in model._meta.local_concrete_fields if f.name not in exclude}
    if "pk" not in exclude:
        values["pk"] = instance.pk
    return values


def check_passes(constraint, values, exclude):
    """CheckConstraint.validate() without its query, or None when the database must be asked.

    As Django's: a condition naming an excluded field (one that failed validation) is not
    checked, and an unknown (NULL) result passes, as it does in the database."""
    try:
        return sql_truth(Q(constraint.condition), values) is not False
    except NotInPython as unknown:
        return True if unknown.field in exclude else None


def validate_constraints(instance, exclude):
    """Model.validate_constraints(), with each CheckConstraint evaluated in Python when it can be."""
    errors = {}
    using = router.db_for_write(type(instance), instance=instance)
    for model, constraints in instance.get_constraints():
        generated = any(f.generated for f in model._meta.local_concrete_fields)
        values = None if generated else field_values(model, instance, exclude)
        for constraint in constraints:
            checkable = type(constraint) is CheckConstraint and values is not None
            passes = check_passes(constraint, values, exclude) if checkable else None
            try:
                if passes is None:
                    constraint.validate(model, instance, exclude=exclude, using=using)
                elif not passes:
                    message, code = constraint.get_violation_error_message(), constraint.violation_error_code
                    raise ValidationError(message, code=code)
            except ValidationError as e:
                if getattr(e, "code", None) == "unique" and len(constraint.fields) == 1:
                    errors.setdefault(constraint.fields[0], []).append(e)
                else:
                    errors = e.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
