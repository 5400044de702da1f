"""Who may manage which accounts, and the record of every change to what an account may do.

A superuser manages every account. A registry admin manages the accounts of their own centres:
accounts that belong to at least one of the admin's centres and to no other centre, never a
superuser; they may give only the three roles (registry.roles) and only their own centres. Only a
superuser grants superuser or staff status or individual permissions (registry.admin enforces it
in the forms).

Every change of roles, centres, active, staff or superuser status, or individual permissions is
written to the append-only AccountChange history by the signal handlers below, however it is made
(admin, command, shell). Within `recording_account_changes()` (one admin save) the changes to one
field of one account are written as a single row, from the value before the save to the value
after it.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Exists, OuterRef
from django.db.models.signals import m2m_changed, post_save, pre_save
from simple_history.models import HistoricalRecords

from .. import roles
from ..models import AccountChange, AccountField, Centre

# --- Who manages whom -------------------------------------------------------------------------


def own_centres(user):
    if user.is_superuser:
        return Centre.objects.all()
    return Centre.objects.filter(members=user)


def manageable_users(user):
    """The accounts `user` may see and edit in the admin."""
    User = get_user_model()
    if user.is_superuser:
        return User.objects.all()
    membership = Centre.members.through.objects.filter(user=OuterRef("pk"))
    own = own_centres(user).values("pk")
    return User.objects.filter(
        Exists(membership.filter(centre__in=own)), ~Exists(membership.exclude(centre__in=own)), is_superuser=False
    )


def assignable_roles(user):
    if user.is_superuser:
        return Group.objects.all()
    return Group.objects.filter(name__in=roles.ROLES)


# --- The account history ----------------------------------------------------------------------

FLAGS = {"is_active": AccountField.ACTIVE, "is_staff": AccountField.STAFF, "is_superuser": AccountField.SUPERUSER}
NEW_ACCOUNT = "(new account)"
NOTHING = "(none)"

_batch = ContextVar("account_changes", default=None)


def _yes_no(value):
    return "yes" if value else "no"


def _names(values):
    return ", ".join(sorted(values)) or NOTHING


def _current(field, user_pk):
    if field == AccountField.ROLES:
        return _names(Group.objects.filter(user=user_pk).values_list("name", flat=True))
    if field == AccountField.CENTRES:
        return _names(Centre.objects.filter(members=user_pk).values_list("code", flat=True))
    return _names(
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(user=user_pk).values_list("content_type__app_label", "codename")
    )


def _acting_user():
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _write(account_pk, account_username, field, before, after):
    if before == after:
        return
    by = _acting_user()
    AccountChange.objects.create(
        account_id=account_pk,
        account_username=account_username,
        changed_by=by,
        changed_by_username=by.get_username() if by else "",
        field=field,
        before=before,
        after=after,
    )


def _record(account_pk, account_username, field, before, after):
    batch = _batch.get()
    if batch is None:
        _write(account_pk, account_username, field, before, after)
        return
    key = (account_pk, field)
    first_before = batch[key][2] if key in batch else before
    batch[key] = (account_pk, account_username, first_before, after)


@contextmanager
def recording_account_changes():
    """Write one row per account and field for everything changed inside the block."""
    if _batch.get() is not None:
        yield
        return
    batch = {}
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    for (_, field), (account_pk, username, before, after) in batch.items():
        _write(account_pk, username, field, before, after)


def _before_user_saved(sender, instance, update_fields=None, raw=False, **kwargs):
    if raw or (update_fields is not None and not set(update_fields) & set(FLAGS)):
        return  # e.g. last_login at every log-in: nothing to compare, no query
    if instance._state.adding or instance.pk is None:
        instance._account_flags_before = None
        return
    instance._account_flags_before = sender._base_manager.filter(pk=instance.pk).values(*FLAGS).first()


def _after_user_saved(sender, instance, created, raw=False, **kwargs):
    if raw or not hasattr(instance, "_account_flags_before"):
        return
    before = instance._account_flags_before
    del instance._account_flags_before
    for name, field in FLAGS.items():
        after = getattr(instance, name)
        if before is None:
            if after != sender._meta.get_field(name).default:
                _record(instance.pk, instance.get_username(), field, NEW_ACCOUNT, _yes_no(after))
        elif before[name] != after:
            _record(instance.pk, instance.get_username(), field, _yes_no(before[name]), _yes_no(after))


def _relation_field(sender):
    User = get_user_model()
    return {
        User.groups.through: AccountField.ROLES,
        User.user_permissions.through: AccountField.PERMISSIONS,
        Centre.members.through: AccountField.CENTRES,
    }.get(sender)


def _on_relation_changed(sender, instance, action, pk_set, **kwargs):
    field = _relation_field(sender)
    if field is None or action not in {"pre_add", "pre_remove", "pre_clear", "post_add", "post_remove", "post_clear"}:
        return
    User = get_user_model()
    if action.startswith("pre_"):
        if isinstance(instance, User):
            accounts = [(instance.pk, instance.get_username())]
        elif action == "pre_clear":  # a centre, group or permission losing all its accounts
            accounts = list(getattr(instance, _reverse_accessor(sender, instance)).values_list("pk", "username"))
        else:
            accounts = list(User._base_manager.filter(pk__in=pk_set).values_list("pk", "username"))
        instance._account_relation_before = [(pk, name, _current(field, pk)) for pk, name in accounts]
        return
    for pk, name, before in getattr(instance, "_account_relation_before", []):
        _record(pk, name, field, before, _current(field, pk))
    instance._account_relation_before = []


def _reverse_accessor(sender, instance):
    if isinstance(instance, Centre):
        return "members"
    return "user_set"  # Group.user_set, Permission.user_set


def connect():
    """Called from RegistryConfig.ready()."""
    User = get_user_model()
    pre_save.connect(_before_user_saved, sender=User, dispatch_uid="registry.accounts.before_user_saved")
    post_save.connect(_after_user_saved, sender=User, dispatch_uid="registry.accounts.after_user_saved")
    for through in (User.groups.through, User.user_permissions.through, Centre.members.through):
        m2m_changed.connect(_on_relation_changed, sender=through, dispatch_uid=f"registry.accounts.{through.__name__}")
