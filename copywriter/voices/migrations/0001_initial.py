# Brand voices moved here from generation. The table stays generation_brandvoice: this migration
# only takes the model into voices' state (generation 0003 drops it from generation's), so an
# existing database keeps its rows and a fresh one gets the table from generation 0001.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _move_content_type(apps, schema_editor, old, new):
    # Permissions point at the content type: renaming it keeps them, where a new one would
    # leave the old one stale beside it.
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new, model="brandvoice").exists():
        ContentType.objects.using(db).filter(app_label=old, model="brandvoice").update(app_label=new)


def forwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "generation", "voices")


def backwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "voices", "generation")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('generation', '0002_slots_claims_candidates'),
        ('workspaces', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='BrandVoice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80)),
                        ('samples', models.JSONField(default=list)),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('queued', 'Queued'), ('training', 'Training'), ('ready', 'Ready'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='draft', max_length=10)),
                        ('progress_step', models.PositiveIntegerField(default=0)),
                        ('progress_total', models.PositiveIntegerField(default=0)),
                        ('last_loss', models.FloatField(blank=True, null=True)),
                        ('error', models.TextField(blank=True)),
                        ('metrics', models.JSONField(default=dict)),
                        ('adapter_path', models.CharField(blank=True, max_length=500)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='voices', to='workspaces.workspace')),
                    ],
                    options={
                        'db_table': 'generation_brandvoice',
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
