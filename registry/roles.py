"""The three roles of the registry, as Django groups, and what each may do.

Roles are groups so that an admin assigns them in the admin; which centres a user sees is a
separate fact (Centre.members). `registry/migrations/0002_roles.py` creates the groups from
ROLE_PERMISSIONS, and re-running it after adding a permission brings existing groups up to date.
"""

CLINICIAN = "Clinician"
REVIEWER = "Reviewer"
REGISTRY_ADMIN = "Registry admin"
ROLES = [CLINICIAN, REVIEWER, REGISTRY_ADMIN]

CLINICAL_MODELS = [
    "patient",
    "previousdiagnosis",
    "medicationcourse",
    "mscprovider",
    "mscproduct",
    "mscadministration",
    "adverseevent",
    "assessment",
]

_enter = [f"cases.{action}_{model}" for model in CLINICAL_MODELS for action in ("view", "add", "change", "delete")]

ROLE_PERMISSIONS = {
    CLINICIAN: [*_enter, "cases.submit_patient", "cases.view_dataquery", "cases.answer_dataquery"],
    REVIEWER: [
        *_enter,
        "cases.submit_patient",
        "cases.view_dataquery",
        "cases.answer_dataquery",
        "cases.add_dataquery",
        "cases.close_dataquery",
        "cases.verify_patient",
        "cases.export_registry",
        "cases.view_history",
    ],
    REGISTRY_ADMIN: [
        *_enter,
        "cases.submit_patient",
        "cases.view_dataquery",
        "cases.answer_dataquery",
        "cases.add_dataquery",
        "cases.close_dataquery",
        "cases.verify_patient",
        "cases.unlock_patient",
        "cases.export_registry",
        "cases.import_registry",
        "cases.see_all_centres",
        "cases.view_history",
        "cases.restore_withdrawn",
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
    ],
}


def sees_all_centres(user):
    return user.is_superuser or user.has_perm("cases.see_all_centres")


def sync_roles(apps, **kwargs):
    """Create the role groups and give them exactly ROLE_PERMISSIONS.

    Called by migration 0002_roles and after every migrate or flush (post_migrate), so groups
    follow this file and survive the database flushes of transactional tests.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:  # not yet created while the app is still migrating
                wanted.append(permission)
        group.permissions.set(wanted)
