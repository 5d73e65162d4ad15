"""The review queues list each unit's other domains by name, a few per unit: with an index on
(unit_id, label) each unit's first names are read in order instead of all of its domains
(a unit may hold thousands) being ranked by a window function.

Not in the model's Meta (the state is unchanged): a plain index both databases understand.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_registration_verification")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS domain_unit_label_idx ON registry_domain (unit_id, label)",
            "DROP INDEX IF EXISTS domain_unit_label_idx",
        )
    ]
