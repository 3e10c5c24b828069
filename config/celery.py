import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("avatars")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def route_by_shape(name, args, kwargs, options, task=None, **kw):
    """CELERY_TASK_ROUTES: the task's queue by the shape of its work (config/settings/queues.py).

    Read at each send, not at start-up, so a test can turn it on for the workers it starts."""
    from django.conf import settings

    if not settings.TASK_QUEUES_BY_SHAPE:
        return None
    shape = settings.TASK_SHAPES.get(name)
    if shape is None:
        return None  # not ours (or new and unnamed): the default queue, which workers also consume
    return {"queue": settings.TASK_QUEUE_CPU if shape == "cpu" else settings.TASK_QUEUE_IO}


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender, **kwargs):
    from django.conf import settings

    sender.conf.beat_schedule = {
        # Training runs and generations whose webhook or submission task was lost.
        "reconcile-remote-jobs": {
            "task": "core.remote_jobs.tasks.remote_jobs_reconcile_task",
            "schedule": settings.RECONCILE_INTERVAL_SECONDS,
        },
        "prune-data-exports": {
            "task": "accounts.tasks.data_export_prune_task",
            "schedule": 60 * 60,
        },
        # Training photos past TRAINING_PHOTOS_KEEP_DAYS (trainings.services.retention).
        "expire-training-photos": {
            "task": "trainings.tasks.dataset_photos_expire_task",
            "schedule": 60 * 60,
        },
        # Consent selfies never used, past SELFIE_KEEP_HOURS (likeness.services.selfies_expire).
        "expire-unused-selfies": {
            "task": "likeness.tasks.selfies_expire_task",
            "schedule": 60 * 60,
        },
        # Webhook ids past the replay window and Replicate's retries (WEBHOOK_DELIVERY_KEEP_DAYS).
        "prune-webhook-deliveries": {
            "task": "core.tasks.webhook_delivery_prune_task",
            "schedule": 60 * 60,
        },
        # Event deliveries whose retry is due (events.tasks), and old events pruned.
        "send-due-event-deliveries": {
            "task": "events.tasks.event_deliveries_send_due_task",
            "schedule": 60,
        },
        # Starter packs whose task was lost (the broker was down when the training succeeded).
        "resume-starter-packs": {
            "task": "gallery.tasks.starter_packs_resume_task",
            "schedule": 5 * 60,
        },
        # Idempotency-Keys past IDEMPOTENCY_KEY_TTL_HOURS (a read also ignores an expired one).
        "prune-idempotency-keys": {
            "task": "core.tasks.idempotency_record_prune_task",
            "schedule": 60 * 60,
        },
    }


@signals.task_prerun.connect
def _tag_logs_with_the_task_id(task_id=None, **kwargs):
    # Lines logged by a task carry its id, as a request's lines carry the request id.
    from core.logging import request_id_var

    request_id_var.set(f"task-{task_id}")


@signals.task_postrun.connect
def _untag_logs(**kwargs):
    from core.logging import request_id_var

    request_id_var.set("-")
