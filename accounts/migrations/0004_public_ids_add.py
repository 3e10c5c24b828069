"""Opaque ids for users and credit entries, step 1: the columns, empty (a default would give
every existing row the same value)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_free_plan_and_moderator_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="creditentry",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
    ]
