# The suggested aspect ratio now lives in a pack's parameters (moved by 0007).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0007_install_style_packs"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="stylepreset",
            name="aspect_ratio",
        ),
    ]
