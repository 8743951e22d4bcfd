from django.db import migrations


class Migration(migrations.Migration):
    """pgvector first: originality passages store embeddings in vector columns."""

    initial = True
    dependencies: list[tuple[str, str]] = []  # type: ignore[misc]
    operations = [migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS vector", migrations.RunSQL.noop)]
