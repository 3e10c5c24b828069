"""The starter pack: a training's success makes one picture in each starter style with the new
model, charged like any generation and refunded when it fails; once per model; off by the
setting; as many as the balance covers. The model page's partial shows it to its owner only."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from accounts.models import CreditEntry
from accounts.selectors import credit_balance
from accounts.services import credits_grant, credits_reserve
from core.replicate_gateway import RemoteJob
from gallery import selectors
from gallery.models import GeneratedImage, Generation, StarterPack, StarterPackItem, StylePreset
from gallery.services import image_decide
from gallery.tasks import starter_pack_make_task
from trainings.models import Dataset, LoraModel, TrainingRun
from trainings.services import training_run_jobs

pytestmark = pytest.mark.django_db

STARTER = ["Studio headshot", "Cinematic"]  # two of the installed packs, to stay fast


@pytest.fixture(autouse=True)
def _two_starter_styles(settings):
    settings.STARTER_PACK_ENABLED = True
    StylePreset.objects.update(in_starter_pack=False)
    StylePreset.objects.filter(name__in=STARTER).update(in_starter_pack=True)


@pytest.fixture
def run(owner, trained_version, replicate_backend):
    """A training of `owner` about to succeed, on a model the simulator really runs."""
    credits_grant(user=owner, amount=1000, reason="test credits")
    lora_model = LoraModel.objects.create(
        owner=owner,
        name="Me",
        trigger_word="ZORVEK",
        replicate_owner=trained_version.owner,
        replicate_name=trained_version.name,
        status=LoraModel.Status.TRAINING,
    )
    run = TrainingRun.objects.create(
        owner=owner,
        dataset=Dataset.objects.create(owner=owner, name="me"),
        lora_model=lora_model,
        status=TrainingRun.Status.STARTING,
        replicate_id="tr_starter",
        total_steps=1000,
        cost_estimate=200,
        parameters={"steps": 1000},
    )
    credits_reserve(user=owner, amount=200, reason="Training", reference=f"training_run:{run.id}")
    return run


def _succeed(run, trained_version):
    output = {"version": f"{trained_version.owner}/{trained_version.name}:"
              f"{trained_version.version_id}"}  # fmt: skip
    return training_run_jobs.apply_remote(
        remote=RemoteJob(
            id=run.replicate_id,
            status="succeeded",
            output=output,
            metrics={"predict_time": 100.0},
        )
    )


def _starter_generations(run):
    return list(Generation.objects.filter(lora_model_id=run.lora_model_id).order_by("created_at"))


def _ledger(generation):
    entries = CreditEntry.objects.filter(reference=f"generation:{generation.id}")
    return sorted(entries.values_list("kind", flat=True))


def test_a_success_makes_one_charged_picture_per_starter_style(
    run, owner, trained_version, finish, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _succeed(run, trained_version)
    before = credit_balance(user=owner)
    generations = _starter_generations(run)
    assert sorted(g.style_preset.name for g in generations) == sorted(STARTER)
    for generation in generations:
        assert generation.prompt_sent.startswith(generation.style_preset.prompt_for("ZORVEK")[:30])
        assert generation.cost == 4
        assert _ledger(generation) == ["reserve"]
        reserve = CreditEntry.objects.get(reference=f"generation:{generation.id}")
        assert reserve.reason == f"Generation with Me ({generation.style_preset.name})"
    cinematic = next(g for g in generations if g.style_preset.name == "Cinematic")
    assert cinematic.parameters["aspect_ratio"] == "21:9"  # the pack's parameters apply
    for generation in generations:
        assert finish(generation).status == Generation.Status.SUCCEEDED
        assert _ledger(generation) == ["capture", "reserve"]
    assert credit_balance(user=owner) == before  # captured: what was reserved stays spent

    pack = selectors.starter_pack_for_model(user=owner, model=run.lora_model)
    assert [row.state for row in pack.rows] == ["done", "done"]
    assert not pack.running


def test_a_failed_starter_picture_is_refunded_and_shown_so(
    run, owner, trained_version, simulator, finish, django_capture_on_commit_callbacks, client
):
    simulator.configure(prediction_outcome="failed")
    with django_capture_on_commit_callbacks(execute=True):
        _succeed(run, trained_version)
    balance_after_training = credit_balance(user=owner) + 8  # two pictures reserved
    for generation in _starter_generations(run):
        assert finish(generation).status == Generation.Status.FAILED
        assert _ledger(generation) == ["refund", "reserve"]
    assert credit_balance(user=owner) == balance_after_training

    client.force_login(owner)
    page = client.get(f"/gallery/starter-pack/{run.lora_model_id}/").content.decode()
    assert page.count("Failed: refunded") == 2
    assert "Studio headshot" in page and "Cinematic" in page


def test_a_held_picture_is_being_checked_and_a_rejected_one_says_so(
    run, owner, moderator, trained_version, finish, django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=True):
        _succeed(run, trained_version)
    held, rejected = _starter_generations(run)
    for generation in (held, rejected):
        finish(generation)
    GeneratedImage.objects.filter(generation__in=(held, rejected)).update(
        moderation_state=GeneratedImage.Moderation.HELD
    )
    image_decide(moderator=moderator, image=rejected.images.get(), decision="rejected")

    pack = selectors.starter_pack_for_model(user=owner, model=run.lora_model)
    states = {row.generation.id: row.state for row in pack.rows}
    assert states == {held.id: "checking", rejected.id: "rejected"}
    client.force_login(owner)
    page = client.get(f"/gallery/starter-pack/{run.lora_model_id}/").content.decode()
    assert page.count("Being checked") == 1
    assert page.count("Not shown: a moderator rejected it") == 1


def test_a_success_applied_twice_makes_one_pack(
    run, trained_version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _succeed(run, trained_version)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _succeed(run, trained_version)
    starter_pack_make_task(str(run.lora_model_id))  # and the task run once more
    assert StarterPack.objects.filter(lora_model_id=run.lora_model_id).count() == 1
    assert StarterPackItem.objects.count() == 2
    assert len(_starter_generations(run)) == 2
    assert not callbacks  # the second success enqueued nothing


def test_the_setting_turns_the_starter_pack_off(
    run, trained_version, settings, django_capture_on_commit_callbacks
):
    settings.STARTER_PACK_ENABLED = False
    with django_capture_on_commit_callbacks(execute=True):
        finished = _succeed(run, trained_version)
    assert finished.status == TrainingRun.Status.SUCCEEDED
    assert not StarterPack.objects.exists()
    assert _starter_generations(run) == []


def test_a_short_balance_makes_what_it_covers_and_says_why(
    run, owner, trained_version, django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _succeed(run, trained_version)
    # The person spent all but one picture's worth before the pack is made.
    credits_reserve(user=owner, amount=credit_balance(user=owner) - 4, reason="Elsewhere")
    for callback in callbacks:
        callback()
    generations = _starter_generations(run)
    assert len(generations) == 1
    assert _ledger(generations[0]) == ["reserve"]
    assert credit_balance(user=owner) == 0
    skipped = StarterPackItem.objects.get(generation__isnull=True)
    assert "credit" in skipped.skipped_reason and "balance is 0" in skipped.skipped_reason

    client.force_login(owner)
    page = client.get(f"/gallery/starter-pack/{run.lora_model_id}/")
    assert page.status_code == 200
    assert "Not made" in page.content.decode() and "balance is 0" in page.content.decode()


def test_the_partial_shows_the_pack_to_its_owner_only(
    run, owner, other_user, trained_version, django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=True):
        _succeed(run, trained_version)
    model = LoraModel.objects.get(pk=run.lora_model_id)

    def render(user):
        request = RequestFactory().get("/")
        request.user = user
        pack = selectors.starter_pack_for_model(user=user, model=model)
        context = {"model": model, "starter_pack": pack}
        return render_to_string("gallery/_starter_pack.html", context, request=request)

    shown = render(owner)
    assert 'data-testid="starter-pack"' in shown
    assert "Studio headshot" in shown and "Cinematic" in shown
    assert f"/gallery/starter-pack/{model.id}/" in shown  # polls while it is being made
    assert selectors.starter_pack_for_model(user=other_user, model=model) is None
    assert render(other_user).strip() == ""

    client.force_login(other_user)
    assert client.get(f"/gallery/starter-pack/{model.id}/").status_code == 404
    client.logout()
    assert client.get(f"/gallery/starter-pack/{model.id}/").status_code == 302


def test_a_pack_whose_task_was_lost_is_made_by_the_sweep(
    run, trained_version, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from gallery.tasks import starter_packs_resume_task

    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the task
        _succeed(run, trained_version)
    assert _starter_generations(run) == []
    assert starter_packs_resume_task() == 0  # too recent: its task may still be on its way
    StarterPack.objects.update(requested_at=timezone.now() - timedelta(minutes=10))
    assert starter_packs_resume_task() == 1  # the task runs inline in unit tests
    assert len(_starter_generations(run)) == 2
    assert starter_packs_resume_task() == 0  # made: nothing left to resume
