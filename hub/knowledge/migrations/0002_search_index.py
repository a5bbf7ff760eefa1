"""The full-text index of articles, on PostgreSQL only (SQLite searches
without one; hub.knowledge.search). Its expression is the one
hub.knowledge.search builds, so that the planner can use it."""

from django.db import migrations

INDEX = "knowledge_article_search_gin"
EXPRESSION = ("setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
              "setweight(to_tsvector('english'::regconfig, COALESCE(body, '')), 'B')")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON knowledge_article USING gin (({EXPRESSION}))")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
