"""The models every simulator starts with: the LoRA trainer and the two official FLUX models."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from . import schemas
from .store import ModelRecord, Store, VersionRecord

TRAINER_MODEL = "ostris/flux-dev-lora-trainer"
TRAINER_VERSION = "4ffd32160efd92e956d39c5338a9b8fbafca58e03f791f6d8011f3e20e8ea6fa"

# Official models are run by name; their predictions carry this placeholder instead of a version
# id (the API documents "hidden"; the client only needs a non-null string).
OFFICIAL_VERSION_PLACEHOLDER = "hidden"
OFFICIAL_MODELS = {
    "black-forest-labs/flux-schnell": (
        schemas.SCHNELL_KIND,
        "The fastest image generation model tailored for local development and personal use",
    ),
    "black-forest-labs/flux-dev": (
        schemas.DEV_KIND,
        "A 12 billion parameter rectified flow transformer capable of generating images from "
        "text descriptions",
    ),
}

HARDWARE = [
    {"sku": "cpu", "name": "CPU"},
    {"sku": "gpu-t4", "name": "Nvidia T4 GPU"},
    {"sku": "gpu-l40s", "name": "Nvidia L40S GPU"},
    {"sku": "gpu-l40s-2x", "name": "2x Nvidia L40S GPU"},
    {"sku": "gpu-a100-large", "name": "Nvidia A100 (80GB) GPU"},
    {"sku": "gpu-a100-large-2x", "name": "2x Nvidia A100 (80GB) GPU"},
    {"sku": "gpu-h100", "name": "Nvidia H100 GPU"},
]
HARDWARE_SKUS = {item["sku"] for item in HARDWARE}

SEEDED_MODELS = {TRAINER_MODEL, *OFFICIAL_MODELS}
_SEEDED_AT = datetime(2024, 8, 14, 12, 0, tzinfo=UTC).timestamp()


def _stable_version_id(name: str) -> str:
    return hashlib.sha256(f"replicate-sim:{name}".encode()).hexdigest()


def seed(store: Store) -> None:
    """Add the catalogue models if missing (a persisted store already has them)."""
    with store.lock:
        if TRAINER_MODEL not in store.models:
            owner, name = TRAINER_MODEL.split("/")
            store.versions[TRAINER_VERSION] = VersionRecord(
                id=TRAINER_VERSION,
                model=TRAINER_MODEL,
                kind=schemas.TRAINER_KIND,
                created_at=_SEEDED_AT,
                cog_version="0.9.13",
                seq=store.next_seq(),
            )
            store.models[TRAINER_MODEL] = ModelRecord(
                owner=owner,
                name=name,
                visibility="public",
                hardware="gpu-h100",
                created_at=_SEEDED_AT,
                seq=store.next_seq(),
                description="Fast FLUX LoRA trainer on H100s, using ai-toolkit",
                github_url="https://github.com/replicate/flux-fine-tuner",
                version_ids=[TRAINER_VERSION],
            )
        for key, (kind, description) in OFFICIAL_MODELS.items():
            if key in store.models:
                continue
            owner, name = key.split("/")
            version_id = _stable_version_id(key)
            store.versions[version_id] = VersionRecord(
                id=version_id,
                model=key,
                kind=kind,
                created_at=_SEEDED_AT,
                cog_version="0.13.6",
                seq=store.next_seq(),
            )
            store.models[key] = ModelRecord(
                owner=owner,
                name=name,
                visibility="public",
                hardware="gpu-h100",
                created_at=_SEEDED_AT,
                seq=store.next_seq(),
                description=description,
                github_url="https://github.com/replicate/cog-flux",
                license_url="https://github.com/black-forest-labs/flux/blob/main/model_licenses/LICENSE-FLUX1-dev",
                official=True,
                version_ids=[version_id],
            )
        store.touch()
