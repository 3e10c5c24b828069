"""A job's input files on Replicate's Files API: a training's zip of photos, a generation's init
image and mask. They hold a person's pictures, so they live no longer than the job that needs
them.

Each submission attempt uploads its files again (under new file ids), and the remote job
adopted in the end may use any attempt's files, so every id is remembered on the job
(`replicate_file_ids`) and all are deleted when the job ends (success, failure or cancel) and
again when the account is erased. Deleting is safe to repeat: a file already gone (404) counts
as deleted.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction

from core import replicate_gateway

if TYPE_CHECKING:
    from core.models import ReplicateJob

logger = logging.getLogger(__name__)


def remote_file_remember(*, job: ReplicateJob, file_url: str) -> str:
    """Record on the job the file just uploaded (the URL `file_upload` returned); its file id.

    Committed at once, whatever transaction is open: the file exists from now on."""
    file_id = replicate_gateway.file_id_from_url(file_url)
    model = type(job)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=job.pk)
        if file_id not in locked.replicate_file_ids:
            locked.replicate_file_ids = [*locked.replicate_file_ids, file_id]
            locked.save(update_fields=["replicate_file_ids"])
    job.replicate_file_ids = locked.replicate_file_ids
    return file_id


def remote_files_forget(*, job: ReplicateJob) -> int:
    """Delete the job's files from Replicate; how many were still there.

    Every file is tried; those deleted (or already gone) are struck off the job. Raises the
    first ReplicateServiceError after that, so a caller that must be sure (account erasure)
    fails and is retried, with only what is left to do.
    """
    model = type(job)
    file_ids = (
        model.objects.filter(pk=job.pk).values_list("replicate_file_ids", flat=True).first()
    ) or []
    deleted, gone, failure = 0, [], None
    for file_id in file_ids:
        try:
            deleted += replicate_gateway.file_delete(file_id=file_id)
        except replicate_gateway.ReplicateServiceError as error:
            logger.warning(
                "file %s of %s %s not deleted: %s", file_id, model.__name__, job.pk, error
            )
            failure = failure or error
            continue
        except ValueError:
            logger.error(
                "%s %s names a file id that is not one: %r", model.__name__, job.pk, file_id
            )
        gone.append(file_id)
    if gone:
        with transaction.atomic():
            locked = model.objects.select_for_update().filter(pk=job.pk).first()
            if locked is not None:
                locked.replicate_file_ids = [
                    file_id for file_id in locked.replicate_file_ids if file_id not in gone
                ]
                locked.save(update_fields=["replicate_file_ids"])
    job.replicate_file_ids = [file_id for file_id in file_ids if file_id not in gone]
    if failure is not None:
        raise failure
    return deleted


def remote_files_forget_on_commit(*, job: ReplicateJob) -> None:
    """For the end of a job, inside the transaction that ends it: once that commits, delete
    its files. A failure is logged, not raised (the job has ended all the same); Replicate
    expires a file a day after its upload, and account erasure deletes what is left."""

    def forget() -> None:
        try:
            remote_files_forget(job=job)
        except replicate_gateway.ReplicateServiceError:
            logger.warning(
                "files of %s %s left for later", type(job).__name__, job.pk, exc_info=True
            )

    transaction.on_commit(forget)
