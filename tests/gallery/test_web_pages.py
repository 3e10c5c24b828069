"""The gallery's pages: what the owner sees, what others cannot, CSRF on every form."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image, ImageDraw

from gallery.models import Collection, GeneratedImage, Generation, StylePreset, StylePresetExample
from gallery.services import collection_create, collection_images_add
from tests.gallery.factories import make_generation, make_image, picture

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in(owner):
    image = make_image(owner)
    anonymous = Client()
    for path in [
        "/generate/",
        "/gallery/",
        f"/gallery/images/{image.id}/",
        f"/gallery/images/{image.id}/thumbnail/",
        f"/generations/{image.generation_id}/",
        "/gallery/collections/",
        "/gallery/shares/",
    ]:
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/"), path


def test_the_gallery_grid_pages_with_htmx_load_more(owner, other_user, browser_as, settings):
    settings.GALLERY_PAGE_SIZE = 2
    now = timezone.now()
    images = [make_image(owner, created_at=now - timedelta(minutes=n)) for n in range(3)]
    theirs = make_image(other_user)
    client = browser_as(owner)
    page = client.get("/gallery/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f"/gallery/images/{images[0].id}/thumbnail/" in html
    assert str(images[2].id) not in html
    assert str(theirs.id) not in html
    next_url = re.search(r'hx-get="([^"]+cursor=[^"]+)"', html).group(1).replace("&amp;", "&")
    more = client.get(next_url, HTTP_HX_REQUEST="true")
    assert more.status_code == 200
    assert "<html" not in more.content.decode()
    assert str(images[2].id) in more.content.decode()
    assert "hx-get" not in more.content.decode()  # the last page has no "load more"
    thumbnail = client.get(f"/gallery/images/{images[0].id}/thumbnail/")
    assert thumbnail["Content-Type"] == "image/webp"


def test_gallery_filters_on_the_page(owner, browser_as):
    favourite = make_image(owner, is_favourite=True)
    plain = make_image(owner)
    client = browser_as(owner)
    html = client.get("/gallery/", {"favourite": "on"}).content.decode()
    assert str(favourite.id) in html and str(plain.id) not in html
    bad = client.get("/gallery/", {"created_from": "2026-02-02", "created_to": "2026-01-01"})
    assert "Must not be before" in bad.content.decode()


def test_the_image_page_shows_every_parameter_and_recalls_them(owner, lora, browser_as):
    generation = make_generation(
        owner,
        lora_model=lora,
        prompt="me on the moon",
        parameters={"guidance_scale": 4.5, "num_inference_steps": 33, "seed": 77},
        seed=77,
    )
    image = make_image(owner, generation=generation)
    client = browser_as(owner)
    html = client.get(f"/gallery/images/{image.id}/").content.decode()
    assert "me on the moon" in html
    assert "Guidance" in html and "4.5" in html and "33" in html
    assert f"/generate/?from={generation.id}" in html
    recalled = client.get("/generate/", {"from": str(generation.id)}).content.decode()
    assert "me on the moon" in recalled
    assert 'name="guidance_scale" value="4.5"' in recalled
    assert 'name="seed" value="77"' in recalled
    assert f'<option value="{lora.id}" selected>' in recalled


def test_presets_fill_the_prompt_with_the_trigger_word(owner, lora, browser_as):
    preset = StylePreset.objects.create(
        name="Studio", prompt_template="a studio portrait of {trigger}, soft light"
    )
    StylePresetExample.objects.create(
        preset=preset, image=SimpleUploadedFile("ex.png", picture(fmt="PNG"))
    )
    client = browser_as(owner)
    page = client.get("/generate/").content.decode()
    assert "Studio" in page and f"?preset={preset.id}" in page
    example = re.search(r'src="(/gallery/catalogue/example/\d+/)"', page).group(1)
    assert client.get(example)["Content-Type"] == "image/png"
    filled = client.get("/generate/", {"preset": str(preset.id)}).content.decode()
    assert "a studio portrait of ZORVEK, soft light" in filled


def _form(lora, **extra):
    data = {
        "lora_model": str(lora.id),
        "prompt": "me in a garden",
        "aspect_ratio": "1:1",
        "model": "dev",
        "num_outputs": "1",
        "batch": "1",
        "num_inference_steps": "20",
        "guidance_scale": "3",
        "lora_scale": "1",
        "output_format": "webp",
        "output_quality": "80",
        "megapixels": "1",
        "prompt_strength": "0.8",
    }
    data.update(extra)
    return data


def test_the_form_generates_and_the_page_follows_it(
    owner, lora, credits, browser_as, finish, django_capture_on_commit_callbacks
):
    client = browser_as(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/generate/", _form(lora))
    assert response.status_code == 302
    generation = Generation.objects.get()
    assert response["Location"] == f"/generations/{generation.id}/"
    running = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in running
    finish(generation)
    partial = client.get(f"/generations/{generation.id}/status/").content.decode()
    assert "hx-trigger" not in partial  # polling stops once it has ended
    image = generation.images.get()
    assert f"/gallery/images/{image.id}/" in partial
    assert "<html" not in partial


def test_form_errors_are_shown_by_field(owner, lora, credits, browser_as):
    client = browser_as(owner)
    response = client.post("/generate/", _form(lora, num_outputs="7", guidance_scale="11"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Must be between") == 2
    assert not Generation.objects.exists()


def test_inpainting_from_the_drawn_mask(
    owner, lora, credits, browser_as, finish, django_capture_on_commit_callbacks
):
    source = Image.new("RGB", (320, 320), (40, 160, 60))
    buffer = io.BytesIO()
    source.save(buffer, "JPEG")
    drawing = Image.new("RGBA", (320, 320), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).rectangle((0, 0, 159, 319), fill=(255, 255, 255, 255))
    drawn = io.BytesIO()
    drawing.save(drawn, "PNG")
    mask_data = "data:image/png;base64," + base64.b64encode(drawn.getvalue()).decode()
    client = browser_as(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/generate/",
            {
                **_form(lora, mask_data=mask_data),
                "image": SimpleUploadedFile("garden.jpg", buffer.getvalue(), "image/jpeg"),
            },
        )
    assert response.status_code == 302, response.content.decode()[:500]
    generation = Generation.objects.get()
    assert generation.kind == Generation.Kind.INPAINT
    assert generation.mask.name.startswith(f"gallery/{owner.public_id}/inputs/")
    with default_storage.open(generation.mask.name) as handle, Image.open(handle) as mask:
        assert mask.mode == "L" and mask.size == (320, 320)
        assert mask.getpixel((10, 10)) == 255 and mask.getpixel((300, 10)) == 0
    input_page = client.get(f"/generations/{generation.id}/input/mask/")
    assert input_page["Content-Type"] == "image/png"
    assert finish(generation).status == Generation.Status.SUCCEEDED


def test_image_actions_on_the_page(owner, browser_as):
    image = make_image(owner)
    client = browser_as(owner)
    favourite = client.post(f"/gallery/images/{image.id}/favourite/", HTTP_HX_REQUEST="true")
    assert "★ Favourite" in favourite.content.decode()
    image.refresh_from_db()
    assert image.is_favourite
    client.post(f"/gallery/images/{image.id}/collections/", {"new_collection": "Trips"})
    assert list(Collection.objects.get(name="Trips").images.all()) == [image]
    client.post(f"/gallery/images/{image.id}/share/", {"expires_in_days": "2"})
    assert image.share_links.count() == 1
    client.post(f"/gallery/images/{image.id}/avatar/")
    owner.refresh_from_db()
    assert owner.avatar
    response = client.post(f"/gallery/images/{image.id}/delete/")
    assert response.status_code == 302
    assert not GeneratedImage.objects.filter(pk=image.pk).exists()


def test_bulk_zip_and_move_on_the_page(owner, browser_as):
    images = [make_image(owner), make_image(owner)]
    source = collection_create(user=owner, name="A")
    target = collection_create(user=owner, name="B")
    collection_images_add(collection=source, images=images)
    client = browser_as(owner)
    ids = [str(image.id) for image in images]
    response = client.post("/gallery/bulk/", {"action": "zip", "image_ids": ids})
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert len(names) == 3
    client.post(
        "/gallery/bulk/",
        {
            "action": "move",
            "image_ids": ids,
            "collection": str(target.id),
            "from_collection": str(source.id),
            "next": f"/gallery/collections/{source.id}/",
        },
    )
    assert target.images.count() == 2 and source.images.count() == 0
    page = client.get(f"/gallery/collections/{target.id}/").content.decode()
    assert all(image_id in page for image_id in ids)


def test_others_get_404_on_every_page(owner, stranger, browser_as):
    image = make_image(owner)
    collection = collection_create(user=owner, name="Mine")
    generation = image.generation
    client = browser_as(stranger)
    for path in [
        f"/gallery/images/{image.id}/",
        f"/gallery/images/{image.id}/file/",
        f"/gallery/images/{image.id}/thumbnail/",
        f"/gallery/images/{image.id}/download/",
        f"/generations/{generation.id}/",
        f"/generations/{generation.id}/status/",
        f"/gallery/collections/{collection.id}/",
    ]:
        assert client.get(path).status_code == 404, path
    for path in [
        f"/gallery/images/{image.id}/favourite/",
        f"/gallery/images/{image.id}/delete/",
        f"/gallery/images/{image.id}/avatar/",
        f"/gallery/images/{image.id}/share/",
        f"/generations/{generation.id}/cancel/",
        f"/gallery/collections/{collection.id}/delete/",
    ]:
        assert client.post(path).status_code == 404, path
    client.post("/gallery/bulk/", {"action": "delete", "image_ids": [str(image.id)]})
    image.refresh_from_db()
    assert not image.is_favourite
    assert GeneratedImage.objects.filter(pk=image.pk).exists()
    assert Collection.objects.filter(pk=collection.pk).exists()
    assert str(image.id) not in client.get("/gallery/").content.decode()
    stranger.refresh_from_db()
    assert not stranger.avatar


def test_every_form_needs_the_csrf_token(owner, lora, credits, browser_as):
    image = make_image(owner)
    collection = collection_create(user=owner, name="Mine")
    client = browser_as(owner, enforce_csrf=True)
    for path, data in [
        ("/generate/", _form(lora)),
        (f"/gallery/images/{image.id}/favourite/", {}),
        (f"/gallery/images/{image.id}/delete/", {}),
        (f"/gallery/images/{image.id}/avatar/", {}),
        (f"/gallery/images/{image.id}/share/", {}),
        (f"/gallery/images/{image.id}/collections/", {"new_collection": "X"}),
        ("/gallery/bulk/", {"action": "delete", "image_ids": [str(image.id)]}),
        ("/gallery/collections/", {"name": "New"}),
        (f"/gallery/collections/{collection.id}/", {"name": "Renamed"}),
        (f"/gallery/collections/{collection.id}/delete/", {}),
    ]:
        assert client.post(path, data).status_code == 403, path
    assert GeneratedImage.objects.filter(pk=image.pk, is_favourite=False).exists()
    assert not Generation.objects.filter(status=Generation.Status.QUEUED).exists()
    assert list(Collection.objects.values_list("name", flat=True)) == ["Mine"]
    # The same session through the API needs the token too.
    api = client.post(f"/api/v1/images/{image.id}/favourite/")
    assert api.status_code == 403


def test_collections_and_share_links_pages(owner, browser_as):
    image = make_image(owner)
    client = browser_as(owner)
    created = client.post("/gallery/collections/", {"name": "Campaign", "description": "Q3"})
    collection = Collection.objects.get()
    assert created["Location"] == f"/gallery/collections/{collection.id}/"
    duplicate = client.post("/gallery/collections/", {"name": "campaign"})
    assert "already have a collection" in duplicate.content.decode()
    collection_images_add(collection=collection, images=[image])
    assert "1 image" in client.get("/gallery/collections/").content.decode()
    client.post(f"/gallery/collections/{collection.id}/share/", {"never_expires": "on"})
    link = collection.share_links.get()
    assert link.expires_at is None
    shares = client.get("/gallery/shares/").content.decode()
    assert "/s/" in shares and "Revoke" in shares
    client.post(f"/gallery/shares/{link.id}/revoke/")
    link.refresh_from_db()
    assert link.revoked_at is not None
    client.post(f"/gallery/collections/{collection.id}/delete/")
    assert not Collection.objects.exists()
    assert GeneratedImage.objects.filter(pk=image.pk).exists()
