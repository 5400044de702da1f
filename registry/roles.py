"""The three roles of the registry, as Django groups, and what each may do.

Roles are groups so that an admin assigns them in the admin; which centres a user sees is a
separate fact (Centre.members). `registry/migrations/0002_roles.py` creates the groups from
role_permissions(), and re-running it after adding a permission brings existing groups up to date.
"""

CLINICIAN = "Clinician"
REVIEWER = "Reviewer"
REGISTRY_ADMIN = "Registry admin"
ROLES = [CLINICIAN, REVIEWER, REGISTRY_ADMIN]

# Each role can do what the one before it can, and more. Entering records (view, add, change and
# delete every clinical model) is added by role_permissions(), from the clinical app's own list.
_CLINICIAN = ["cases.submit_patient", "cases.view_dataquery", "cases.answer_dataquery"]
_REVIEWER = [
    *_CLINICIAN,
    "cases.add_dataquery",
    "cases.close_dataquery",
    "cases.verify_patient",
    "cases.export_registry",
    "cases.view_history",
]
_REGISTRY_ADMIN = [
    *_REVIEWER,
    "cases.unlock_patient",
    "cases.import_registry",
    "cases.export_identifiable",
    "cases.see_all_centres",
    "cases.restore_withdrawn",
    "cases.view_visitdefinition",
    "cases.add_visitdefinition",
    "cases.change_visitdefinition",
    "registry.view_centre",
    "registry.add_centre",
    "registry.change_centre",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
    "registry.view_accountchange",
    "registry.view_securitypolicy",
    "registry.add_securitypolicy",
    "registry.change_securitypolicy",
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
    "axes.view_accesslog",
    "otp_totp.view_totpdevice",
    "otp_totp.delete_totpdevice",
]


def role_permissions():
    """Each role's permissions ('app_label.codename'): entering every clinical record, then its own."""
    from cases.kinds import CLINICAL_MODELS  # the one list of what clinicians enter

    enter = [
        f"cases.{action}_{m._meta.model_name}"
        for m in CLINICAL_MODELS
        for action in ("view", "add", "change", "delete")
    ]
    return {
        CLINICIAN: [*enter, *_CLINICIAN],
        REVIEWER: [*enter, *_REVIEWER],
        REGISTRY_ADMIN: [*enter, *_REGISTRY_ADMIN],
    }


def sees_all_centres(user):
    return user.is_superuser or user.has_perm("cases.see_all_centres")


def sync_roles(apps, **kwargs):
    """Create the role groups and give them exactly role_permissions().

    Called by migration 0002_roles and after every migrate or flush (post_migrate), so groups
    follow this file and survive the database flushes of transactional tests.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:  # not yet created while the app is still migrating
                wanted.append(permission)
        group.permissions.set(wanted)
