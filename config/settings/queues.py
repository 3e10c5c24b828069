"""Celery queues by the shape of the work, so a burst of one kind cannot hold up the other.

`io`: waiting on others (Replicate, webhooks' tasks, e-mail, event deliveries, housekeeping
queries); many at once per process. `cpu`: decoding and encoding pictures, finding faces,
building zips; one per core. Every task is named here once (tests/reliability/test_two_queues.py
checks that none is missing) and `config.celery.route_by_shape` reads this table.

Routing is on where `TASK_QUEUES_BY_SHAPE` is set (production, `make run`). Elsewhere every
task goes to `CELERY_TASK_DEFAULT_QUEUE`: the tests' live workers each consume one queue of
their own, and a benchmark's single worker keeps working without naming queues.
"""

import environ

env = environ.Env()

TASK_QUEUES_BY_SHAPE = env.bool("TASK_QUEUES_BY_SHAPE", default=False)
TASK_QUEUE_IO = env("TASK_QUEUE_IO", default="io")
TASK_QUEUE_CPU = env("TASK_QUEUE_CPU", default="cpu")
# Processes per worker of each queue (Procfile.production and docker-compose.yml pass them to
# Celery). An I/O task mostly waits, so more of them than cores; a CPU task holds a core and
# up to WORKER_IMAGE_MEMORY_MB / WORKER_CONCURRENCY of memory, so WORKER_CONCURRENCY of them.
WORKER_IO_CONCURRENCY = env.int("WORKER_IO_CONCURRENCY", default=4)
WORKER_CPU_CONCURRENCY = env.int("WORKER_CPU_CONCURRENCY", default=2)

TASK_SHAPES = {
    # Replicate: submit, re-read after a webhook, reconcile what was lost.
    "core.remote_jobs.tasks.remote_job_submit_task": "io",
    # (The one applying a generation's success stores its pictures: sent to cpu by name, see
    # RemoteJobLifecycle.refresh_options.)
    "core.remote_jobs.tasks.remote_job_refresh_task": "io",
    "core.remote_jobs.tasks.remote_jobs_reconcile_task": "io",
    "core.tasks.webhook_delivery_prune_task": "io",
    "core.tasks.idempotency_record_prune_task": "io",
    # E-mail.
    "gallery.tasks.generation_not_started_notify_task": "io",
    "trainings.tasks.training_run_notify_task": "io",
    # Event deliveries to API clients' receivers.
    "events.tasks.event_delivery_attempt_task": "io",
    "events.tasks.event_deliveries_send_due_task": "io",
    # Starter packs create generations (rows and submissions), no pictures.
    "gallery.tasks.starter_pack_make_task": "io",
    "gallery.tasks.starter_packs_resume_task": "io",
    # Deletions: rows, storage and Replicate files.
    "accounts.tasks.account_delete_task": "io",
    "accounts.tasks.data_export_prune_task": "io",
    "trainings.tasks.dataset_photos_expire_task": "io",
    "likeness.tasks.selfies_expire_task": "io",
    # Pictures: normalise, measure, thumbnail, find faces; the export's zip.
    "trainings.tasks.dataset_image_process_task": "cpu",
    "trainings.tasks.dataset_faces_backfill_task": "cpu",
    "accounts.tasks.data_export_build_task": "cpu",
    "gallery.tasks.image_rescan_task": "cpu",
}

CELERY_TASK_ROUTES = ("config.celery.route_by_shape",)
