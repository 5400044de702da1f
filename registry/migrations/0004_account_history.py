"""The account history (AccountChange), append-only; on PostgreSQL a trigger refuses UPDATE and
DELETE on its table (registry.database.append_only; re-applied after every migrate)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from registry.database.append_only import protect_history_tables, unprotect_history_tables

TABLE = "registry_accountchange"


def protect(apps, schema_editor):
    protect_history_tables(schema_editor.connection, [TABLE])


def unprotect(apps, schema_editor):
    unprotect_history_tables(schema_editor.connection, [TABLE])


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0003_securitypolicy'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AccountChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='when')),
                ('account_username', models.CharField(max_length=150, verbose_name='account')),
                ('changed_by_username', models.CharField(blank=True, help_text='Empty when made by a command, not a person.', max_length=150, verbose_name='changed by')),
                ('field', models.CharField(choices=[('roles', 'Roles'), ('centres', 'Centres'), ('active', 'Active'), ('staff', 'Staff status (admin site)'), ('superuser', 'Superuser status'), ('permissions', 'Individual permissions')], max_length=20, verbose_name='what changed')),
                ('before', models.TextField(blank=True)),
                ('after', models.TextField(blank=True)),
                ('account', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('changed_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-at', '-pk'],
                'indexes': [models.Index(fields=['account', 'at'], name='account_change_account_at')],
                'constraints': [models.CheckConstraint(condition=models.Q(('field__in', ['roles', 'centres', 'active', 'staff', 'superuser', 'permissions'])), name='account_change_field_known'), models.CheckConstraint(condition=models.Q(('before', models.F('after')), _negated=True), name='account_change_changes_something')],
            },
        ),
        migrations.RunPython(protect, unprotect),
    ]
