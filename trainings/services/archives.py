"""A run's training zips on Replicate's Files API: they hold a person's photos, so they live no
longer than the run that needs them.

Each submission attempt uploads the zip again (under a new file id), and the remote training
adopted in the end may use any attempt's zip, so every id is remembered and all are deleted
when the run ends (success, failure or cancel) and again when the account is erased. Deleting
is safe to repeat: a file already gone (404) counts as deleted.
"""

from __future__ import annotations

import logging

from django.db import transaction

from core import replicate_gateway

from ..models import TrainingRun

logger = logging.getLogger(__name__)


def training_archive_remember(*, run: TrainingRun, file_url: str) -> str:
    """Record on the run the zip just uploaded (the URL `file_upload` returned); its file id."""
    file_id = replicate_gateway.file_id_from_url(file_url)
    with transaction.atomic():
        locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if file_id not in locked.replicate_file_ids:
            locked.replicate_file_ids = [*locked.replicate_file_ids, file_id]
            locked.save(update_fields=["replicate_file_ids"])
    run.replicate_file_ids = locked.replicate_file_ids
    return file_id


def training_archive_forget(*, run: TrainingRun) -> int:
    """Delete the run's zips from Replicate; how many were still there.

    Every file is tried; those deleted (or already gone) are struck off the run. Raises the
    first ReplicateServiceError after that, so a caller that must be sure (account erasure)
    fails and is retried, with only what is left to do.
    """
    file_ids = (
        TrainingRun.objects.filter(pk=run.pk).values_list("replicate_file_ids", flat=True).first()
    ) or []
    deleted, gone, failure = 0, [], None
    for file_id in file_ids:
        try:
            deleted += replicate_gateway.file_delete(file_id=file_id)
        except replicate_gateway.ReplicateServiceError as error:
            logger.warning("training zip %s of run %s not deleted: %s", file_id, run.pk, error)
            failure = failure or error
            continue
        except ValueError:
            logger.error("run %s names a file id that is not one: %r", run.pk, file_id)
        gone.append(file_id)
    if gone:
        with transaction.atomic():
            locked = TrainingRun.objects.select_for_update().filter(pk=run.pk).first()
            if locked is not None:
                locked.replicate_file_ids = [
                    file_id for file_id in locked.replicate_file_ids if file_id not in gone
                ]
                locked.save(update_fields=["replicate_file_ids"])
    run.replicate_file_ids = [file_id for file_id in file_ids if file_id not in gone]
    if failure is not None:
        raise failure
    return deleted


def training_archive_forget_on_commit(*, run: TrainingRun) -> None:
    """For the end of a run, inside the transaction that ends it: once that commits, delete
    its zips. A failure is logged, not raised (the run has ended all the same); Replicate
    expires the file a day after its upload, and account erasure deletes what is left."""

    def forget() -> None:
        try:
            training_archive_forget(run=run)
        except replicate_gateway.ReplicateServiceError:
            logger.warning("training zips of run %s left for later", run.pk, exc_info=True)

    transaction.on_commit(forget)
