from django.db import migrations

GIB = 1024**3


def create_free_plan_and_moderator_group(apps, schema_editor):
    Plan = apps.get_model("accounts", "Plan")
    if not Plan.objects.filter(is_default=True).exists():
        Plan.objects.update_or_create(
            name="Free",
            defaults={
                "is_default": True,
                "max_models": 2,
                "max_trainings_per_month": 3,
                "max_generations_per_day": 100,
                "max_storage_bytes": 2 * GIB,
                "signup_credits": 400,
            },
        )

    # Permissions are normally created after migrations; this one is needed now.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="moderate_content",
        defaults={"name": "Can use the moderation pages"},
    )
    group, _ = Group.objects.get_or_create(name="moderator")
    group.permissions.add(permission)


def remove_moderator_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="moderator").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_plans_credits_exports"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_free_plan_and_moderator_group, remove_moderator_group),
    ]
