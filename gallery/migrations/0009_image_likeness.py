# Each stored output's likeness to its model's face identity (issue 14).

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0008_remove_stylepreset_aspect_ratio"),
    ]

    operations = [
        migrations.AddField(
            model_name="generatedimage",
            name="likeness",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="0-100.",
                null=True,
                validators=[django.core.validators.MaxValueValidator(100)],
            ),
        ),
        migrations.AddField(
            model_name="generatedimage",
            name="has_face",
            field=models.BooleanField(
                blank=True, help_text="Whether a face was found; null: not looked for.", null=True
            ),
        ),
        migrations.AddConstraint(
            model_name="generatedimage",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("likeness__isnull", True), ("likeness__lte", 100), _connector="OR"
                ),
                name="gallery_image_likeness_range",
            ),
        ),
    ]
