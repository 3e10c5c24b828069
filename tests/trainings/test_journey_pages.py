"""Each training page leads on: a dataset to a model, a model to training, a finished training
to pictures, a failed one to a fix; and the credits of a run as the ledger has them."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.gallery.factories import ready_lora_model
from tests.trainings.journey import dataset_with_photos, draft_model, run_with_credits
from trainings.models import LoraModel, TrainingRun
from trainings.selectors import dataset_ready_newest
from trainings.tasks import training_run_notify_task

pytestmark = pytest.mark.django_db

Status = TrainingRun.Status


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


# --- From a dataset to a model, and its training form --------------------------------------


def test_a_ready_dataset_without_a_model_leads_straight_to_creating_one(signed_in, owner):
    dataset = dataset_with_photos(owner)
    html = signed_in.get(reverse("trainings:dataset", args=[dataset.id])).content.decode()
    url = f"{reverse('trainings:model-create')}?dataset={dataset.id}"
    assert f'href="{url}">Create your model and train it' in html


def test_a_ready_dataset_with_one_model_leads_to_training_it(signed_in, owner):
    dataset = dataset_with_photos(owner)
    lora_model = draft_model(owner)
    html = signed_in.get(reverse("trainings:dataset", args=[dataset.id])).content.decode()
    url = f"{reverse('trainings:model', args=[lora_model.id])}?dataset={dataset.id}"
    assert f'href="{url}">Train Me on these photos' in html


def test_a_new_model_carries_the_dataset_to_its_training_form(signed_in, owner):
    dataset = dataset_with_photos(owner)
    create_url = f"{reverse('trainings:model-create')}?dataset={dataset.id}"
    page = signed_in.get(create_url)
    assert page.context["form"].initial["dataset"] == dataset.pk
    response = signed_in.post(
        create_url, {"name": "Me", "trigger_word": "ZORVAK", "dataset": str(dataset.id)}
    )
    lora_model = LoraModel.objects.get(owner=owner)
    assert response["Location"] == (
        f"{reverse('trainings:model', args=[lora_model.id])}?dataset={dataset.id}"
    )
    form = signed_in.get(response["Location"]).context["form"]
    assert form["dataset"].value() == dataset.pk


def test_another_users_dataset_id_is_ignored_and_never_shown(signed_in, owner, other_user):
    theirs = dataset_with_photos(other_user, name="Their holiday")
    page = signed_in.get(f"{reverse('trainings:model-create')}?dataset={theirs.id}")
    assert page.status_code == 200
    assert "dataset" not in page.context["form"].initial
    assert str(theirs.id) not in page.content.decode()
    response = signed_in.post(
        reverse("trainings:model-create"),
        {"name": "Me", "trigger_word": "ZORVAK", "dataset": str(theirs.id)},
    )
    lora_model = LoraModel.objects.get(owner=owner)
    assert response["Location"] == reverse("trainings:model", args=[lora_model.id])
    page = signed_in.get(f"{reverse('trainings:model', args=[lora_model.id])}?dataset={theirs.id}")
    assert page.status_code == 200
    assert page.context["form"]["dataset"].value() is None
    assert "Their holiday" not in page.content.decode()
    malformed = signed_in.get(f"{reverse('trainings:model-create')}?dataset=not-an-id")
    assert malformed.status_code == 200


def test_the_train_form_preselects_the_newest_dataset_ready_to_train(signed_in, owner):
    ready = dataset_with_photos(owner, name="Ready")
    dataset_with_photos(owner, name="Newer but too few", ready=4)
    lora_model = draft_model(owner)
    form = signed_in.get(reverse("trainings:model", args=[lora_model.id])).context["form"]
    assert form["dataset"].value() == ready.pk
    newest_ready = dataset_with_photos(owner, name="Newest ready")
    form = signed_in.get(reverse("trainings:model", args=[lora_model.id])).context["form"]
    assert form["dataset"].value() == newest_ready.pk


def test_the_oldest_ready_dataset_is_preselected_behind_many_newer_unready_ones(
    signed_in, owner, django_assert_max_num_queries
):
    now = timezone.now()
    ready = dataset_with_photos(owner, name="Oldest, ready", created_at=now - timedelta(days=9))
    for days in range(1, 7):  # six newer ones: too few photos, or photos still being checked
        dataset_with_photos(
            owner,
            name=f"Not ready {days}",
            ready=4 if days % 2 else 20,
            pending=0 if days % 2 else 2,
            created_at=now - timedelta(days=days),
        )
    with django_assert_max_num_queries(2):  # the candidates, then one report
        assert dataset_ready_newest(user=owner) == ready
    form = signed_in.get(reverse("trainings:model", args=[draft_model(owner).id])).context["form"]
    assert form["dataset"].value() == ready.pk


# --- After a success: create pictures ------------------------------------------------------


def test_a_succeeded_training_leads_to_creating_pictures_with_that_model(signed_in, owner):
    lora_model = ready_lora_model(owner, None, trigger_word="ZORVAK", name="Me")
    run = run_with_credits(
        owner,
        dataset=dataset_with_photos(owner),
        lora_model=lora_model,
        status=Status.SUCCEEDED,
        settle="capture",
    )
    generate = f"{reverse('gallery:generate')}?model={lora_model.id}"
    run_page = signed_in.get(reverse("trainings:run", args=[run.id])).content.decode()
    assert f'href="{generate}">Create pictures' in run_page
    model_page = signed_in.get(reverse("trainings:model", args=[lora_model.id])).content.decode()
    assert f'href="{generate}">Create pictures' in model_page
    training_run_notify_task(str(run.id))
    assert generate in mail.outbox[-1].body
    assert "Create pictures now: http" in mail.outbox[-1].body


def test_a_model_not_trained_yet_offers_no_pictures(signed_in, owner):
    lora_model = draft_model(owner)
    page = signed_in.get(reverse("trainings:model", args=[lora_model.id])).content.decode()
    assert "Create pictures" not in page


# --- After a failure: advice that fits -----------------------------------------------------


def test_a_failed_run_page_and_e_mail_give_advice_that_fits(signed_in, owner):
    run = run_with_credits(
        owner,
        dataset=dataset_with_photos(owner),
        lora_model=draft_model(owner),
        status=Status.FAILED,
        settle="refund",
        error_message="The training ran out of GPU memory. Try a smaller batch size or resolution.",
        parameters={"steps": 1000, "batch_size": 1, "resolution": "512"},
    )
    html = signed_in.get(reverse("trainings:run", args=[run.id])).content.decode()
    assert 'data-failure-kind="out_of_memory"' in html
    assert "already the lightest" in html
    assert "smaller batch" not in html
    training_run_notify_task(str(run.id))
    body = mail.outbox[-1].body
    assert "The training ran out of GPU memory." in body
    assert "already the lightest" in body
    assert "smaller batch" not in body


# --- What the run cost, from the ledger ----------------------------------------------------


def _credits(client, run) -> str:
    html = client.get(reverse("trainings:run", args=[run.id])).content.decode()
    start = html.index('data-testid="run-credits"')
    return html[start : html.index("</p>", start)]


def test_a_running_training_shows_its_credits_reserved(signed_in, owner):
    run = run_with_credits(owner, dataset=dataset_with_photos(owner), lora_model=draft_model(owner))
    line = _credits(signed_in, run)
    assert "Reserved" in line and "200 credits" in line


def test_a_succeeded_training_shows_its_credits_charged(signed_in, owner):
    run = run_with_credits(
        owner,
        dataset=dataset_with_photos(owner),
        lora_model=ready_lora_model(owner, None, trigger_word="ZORVAK", name="Me"),
        status=Status.SUCCEEDED,
        settle="capture",
    )
    line = _credits(signed_in, run)
    assert "Charged" in line and "200 credits" in line and "Reserved" not in line


def test_a_failed_training_shows_its_credits_refunded(signed_in, owner):
    run = run_with_credits(
        owner,
        dataset=dataset_with_photos(owner),
        lora_model=draft_model(owner),
        status=Status.FAILED,
        settle="refund",
        error_message="The trainer could not read the photos.",
    )
    line = _credits(signed_in, run)
    assert "Refunded" in line and "200 credits" in line and "Reserved" not in line


def test_an_ended_run_not_yet_settled_never_says_reserved(signed_in, owner):
    run = run_with_credits(
        owner,
        dataset=dataset_with_photos(owner),
        lora_model=draft_model(owner),
        status=Status.FAILED,
    )
    line = _credits(signed_in, run)
    assert "Reserved" not in line and "being given back" in line


def test_another_users_run_is_a_404(signed_in, other_user):
    run = run_with_credits(
        other_user, dataset=dataset_with_photos(other_user), lora_model=draft_model(other_user)
    )
    assert signed_in.get(reverse("trainings:run", args=[run.id])).status_code == 404
