"""Style packs: installed by a data migration (idempotent, keeps admins' edits), checked like a
generation's parameters, applied under what the person sets, and shown with an example picture
made on the platform: the person's own, else one an admin copied from a generated picture."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from core.exceptions import Conflict
from gallery import services
from gallery.models import Generation, StyleLora, StylePreset, StylePresetExample
from tests.gallery.factories import make_generation, make_image, ready_lora_model

pytestmark = pytest.mark.django_db

install = importlib.import_module("gallery.migrations.0007_install_style_packs")

REQUIRED = [
    "Studio headshot", "Business portrait", "Outdoor natural light", "Cinematic", "Watercolour",
    "Anime", "Fantasy", "Vintage film",
]  # fmt: skip


@pytest.fixture
def me(owner):
    return ready_lora_model(owner, None, trigger_word="ZORVEK", name="Me")


# --- Installed by the migration -------------------------------------------------------------


def test_the_migration_installs_valid_packs_with_a_starter_set():
    packs = list(StylePreset.objects.all())
    names = {pack.name for pack in packs}
    assert len(packs) >= 12
    assert set(REQUIRED) <= names
    assert 4 <= sum(pack.in_starter_pack for pack in packs) <= 6
    for pack in packs:
        assert "{trigger}" in pack.prompt_template and pack.description
        pack.full_clean()  # the parameters pass the generation rules
        assert pack.parameters["aspect_ratio"]


def test_running_the_install_again_duplicates_nothing_and_keeps_edits():
    count = StylePreset.objects.count()
    edited = StylePreset.objects.get(name="Anime")
    edited.prompt_template = "my own anime take on {trigger}"
    edited.parameters = {"aspect_ratio": "1:1"}
    edited.in_starter_pack = False
    edited.save()
    install.install_style_packs(django_apps, None)
    assert StylePreset.objects.count() == count
    edited.refresh_from_db()
    assert edited.prompt_template == "my own anime take on {trigger}"
    assert edited.parameters == {"aspect_ratio": "1:1"} and not edited.in_starter_pack

    install.remove_style_packs(django_apps, None)  # reversing keeps what an admin changed
    assert list(StylePreset.objects.values_list("name", flat=True)) == ["Anime"]
    install.install_style_packs(django_apps, None)
    assert StylePreset.objects.count() == count


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"guidance_scale": 50}, "guidance_scale: Must be between 0 and 10."),
        ({"seed": 3}, "Not a pack parameter: seed."),
        ({"aspect_ratio": "7:3"}, "aspect_ratio: Must be one of"),
        ("4:5", "An object of parameter names and values."),
    ],
)
def test_an_admin_cannot_save_parameters_a_generation_would_refuse(parameters, message):
    pack = StylePreset(name="Odd", prompt_template="{trigger} odd", parameters=parameters)
    with pytest.raises(ValidationError) as error:
        pack.full_clean()
    assert any(message in text for text in error.value.message_dict["parameters"])


# --- Applied to a generation ----------------------------------------------------------------


def _create(client, capture, **body):
    with capture(execute=False):  # not sent: what is stored is what would be sent
        return client.post("/api/v1/generations/", body, format="json")


def test_a_pack_applies_its_prompt_and_parameters_and_explicit_values_win(
    owner, me, as_user, django_capture_on_commit_callbacks
):
    from accounts.services import credits_grant

    credits_grant(user=owner, amount=100, reason="test")
    cinematic = StylePreset.objects.get(name="Cinematic")
    client = as_user(owner)
    response = _create(
        client,
        django_capture_on_commit_callbacks,
        lora_model=str(me.id),
        style_preset=str(cinematic.id),
        prompt="",
        num_inference_steps=20,
    )
    assert response.status_code == 201, response.json()
    generation = Generation.objects.get(pk=response.json()["generations"][0]["id"])
    assert generation.prompt_sent.startswith("cinematic film still of ZORVEK")
    assert generation.parameters["aspect_ratio"] == "21:9"  # the pack's
    assert generation.parameters["guidance_scale"] == 3.5  # the pack's
    assert generation.parameters["num_inference_steps"] == 20  # the person's

    # On the default model, a pack's LoRA-only and dev-only settings are left out, not refused.
    response = _create(
        client, django_capture_on_commit_callbacks, style_preset=str(cinematic.id), prompt="x"
    )
    assert response.status_code == 201, response.json()
    generation = Generation.objects.get(pk=response.json()["generations"][0]["id"])
    assert generation.parameters["aspect_ratio"] == "21:9"
    assert "num_inference_steps" not in generation.parameters
    assert generation.prompt == "x"  # a prompt written wins over the template


def test_a_pack_may_bring_a_style_lora(owner, me, as_user, django_capture_on_commit_callbacks):
    from accounts.services import credits_grant

    credits_grant(user=owner, amount=100, reason="test")
    ink = StyleLora.objects.create(
        name="Ink", extra_lora="someone/ink", default_scale=0.7, trigger_phrase="ink style"
    )
    pack = StylePreset.objects.get(name="Watercolour")
    pack.style_lora = ink
    pack.parameters = {**pack.parameters, "extra_lora_scale": 0.9}
    pack.full_clean()
    pack.save()
    response = _create(
        as_user(owner),
        django_capture_on_commit_callbacks,
        lora_model=str(me.id),
        style_preset=str(pack.id),
        prompt="",
    )
    assert response.status_code == 201, response.json()
    generation = Generation.objects.get(pk=response.json()["generations"][0]["id"])
    assert generation.style_lora == ink
    assert generation.parameters["extra_lora"] == "someone/ink"
    assert generation.parameters["extra_lora_scale"] == 0.9
    assert generation.prompt_sent.endswith(", ink style")


def test_the_generate_page_fills_the_form_with_the_pack(owner, me, browser_as):
    pack = StylePreset.objects.get(name="Cinematic")
    page = browser_as(owner).get("/generate/", {"preset": str(pack.id)}).content.decode()
    assert "cinematic film still of ZORVEK" in page
    assert '<option value="21:9" selected>' in page
    assert 'name="guidance_scale" value="3.5"' in page


# --- Example pictures -----------------------------------------------------------------------


def test_the_example_is_the_persons_own_picture_else_the_catalogues(
    owner, other_user, me, as_user, browser_as
):
    pack = StylePreset.objects.get(name="Studio headshot")
    mine = make_image(owner, generation=make_generation(owner, lora_model=me, style_preset=pack))
    make_image(  # held for review: never an example
        owner,
        generation=make_generation(owner, lora_model=me, style_preset=pack),
        moderation="held",
    )
    listed = {p["name"]: p for p in as_user(owner).get("/api/v1/presets/?page_size=50").json()[
        "results"]}  # fmt: skip
    assert listed["Studio headshot"]["example_url"].endswith(
        f"/gallery/images/{mine.id}/thumbnail/"
    )
    assert listed["Cinematic"]["example_url"] is None
    assert listed["Cinematic"]["parameters"]["aspect_ratio"] == "21:9"
    assert (
        f"/gallery/images/{mine.id}/thumbnail/"
        in browser_as(owner).get("/generate/").content.decode()
    )

    theirs = {p["name"]: p for p in as_user(other_user).get("/api/v1/presets/?page_size=50").json()[
        "results"]}  # fmt: skip
    assert theirs["Studio headshot"]["example_url"] is None  # never someone else's picture
    with pytest.raises(Conflict):  # nor copied into the catalogue: it shows its owner
        services.style_preset_example_from_image(image=mine)
    words_only = make_image(owner, generation=make_generation(owner, style_preset=pack))
    example = services.style_preset_example_from_image(image=words_only)
    theirs = {p["name"]: p for p in as_user(other_user).get("/api/v1/presets/?page_size=50").json()[
        "results"]}  # fmt: skip
    assert theirs["Studio headshot"]["example_url"].endswith(
        f"/gallery/catalogue/example/{example.pk}/"
    )


@pytest.fixture
def as_admin(client):
    admin = get_user_model().objects.create_superuser(
        email="boss@example.com", password="x-pass-phrase-1"
    )
    client.force_login(admin)
    return client


def test_the_admin_action_copies_a_picture_into_the_catalogue(owner, me, as_admin):
    pack = StylePreset.objects.get(name="Vintage film")
    image = make_image(owner, generation=make_generation(owner, style_preset=pack))
    plain = make_image(owner, generation=make_generation(owner))
    likeness = make_image(
        owner, generation=make_generation(owner, lora_model=me, style_preset=pack)
    )
    selected = [str(image.pk), str(plain.pk), str(likeness.pk)]
    response = as_admin.post(
        "/admin/gallery/generatedimage/",
        {"action": "use_as_style_example", "_selected_action": selected},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 example(s) added." in page and "not made with a style pack" in page
    # The admin capitalises a message's first letter, and a UUID may begin with one.
    assert f"{likeness.pk}: this picture may show its owner" in page.lower()
    example = StylePresetExample.objects.get()
    assert example.preset == pack and example.source_image == image
    assert str(image.id) in example.source_note
    assert example.image.name.startswith("gallery/catalogue/")
    original = example.image.read()

    services.image_delete(image=image)  # the source goes; the example stays, with its note
    example.refresh_from_db()
    assert example.source_image is None and str(image.id) in example.source_note
    shown = as_admin.get(f"/gallery/catalogue/example/{example.pk}/")
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) == original


def test_an_admin_edits_a_pack_and_bad_parameters_are_named(as_admin):
    pack = StylePreset.objects.get(name="Fantasy")
    assert "Fantasy" in as_admin.get("/admin/gallery/stylepreset/").content.decode()
    url = f"/admin/gallery/stylepreset/{pack.pk}/change/"
    assert as_admin.get(url).status_code == 200
    form = {
        "name": "Fantasy",
        "description": pack.description,
        "prompt_template": pack.prompt_template,
        "parameters": '{"aspect_ratio": "2:3", "num_inference_steps": 90}',
        "style_lora": "",
        "in_starter_pack": "on",
        "is_active": "on",
        "position": "5",
        "examples-TOTAL_FORMS": "0",
        "examples-INITIAL_FORMS": "0",
    }
    refused = as_admin.post(url, form)
    assert refused.status_code == 200
    assert "num_inference_steps: Must be between 1 and 50." in refused.content.decode()
    form["parameters"] = '{"aspect_ratio": "2:3", "num_inference_steps": 40}'
    assert as_admin.post(url, form).status_code == 302
    pack.refresh_from_db()
    assert pack.parameters == {"aspect_ratio": "2:3", "num_inference_steps": 40}
    assert pack.in_starter_pack


def test_an_admin_may_use_a_picture_of_their_own_model(me, as_admin):
    admin = get_user_model().objects.get(email="boss@example.com")
    theirs = ready_lora_model(admin, None, trigger_word="BOSSY", name="Boss")
    pack = StylePreset.objects.get(name="Anime")
    image = make_image(
        admin, generation=make_generation(admin, lora_model=theirs, style_preset=pack)
    )
    example = services.style_preset_example_from_image(image=image, by=admin)
    assert example.preset == pack


def test_examples_are_never_uploaded_in_the_admin(owner, as_admin):
    pack = StylePreset.objects.get(name="Fantasy")
    services.style_preset_example_from_image(
        image=make_image(owner, generation=make_generation(owner, style_preset=pack))
    )
    page = as_admin.get(f"/admin/gallery/stylepreset/{pack.pk}/change/").content.decode()
    assert "/gallery/catalogue/example/" in page  # the example is shown...
    assert 'type="file"' not in page  # ...but there is nothing to upload
    assert 'name="examples-MAX_NUM_FORMS" value="0"' in page  # no row can be added
    style = StyleLora.objects.create(name="Ink", extra_lora="someone/ink")
    page = as_admin.get(f"/admin/gallery/stylelora/{style.pk}/change/").content.decode()
    assert 'type="file"' not in page and "Use as example of its style LoRA" in page


def test_the_admin_action_sets_a_style_loras_example_from_a_picture(owner, me, as_admin):
    style = StyleLora.objects.create(name="Ink", extra_lora="someone/ink")
    image = make_image(owner, generation=make_generation(owner, style_lora=style))
    likeness = make_image(owner, generation=make_generation(owner, lora_model=me, style_lora=style))
    response = as_admin.post(
        "/admin/gallery/generatedimage/",
        {
            "action": "use_as_style_lora_example",
            "_selected_action": [str(image.pk), str(likeness.pk)],
        },
        follow=True,
    )
    page = response.content.decode()
    assert "1 example(s) added." in page and "This picture may show its owner" in page
    style.refresh_from_db()
    assert style.example_image.name.startswith("gallery/catalogue/")
    assert style.example_image.read() == image.file.open("rb").read()
