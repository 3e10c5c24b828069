"""A pack without an example picture offers to make one: one picture in its style from the
person's own model, charged as any generation; once approved it is that pack's example, for its
owner only. Refusals (credits short, no model) are plain and cost nothing; the action is a POST
with CSRF, for the person's own models only."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection

from accounts.models import CreditEntry
from accounts.selectors import credit_balance
from accounts.services import credits_grant
from core.exceptions import Conflict
from gallery.models import GeneratedImage, Generation, StylePreset
from gallery.services.style_examples import style_example_make
from tests.gallery.factories import make_generation, make_image, ready_lora_model

pytestmark = pytest.mark.django_db

PACK = "Watercolour"


@pytest.fixture
def me(owner):
    return ready_lora_model(owner, None, trigger_word="ZORVEK", name="Me")


@pytest.fixture
def pack():
    return StylePreset.objects.get(name=PACK)


ACTION = "/generate/example/"


def _card(page: str, name: str) -> str:
    """The markup of one pack without an example on the generate page ('' when it has one)."""
    found = re.search(
        rf'<div class="preset preset-without-example" data-pack="{re.escape(name)}">(.*?)</div>',
        page,
        re.S,
    )
    return found.group(1) if found else ""


def _csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_a_pack_without_an_example_offers_to_make_one_and_it_is_charged(
    owner, me, pack, browser_as
):
    credits_grant(user=owner, amount=100, reason="test")
    client = browser_as(owner, enforce_csrf=True)
    page = client.get("/generate/").content.decode()
    card = _card(page, PACK)
    assert pack.description in card
    assert f'action="{ACTION}"' in card and f'name="preset" value="{pack.id}"' in card
    shown_cost = int(re.search(r"Make an example — (\d+) credits?", card).group(1))

    response = client.post(
        ACTION, {"preset": str(pack.id), "csrfmiddlewaretoken": _csrf_token(page)}
    )
    generation = Generation.objects.get(owner=owner)
    assert response.status_code == 302
    assert response["Location"] == f"/generations/{generation.id}/"
    assert generation.style_preset == pack and generation.lora_model == me
    assert generation.num_outputs == 1
    assert "ZORVEK" in generation.prompt_sent
    assert generation.cost == shown_cost
    reserved = CreditEntry.objects.get(reference=generation.credit_reference)
    assert reserved.kind == CreditEntry.Kind.RESERVE and reserved.amount == -shown_cost
    assert credit_balance(user=owner) == 100 - shown_cost

    # While it is made and checked the card says so, and offers no second one.
    card = _card(client.get("/generate/").content.decode(), PACK)
    assert "Your example is on its way" in card and "Make an example" not in card
    image = make_image(owner, generation=generation, moderation=GeneratedImage.Moderation.PENDING)
    card = _card(client.get("/generate/").content.decode(), PACK)
    assert "Your example is on its way" in card

    # Approved: the picture is the pack's example, and the card is gone.
    GeneratedImage.objects.filter(pk=image.pk).update(
        moderation_state=GeneratedImage.Moderation.APPROVED
    )
    page = client.get("/generate/").content.decode()
    assert _card(page, PACK) == ""
    assert f'src="/gallery/images/{image.id}/thumbnail/" alt="Example of {PACK}"' in page


def test_the_chosen_model_makes_the_example(owner, me, pack, browser_as):
    credits_grant(user=owner, amount=100, reason="test")
    other = ready_lora_model(owner, None, trigger_word="QUOLIX", name="Another me")
    client = browser_as(owner)
    card = _card(client.get("/generate/", {"model": str(other.id)}).content.decode(), PACK)
    assert f'name="model" value="{other.id}"' in card
    client.post(ACTION, {"preset": str(pack.id), "model": str(other.id)})
    assert Generation.objects.get(owner=owner).lora_model == other


def test_a_strangers_pictures_are_never_an_example(owner, stranger, me, pack, browser_as, as_user):
    theirs = ready_lora_model(stranger, None, trigger_word="KAVIRO", name="Theirs")
    picture = make_image(
        stranger, generation=make_generation(stranger, lora_model=theirs, style_preset=pack)
    )
    page = browser_as(owner).get("/generate/").content.decode()
    assert str(picture.id) not in page
    assert PACK in page and _card(page, PACK)
    listed = as_user(owner).get("/api/v1/presets/?page_size=50").json()["results"]
    assert next(p for p in listed if p["name"] == PACK)["example_url"] is None
    # The stranger sees their own.
    assert str(picture.id) in browser_as(stranger).get("/generate/").content.decode()


def test_short_credits_are_refused_plainly_with_nothing_made_or_charged(
    owner, me, pack, browser_as
):
    client = browser_as(owner)
    response = client.post(ACTION, {"preset": str(pack.id)}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/generate/"
    assert f"No example of {PACK} was made" in page
    assert "your balance is 0" in page
    assert not Generation.objects.filter(owner=owner).exists()
    assert not CreditEntry.objects.filter(user=owner, kind=CreditEntry.Kind.RESERVE).exists()


def test_without_a_model_it_is_refused_plainly(owner, pack, browser_as):
    credits_grant(user=owner, amount=100, reason="test")
    client = browser_as(owner)
    card = _card(client.get("/generate/").content.decode(), PACK)
    assert "Train your model to see this pack on you." in card and "<form" not in card
    page = client.post(ACTION, {"preset": str(pack.id)}, follow=True).content.decode()
    assert "You have no trained model yet." in page
    assert not Generation.objects.exists()
    assert credit_balance(user=owner) == 100


def test_another_users_model_is_a_404(owner, other_user, me, pack, browser_as):
    credits_grant(user=owner, amount=100, reason="test")
    theirs = ready_lora_model(other_user, None, trigger_word="KAVIRO", name="Theirs")
    response = browser_as(owner).post(ACTION, {"preset": str(pack.id), "model": str(theirs.id)})
    assert response.status_code == 404
    assert not Generation.objects.exists()


def test_the_action_is_a_post_with_csrf_for_signed_in_people(owner, me, pack, browser_as, client):
    credits_grant(user=owner, amount=100, reason="test")
    asked = {"preset": str(pack.id)}
    assert browser_as(owner, enforce_csrf=True).post(ACTION, asked).status_code == 403
    assert browser_as(owner).get(ACTION, asked).status_code == 405
    anonymous = client.post(ACTION, asked)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    for preset in ("00000000-0000-0000-0000-000000000000", "not-an-id", ""):
        assert browser_as(owner).post(ACTION, {"preset": preset}).status_code == 404
    assert not Generation.objects.exists()


def test_a_second_example_while_the_first_is_under_way_is_refused_and_costs_nothing(
    owner, me, pack, browser_as
):
    credits_grant(user=owner, amount=100, reason="test")
    client = browser_as(owner)
    client.post(ACTION, {"preset": str(pack.id)})
    balance = credit_balance(user=owner)

    page = client.post(ACTION, {"preset": str(pack.id)}, follow=True).content.decode()

    assert f"Your example of {PACK} is already on its way." in page
    assert Generation.objects.filter(owner=owner).count() == 1
    assert credit_balance(user=owner) == balance


@pytest.mark.django_db(transaction=True)
def test_a_double_click_makes_one_example(style_packs, owner, me, replicate_backend):
    """Four requests at the same moment, each on its own connection: one example, one charge."""
    credits_grant(user=owner, amount=100, reason="test")
    pack = StylePreset.objects.get(name=PACK)
    together = threading.Barrier(4)
    outcomes: list[str] = []

    def ask():
        try:
            together.wait(timeout=10)
            style_example_make(user=owner, preset=pack)
            outcomes.append("made")
        except Conflict:
            outcomes.append("refused")
        except BaseException as error:  # surfaced below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["made", "refused", "refused", "refused"]
    assert Generation.objects.filter(owner=owner).count() == 1
    reserves = CreditEntry.objects.filter(user=owner, kind=CreditEntry.Kind.RESERVE)
    assert reserves.count() == 1
