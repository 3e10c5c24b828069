
import django.db.models.deletion
import django.utils.timezone
import events.models
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Event',
            fields=[
                ('seq', models.BigAutoField(primary_key=True, serialize=False)),
                ('id', models.CharField(default=events.models.event_public_id, editable=False, max_length=40, unique=True)),
                ('type', models.CharField(max_length=40)),
                ('data', models.JSONField(default=dict)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='EventEndpoint',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('url', models.URLField(max_length=500)),
                ('description', models.CharField(blank=True, max_length=200)),
                ('event_types', models.JSONField(default=list)),
                ('secret', models.CharField(default=events.models.endpoint_secret, max_length=100)),
                ('previous_secret', models.CharField(blank=True, max_length=100)),
                ('previous_secret_expires_at', models.DateTimeField(blank=True, null=True)),
                ('is_enabled', models.BooleanField(default=True)),
                ('disabled_reason', models.CharField(blank=True, max_length=300)),
                ('disabled_at', models.DateTimeField(blank=True, null=True)),
                ('failing_since', models.DateTimeField(blank=True, null=True)),
                ('consecutive_failures', models.PositiveIntegerField(default=0)),
                ('last_success_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='event_endpoints', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='EventDelivery',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Delivered'), ('failed', 'Failed')], default='pending', max_length=10)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField(blank=True, default=django.utils.timezone.now, null=True)),
                ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('last_error', models.CharField(blank=True, max_length=300)),
                ('duration_ms', models.PositiveIntegerField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('completed_at', models.DateTimeField(blank=True, null=True)),
                ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='events.event')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='event_deliveries', to=settings.AUTH_USER_MODEL)),
                ('replay_of', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='replays', to='events.eventdelivery')),
                ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='events.eventendpoint')),
            ],
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['owner', 'seq'], name='event_owner_seq'),
        ),
        migrations.AddIndex(
            model_name='eventendpoint',
            index=models.Index(fields=['owner', '-created_at'], name='endpoint_owner_created'),
        ),
        migrations.AddIndex(
            model_name='eventdelivery',
            index=models.Index(fields=['endpoint', '-created_at'], name='delivery_endpoint_created'),
        ),
        migrations.AddIndex(
            model_name='eventdelivery',
            index=models.Index(fields=['status', 'next_attempt_at'], name='delivery_status_due'),
        ),
    ]
