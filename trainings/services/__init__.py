"""Writes of the trainings app, split by entity: datasets, LoRA models, training runs."""

from .dataset_settings import dataset_create, dataset_update
from .datasets import (
    UploadRefusal,
    UploadResult,
    dataset_delete,
    dataset_image_caption_update,
    dataset_image_delete,
    dataset_image_face_confirm,
    dataset_image_process,
    dataset_images_add,
    dataset_zip_add,
)
from .faces import dataset_face_consent_set, dataset_faces_backfill
from .lora_models import (
    lora_model_create,
    lora_model_delete,
    lora_model_remote_ensure,
    lora_model_update,
    trigger_word_problem,
    trigger_word_suggest,
)
from .parameters import TrainingParameters
from .retention import dataset_keep_photos_set, dataset_photos_delete, dataset_photos_expire
from .runs import (
    TrainingRunLifecycle,
    training_cost_estimate,
    training_run_cancel,
    training_run_jobs,
    training_run_retry,
    training_run_start,
)

__all__ = [
    "TrainingParameters",
    "TrainingRunLifecycle",
    "UploadRefusal",
    "UploadResult",
    "dataset_create",
    "dataset_delete",
    "dataset_face_consent_set",
    "dataset_faces_backfill",
    "dataset_image_caption_update",
    "dataset_image_delete",
    "dataset_image_face_confirm",
    "dataset_image_process",
    "dataset_images_add",
    "dataset_keep_photos_set",
    "dataset_photos_delete",
    "dataset_photos_expire",
    "dataset_update",
    "dataset_zip_add",
    "lora_model_create",
    "lora_model_delete",
    "lora_model_remote_ensure",
    "lora_model_update",
    "training_cost_estimate",
    "training_run_cancel",
    "training_run_jobs",
    "training_run_retry",
    "training_run_start",
    "trigger_word_problem",
    "trigger_word_suggest",
]
