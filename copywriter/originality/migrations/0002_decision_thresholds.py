"""Issue 17: the paraphrase threshold no longer flags a text on one similar passage; it is the
similarity at which a sentence counts as following a source, and a text is flagged when enough
of it follows one source in order (copywriter/originality/decision.py). Its fitted default
changed; workspaces still on the old default (0.82, the value a saved form stored when nobody
changed it) move to the new one. A value an owner chose keeps its meaning on the same cosine
scale (lower finds more) and is kept."""

from django.db import migrations, models

OLD_DEFAULT = 0.82
NEW_DEFAULT = 0.7


def forwards(apps, schema_editor):
    Settings = apps.get_model("originality", "OriginalitySettings")
    Settings.objects.filter(paraphrase_threshold=OLD_DEFAULT).update(paraphrase_threshold=NEW_DEFAULT)


def backwards(apps, schema_editor):
    Settings = apps.get_model("originality", "OriginalitySettings")
    Settings.objects.filter(paraphrase_threshold=NEW_DEFAULT).update(paraphrase_threshold=OLD_DEFAULT)


class Migration(migrations.Migration):
    dependencies = [("originality", "0001_initial")]

    operations = [
        migrations.AlterField(model_name="originalitysettings", name="paraphrase_threshold",
                              field=models.FloatField(default=NEW_DEFAULT)),
        migrations.RunPython(forwards, backwards),
    ]
