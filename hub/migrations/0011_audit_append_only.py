"""Every audit row now has its place in a chain; on PostgreSQL the database
itself refuses to change or delete one (docs/audit.md)."""

from django.db import migrations, models

# Row triggers: UPDATE and DELETE on audit rows are refused outright; a
# chain's head only ever moves forward by one row and is never deleted.
# (TRUNCATE is not a row operation; Django's test runner and `flush` use it.)
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION hub_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit rows are append-only: ' || TG_OP || ' refused on ' || TG_TABLE_NAME;
END
$$;
CREATE TRIGGER hub_auditentry_append_only
    BEFORE UPDATE OR DELETE ON hub_auditentry
    FOR EACH ROW EXECUTE FUNCTION hub_audit_refuse_change();

CREATE OR REPLACE FUNCTION hub_audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit chain heads are never deleted';
    END IF;
    IF NEW.chain <> OLD.chain OR NEW.sequence <> OLD.sequence + 1 THEN
        RAISE EXCEPTION 'an audit chain head only moves forward, one row at a time';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER hub_auditchainhead_forward_only
    BEFORE UPDATE OR DELETE ON hub_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION hub_audit_head_forward_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS hub_auditchainhead_forward_only ON hub_auditchainhead;
DROP FUNCTION IF EXISTS hub_audit_head_forward_only();
DROP TRIGGER IF EXISTS hub_auditentry_append_only ON hub_auditentry;
DROP FUNCTION IF EXISTS hub_audit_refuse_change();
"""


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("hub", "0010_audit_chain"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="sequence",
            field=models.BigIntegerField(help_text="Position in the practice's chain, from 1."),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(condition=models.Q(("patient_id__isnull", False)),
                               fields=["practice", "patient_id", "sequence"], name="audit_patient_idx"),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(condition=models.Q(("practice__isnull", False)),
                                               fields=("practice", "sequence"), name="audit_practice_sequence_unique"),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(condition=models.Q(("practice__isnull", True)), fields=("sequence",),
                                               name="audit_system_sequence_unique"),
        ),
        migrations.RunPython(add_triggers, drop_triggers, elidable=False),
    ]
