"""The OpenAPI schemas of the simulated models, by kind of version.

A version's `kind` says which schema it has: the trainer, a FLUX LoRA it made, or one of the
official FLUX models. `schema_for` builds it; the Cog-style machinery (building, input
validation, secrets) is in `schemas.cog`, the concrete schemas in `schemas.flux` and
`schemas.trainer`.
"""

from __future__ import annotations

from typing import Any

from .flux import lora_schema, official_flux_schema
from .trainer import trainer_schema

TRAINER_KIND = "trainer"
LORA_KIND = "flux-lora"
SCHNELL_KIND = "flux-schnell"
DEV_KIND = "flux-dev"


def schema_for(kind: str, *, trigger_word: str = "TOK") -> dict[str, Any]:
    if kind == TRAINER_KIND:
        return trainer_schema()
    if kind == LORA_KIND:
        return lora_schema(trigger_word)
    if kind == SCHNELL_KIND:
        return official_flux_schema(dev=False)
    if kind == DEV_KIND:
        return official_flux_schema(dev=True)
    raise KeyError(kind)
