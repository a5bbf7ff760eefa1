"""Per-practice retention: how long the hub keeps message content, files,
call recordings and transcripts; legal holds that stop a purge; the purge
itself and its report (docs/retention.md)."""
