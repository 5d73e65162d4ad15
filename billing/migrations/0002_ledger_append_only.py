"""The ledger is append-only in the database too: PostgreSQL refuses UPDATE and DELETE of its rows.

The code never changes a ledger line; this trigger makes sure nothing else does either
(an admin action, a hand-written query). TRUNCATE (the test runner's flush) is not a row
operation and is unaffected. SQLite, the embedded first-run default, keeps the code's word.
"""

from django.db import migrations

CREATE = [
    """
    CREATE OR REPLACE FUNCTION billing_ledger_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = '账目只能追加，不能修改或删除（' || TG_OP || '）',
            ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER billing_ledger_append_only
        BEFORE UPDATE OR DELETE ON billing_ledgerentry
        FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only()
    """,
]

DROP = [
    "DROP TRIGGER IF EXISTS billing_ledger_append_only ON billing_ledgerentry",
    "DROP FUNCTION IF EXISTS billing_ledger_append_only()",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
