"""Private LoRA models: trigger words, creation, the remote destination model, deletion."""

from __future__ import annotations

import functools
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils.text import slugify
from english_words import get_english_words_set

from accounts.quotas import quota_check
from core import replicate_gateway
from core.exceptions import Conflict, DomainError

from ..models import LoraModel, TrainingRun

_TRIGGER_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,19}$")
_CONSONANTS = "BDFGKLMNPRSTVXZ"
_VOWELS = "AEIOU"


@functools.cache
def _english_words() -> frozenset[str]:
    return frozenset(get_english_words_set(["web2", "gcide"], lower=True, alpha=True))


def trigger_word_problem(word: str, *, exclude_model: LoraModel | None = None) -> str | None:
    """Why `word` cannot be a trigger word, or None when it can."""
    if not _TRIGGER_WORD.match(word or ""):
        return (
            "Use 3 to 20 letters or digits, starting with a letter, with no spaces "
            "(for example ZARVOK)."
        )
    if word.lower() in _english_words():
        return (
            f"“{word}” is an English word: the model would confuse you with its meaning. "
            "Choose a made-up word."
        )
    taken = LoraModel.objects.annotate(word=Lower("trigger_word")).filter(word=word.lower())
    if exclude_model is not None:
        taken = taken.exclude(pk=exclude_model.pk)
    if taken.exists():
        return f"“{word}” is already in use. Choose another word."
    return None


def trigger_word_suggest() -> str:
    """A pronounceable made-up word that is free, e.g. ZORVIK."""
    for _ in range(50):
        letters = [
            secrets.choice(_CONSONANTS if position % 2 == 0 else _VOWELS) for position in range(5)
        ]
        word = "".join(letters) + secrets.choice(_CONSONANTS)
        if trigger_word_problem(word) is None:
            return word
    return "Z" + secrets.token_hex(5).upper()


@transaction.atomic
def lora_model_create(*, user, name: str, trigger_word: str | None = None) -> LoraModel:
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the model a name.", field="name")
    word = (trigger_word or "").strip() or trigger_word_suggest()
    problem = trigger_word_problem(word)
    if problem:
        raise DomainError(problem, field="trigger_word", code="invalid_trigger_word")
    quota_check(user=user, kind="models")
    try:
        with transaction.atomic():
            return LoraModel.objects.create(owner=user, name=name[:80], trigger_word=word)
    except IntegrityError as error:  # taken between the check and the insert
        raise DomainError(
            f"“{word}” is already in use. Choose another word.", field="trigger_word"
        ) from error


def lora_model_update(*, lora_model: LoraModel, name: str | None = None) -> LoraModel:
    if name is not None:
        name = name.strip()
        if not name:
            raise DomainError("Give the model a name.", field="name")
        lora_model.name = name[:80]
        lora_model.save(update_fields=["name", "updated_at"])
    return lora_model


def lora_model_remote_ensure(*, lora_model: LoraModel) -> LoraModel:
    """Create the private destination model on Replicate the first time it is needed."""
    if lora_model.replicate_name:
        return lora_model
    remote_name = f"{slugify(lora_model.trigger_word)}-{lora_model.id.hex[:12]}"
    remote = replicate_gateway.destination_model_create(
        name=remote_name, description=f"Private avatar model {lora_model.id}"
    )
    LoraModel.objects.filter(pk=lora_model.pk, replicate_name__isnull=True).update(
        replicate_owner=remote.owner or settings.REPLICATE_OWNER, replicate_name=remote.name
    )
    lora_model.refresh_from_db()
    return lora_model


def lora_model_delete(*, lora_model: LoraModel) -> None:
    """Delete the model here and on Replicate (its versions first). Refused while training."""
    if lora_model.training_runs.filter(status__in=TrainingRun.ACTIVE).exists():
        raise Conflict("This model is training. Cancel the training first.")
    if lora_model.replicate_name:
        replicate_gateway.destination_model_delete(full_name=lora_model.replicate_full_name)
    lora_model.delete()
