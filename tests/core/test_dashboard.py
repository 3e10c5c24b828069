"""`/`: the marketing page for visitors; signed in, where the person stands and what next."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import credits_grant
from gallery.models import GeneratedImage
from tests.factories import TEST_PASSWORD, UserFactory, verify_email
from tests.gallery.factories import make_generation, make_image, ready_lora_model
from tests.trainings.journey import dataset_with_photos, draft_model, run_with_credits
from trainings.models import TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def _board(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.context["dashboard"], response.content.decode()


def test_an_anonymous_visitor_gets_the_marketing_page(client):
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert "Pictures of you, in any scene or style." in html
    assert "dashboard" not in response.context
    assert 'data-testid="next-action"' not in html


def test_without_photos_the_next_step_is_to_upload_them(signed_in):
    board, html = _board(signed_in)
    assert board.state == "no_photos"
    assert "Start with your photos" in html
    assert f'href="{reverse("trainings:dataset-create")}">Upload your photos</a>' in html
    assert html.count('class="button" data-testid="next-action"') == 1


def test_while_photos_are_checked_it_says_so_and_leads_to_them(signed_in, owner):
    dataset = dataset_with_photos(owner, ready=5, pending=3)
    board, html = _board(signed_in)
    assert board.state == "checking"
    assert "Your photos are being checked" in html
    assert "3 to go" in html
    assert f'href="{reverse("trainings:dataset", args=[dataset.id])}">See your photos' in html


def test_too_few_photos_lead_back_to_the_dataset(signed_in, owner):
    dataset = dataset_with_photos(owner, ready=4)
    board, html = _board(signed_in)
    assert board.state == "more_photos"
    assert f'href="{reverse("trainings:dataset", args=[dataset.id])}">Add more photos' in html


def test_ready_photos_and_no_model_lead_to_a_new_model_with_the_dataset(signed_in, owner):
    dataset = dataset_with_photos(owner)
    board, html = _board(signed_in)
    assert board.state == "ready_to_train"
    assert "Your photos are ready to train" in html
    url = f"{reverse('trainings:model-create')}?dataset={dataset.id}"
    assert f'href="{url}">Train your model</a>' in html


def test_a_ready_dataset_behind_many_newer_unfinished_ones_is_still_the_next_step(signed_in, owner):
    now = timezone.now()
    ready = dataset_with_photos(owner, name="Oldest, ready", created_at=now - timedelta(days=9))
    for days in range(1, 7):  # six newer ones with too few photos
        dataset_with_photos(
            owner, name=f"Few {days}", ready=4, created_at=now - timedelta(days=days)
        )
    board, html = _board(signed_in)
    assert board.state == "ready_to_train"
    assert board.dataset == ready
    url = f"{reverse('trainings:model-create')}?dataset={ready.id}"
    assert f'href="{url}">Train your model</a>' in html


def test_ready_photos_and_an_untrained_model_lead_to_that_model(signed_in, owner):
    dataset = dataset_with_photos(owner)
    lora_model = draft_model(owner)
    board, html = _board(signed_in)
    assert board.state == "ready_to_train"
    url = f"{reverse('trainings:model', args=[lora_model.id])}?dataset={dataset.id}"
    assert f'href="{url}">Train your model</a>' in html


def test_a_running_training_shows_live_progress(signed_in, owner):
    run = run_with_credits(owner, dataset=dataset_with_photos(owner), lora_model=draft_model(owner))
    board, html = _board(signed_in)
    assert board.state == "training"
    assert 'aria-valuenow="40"' in html
    assert f'hx-get="{reverse("trainings:run-status", args=[run.id])}?view=dashboard"' in html
    assert f'href="{reverse("trainings:run", args=[run.id])}">Follow the training' in html
    # The poll answers with the same small card, and reloads the page once the run has ended.
    poll = signed_in.get(
        reverse("trainings:run-status", args=[run.id]) + "?view=dashboard", HTTP_HX_REQUEST="true"
    )
    assert 'id="dashboard-training"' in poll.content.decode()
    assert "HX-Refresh" not in poll
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.SUCCEEDED)
    poll = signed_in.get(
        reverse("trainings:run-status", args=[run.id]) + "?view=dashboard", HTTP_HX_REQUEST="true"
    )
    assert poll["HX-Refresh"] == "true"


def test_a_ready_model_leads_to_creating_pictures_and_shows_the_latest_ones(
    signed_in, owner, other_user
):
    lora_model = ready_lora_model(owner, None, trigger_word="ZORVAK", name="Me")
    generation = make_generation(owner, lora_model=lora_model)
    mine = make_image(owner, generation=generation)
    held = make_image(
        owner, generation=generation, index=1, moderation=GeneratedImage.Moderation.REJECTED
    )
    theirs = make_image(other_user)
    board, html = _board(signed_in)
    assert board.state == "model_ready"
    assert f'href="{reverse("gallery:generate")}?model={lora_model.id}">Create pictures' in html
    assert reverse("gallery:image", args=[mine.id]) in html
    assert reverse("gallery:image", args=[held.id]) not in html
    assert reverse("gallery:image", args=[theirs.id]) not in html


def test_the_credit_line_shows_the_balance_and_where_to_buy(signed_in, owner):
    credits_grant(user=owner, amount=1234, reason="welcome")
    _, html = _board(signed_in)
    assert "1,234 credits" in html
    assert reverse("billing:buy") in html


def test_the_dashboard_reads_a_few_queries_however_much_the_account_holds(
    client, django_assert_max_num_queries
):
    def board_queries(user):
        client.force_login(user)
        # Session, user, running training, ready model, datasets, at most five reports, a
        # draft model, pictures, balance: 13 at most, whatever the account holds.
        with django_assert_max_num_queries(13):
            assert client.get(reverse("home")).status_code == 200

    small = UserFactory()
    dataset_with_photos(small, ready=4)
    board_queries(small)

    large = UserFactory()
    old = timezone.now() - timedelta(days=3)
    for index in range(8):
        dataset_with_photos(large, name=f"set {index}", ready=4, created_at=old)
    dataset_with_photos(large, name="good")
    draft_model(large)
    for _ in range(12):
        make_image(large)
    board_queries(large)
    lora_model = ready_lora_model(large, None, trigger_word="QUIXEL", name="Me too")
    run_with_credits(large, dataset=None, lora_model=lora_model)
    board_queries(large)


def test_signing_in_lands_on_the_dashboard(client):
    user = verify_email(UserFactory(email="lands@example.com"))
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(response["Location"]).context["dashboard"].state == "no_photos"


def test_after_a_failed_first_training_it_says_so_and_leads_back_to_the_model(signed_in, owner):
    dataset = dataset_with_photos(owner)
    lora_model = draft_model(owner)
    run_with_credits(
        owner,
        dataset=dataset,
        lora_model=lora_model,
        status=TrainingRun.Status.FAILED,
        settle="refund",
    )
    lora_model.status = lora_model.Status.FAILED
    lora_model.save(update_fields=["status"])
    board, html = _board(signed_in)
    assert board.state == "ready_to_train"
    assert "Your last training did not finish" in html
    url = f"{reverse('trainings:model', args=[lora_model.id])}?dataset={dataset.id}"
    assert f'href="{url}">Train your model</a>' in html
