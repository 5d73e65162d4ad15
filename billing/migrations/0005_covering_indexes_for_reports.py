"""对账报表 and 汇款管理 sum money per office: covering indexes let PostgreSQL read the sums from
the index alone (an index-only scan), without visiting a table row per charge or ledger line.

PostgreSQL only (INCLUDE columns); the models' state is unchanged, so these are not in Meta.
"""

from django.db import migrations

INDEXES = [
    ("billing_charge", "charge_office_money_idx", "(office_id, status) INCLUDE (amount)"),
    ("billing_ledgerentry", "ledger_office_money_idx", "(office_id, kind) INCLUDE (amount)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, columns in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, name, _columns in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_refunds_and_returns")]

    operations = [migrations.RunPython(create, drop)]
