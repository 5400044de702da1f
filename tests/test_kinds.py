"""One list of record kinds (cases.kinds): every record's address on its case page and its edit form."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from cases.kinds import CASE_MODELS, CLINICAL_MODELS, RECORD_KINDS, edit_url, kind_of
from cases.models import MscProvider, Patient
from registry import roles

ROOT = Path(__file__).resolve().parent.parent


def records_of(case):
    """One record of each kind of the case."""
    return {slug: kind.model.objects.filter(**{kind.case_path: case}).first() for slug, kind in RECORD_KINDS.items()}


@pytest.mark.parametrize("model", CLINICAL_MODELS, ids=lambda m: m._meta.model_name)
def test_every_clinical_model_has_its_own_address(model):
    assert "get_absolute_url" in vars(model) or any("get_absolute_url" in vars(base) for base in model.__mro__[1:-1])


@pytest.mark.django_db
def test_each_record_is_anchored_on_its_case_page_and_its_edit_link_opens_its_form(client, clinician, case_a):
    client.force_login(clinician)
    page = client.get(case_a.get_absolute_url()).content.decode()
    for slug, record in records_of(case_a).items():
        url = record.get_absolute_url()
        assert url == f"/cases/{case_a.pk}/#{slug}-{record.pk}"
        assert f'id="{slug}-{record.pk}"' in page
        assert record.get_edit_url() == edit_url(record) == f"/cases/{case_a.pk}/{slug}/{record.pk}/edit/"
        assert client.get(record.get_edit_url()).status_code == 200
        assert kind_of(record) is RECORD_KINDS[slug]
    assert case_a.get_edit_url() == f"/cases/{case_a.pk}/edit/"


@pytest.mark.django_db
def test_a_provider_is_kept_in_the_admin(case_a):
    provider = MscProvider.objects.filter(products__patient=case_a).first() or MscProvider.objects.create(
        name="Synthetic clinic", country="MX"
    )
    assert provider.get_absolute_url() == f"/admin/cases/mscprovider/{provider.pk}/change/"


def test_case_models_are_the_case_and_every_kind_in_dependency_order():
    assert CASE_MODELS[0] is Patient
    assert list(CASE_MODELS[1:]) == [kind.model for kind in RECORD_KINDS.values()]


@pytest.mark.django_db
@pytest.mark.parametrize("role", roles.ROLES)
def test_every_role_enters_every_clinical_model(role):
    codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
    for model in CLINICAL_MODELS:
        for action in ("view", "add", "change", "delete"):
            assert f"{action}_{model._meta.model_name}" in codenames


def test_roles_are_composed_each_from_the_one_before():
    permissions = roles.role_permissions()
    assert set(permissions[roles.CLINICIAN]) < set(permissions[roles.REVIEWER]) < set(permissions[roles.REGISTRY_ADMIN])


def test_the_identifiable_export_has_its_own_permission_held_by_registry_admins_only():
    permissions = roles.role_permissions()
    assert "cases.export_identifiable" in permissions[roles.REGISTRY_ADMIN]
    assert "cases.export_identifiable" not in permissions[roles.REVIEWER]


def test_the_record_kinds_are_written_down_once():
    """No list, tuple, set or dict in the code but cases.kinds names four or more record kinds (imports aside)."""
    names = set()
    for kind in RECORD_KINDS.values():
        names |= {kind.slug, kind.model.__name__, kind.model._meta.model_name}
    word = re.compile(r"[A-Za-z][\w-]*")
    lists = []
    for path in [*ROOT.glob("cases/**/*.py"), *ROOT.glob("registry/**/*.py"), *ROOT.glob("synthetic/**/*.py")]:
        if "migrations" in path.parts:
            continue
        code = re.sub(r"import \([^)]*\)|__all__ = \[[^\]]*\]", "", path.read_text(encoding="utf-8"))
        for literal in re.findall(r"[\[({][^\[\](){}]*[\])}]", code):
            if len(names & set(word.findall(literal))) >= 4:
                lists.append(str(path.relative_to(ROOT)))
    assert lists == []
