# Brand voices moved to the voices app, which took the model (and its table, unchanged) into its
# own state in voices 0001: here generation only forgets it; no table is dropped.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0002_slots_claims_candidates'),
        ('voices', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='BrandVoice',
                ),
            ],
            database_operations=[],
        ),
    ]
