"""Audit rows become a hash chain per practice (docs/audit.md). Rows written
before are chained here in id order; 0011 makes the chain required and, on
PostgreSQL, append-only."""

from django.db import migrations, models

from hub.lib import audit_chain

BATCH = 2000


def _patient_ids(apps, object_type: str, ids: set[str]) -> dict[str, int]:
    """The patient of rows about a patient, a conversation, a message or note,
    or an attachment (what the hub audited before the column existed)."""
    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return {}
    if object_type == "patient":
        return {str(i): i for i in apps.get_model("hub", "Patient").objects.filter(pk__in=numeric)
                .values_list("pk", flat=True)}
    model, path = {
        "conversation": ("Conversation", "patient"),
        "event": ("Event", "patient"),
        "attachment": ("Attachment", "event__patient"),
        "contactpoint": ("ContactPoint", "patient"),
    }.get(object_type, (None, None))
    if model is None:
        return {}
    rows = apps.get_model("hub", model).objects.filter(pk__in=numeric).values_list("pk", path)
    return {str(pk): patient for pk, patient in rows}


def chain_existing_rows(apps, schema_editor):
    AuditEntry = apps.get_model("hub", "AuditEntry")
    AuditChainHead = apps.get_model("hub", "AuditChainHead")
    heads: dict[int, tuple[int, str]] = {}
    last_id = 0
    while True:
        batch = list(AuditEntry.objects.filter(pk__gt=last_id).order_by("pk")[:BATCH])
        if not batch:
            break
        last_id = batch[-1].pk
        by_type: dict[str, set[str]] = {}
        for row in batch:
            by_type.setdefault(row.object_type, set()).add(row.object_id)
        patients = {t: _patient_ids(apps, t, ids) for t, ids in by_type.items()}
        for row in batch:
            chain = audit_chain.chain_of(row.practice_id)
            sequence, prev = heads.get(chain, (0, audit_chain.GENESIS_HASH))
            row.patient_id = patients[row.object_type].get(row.object_id)
            row.ip = audit_chain.normal_ip(row.ip)
            row.detail = audit_chain.plain_detail(row.detail)
            row.sequence = sequence + 1
            row.prev_hash = prev
            row.hash = audit_chain.row_hash({name: getattr(row, name) for name in audit_chain.HASHED_COLUMNS})
            heads[chain] = (row.sequence, row.hash)
        AuditEntry.objects.bulk_update(batch, ["patient_id", "ip", "detail", "sequence", "prev_hash", "hash"])
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(chain=chain, sequence=sequence, hash=hash_) for chain, (sequence, hash_) in heads.items()])


def unchain(apps, schema_editor):
    apps.get_model("hub", "AuditChainHead").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("hub", "0009_voice"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("chain", models.BigIntegerField(primary_key=True, serialize=False)),
                ("sequence", models.BigIntegerField(default=0)),
                ("hash", models.CharField(default="0000000000000000000000000000000000000000000000000000000000000000",
                                          max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="auditentry",
            name="sequence",
            field=models.BigIntegerField(null=True, help_text="Position in the practice's chain, from 1."),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="patient_id",
            field=models.BigIntegerField(blank=True, null=True,
                                         help_text="The patient whose data was read or changed, if any."),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="via",
            field=models.CharField(help_text="console, api, socket, dashboard, system", max_length=16),
        ),
        migrations.RunPython(chain_existing_rows, unchain, elidable=False),
    ]
