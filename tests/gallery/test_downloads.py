"""Downloading a picture as JPEG, PNG or WebP: converted from the stored original, decodable as
that format, without EXIF or GPS but with its colour profile and the AI-generated mark, named
for what it is; an unknown format is a clear 400, someone else's picture a 404."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageCms

from gallery.imaging import DIGITAL_SOURCE_TYPE
from gallery.models import GeneratedImage
from tests.gallery.factories import make_generation, make_image, ready_lora_model

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
FORMATS = [("jpeg", "JPEG", "jpg", "image/jpeg"), ("png", "PNG", "png", "image/png"),
           ("webp", "WEBP", "webp", "image/webp")]  # fmt: skip


def _original_with_gps_and_profile() -> bytes:
    """A stored original as a camera would write it: EXIF with GPS and an owner, an sRGB
    profile (the stripping must drop the first and keep the second)."""
    picture = Image.new("RGB", (120, 80), (200, 120, 60))
    exif = Image.Exif()
    exif[0x013B] = "Robin Owner"  # Artist
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)})
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", exif=exif, icc_profile=SRGB, quality=95)
    return buffer.getvalue()


@pytest.fixture
def image(owner):
    lora_model = ready_lora_model(owner, None, trigger_word="ZORVEK", name="Me")
    # The trigger word (the key to the owner's likeness) stays out of the file's name.
    generation = make_generation(
        owner, lora_model=lora_model, prompt="ZORVEK a portrait on a beach at dusk"
    )
    image = make_image(owner, generation=generation)
    image.file.save("image.jpg", ContentFile(_original_with_gps_and_profile()), save=False)
    image.format = "jpg"
    image.save()
    with Image.open(image.file.open("rb")) as stored:  # the test's premise
        assert stored.getexif().get_ifd(GPS_IFD)
    return image


@pytest.mark.parametrize(("asked", "pil_format", "extension", "media_type"), FORMATS)
def test_each_format_decodes_as_itself_without_gps(
    image, browser_as, owner, asked, pil_format, extension, media_type
):
    response = browser_as(owner).get(f"/gallery/images/{image.id}/download/?format={asked}")
    assert response.status_code == 200
    assert response["Content-Type"] == media_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="a-portrait-on-a-beach-at-dusk-{image.id.hex[:8]}.{extension}"'
    )
    assert response["Cache-Control"].startswith("private")
    content = response.content
    with Image.open(io.BytesIO(content)) as converted:
        assert converted.format == pil_format
        converted.load()
        assert converted.size == (120, 80)
        assert "exif" not in converted.info
        assert not converted.getexif()
        assert not converted.getexif().get_ifd(GPS_IFD)
        assert converted.info.get("icc_profile") == SRGB
    assert b"Robin Owner" not in content
    assert DIGITAL_SOURCE_TYPE.encode() in content  # still marked as AI-generated
    assert str(image.generation_id).encode() not in content


def test_the_original_is_still_there_without_a_format(image, browser_as, owner):
    response = browser_as(owner).get(f"/gallery/images/{image.id}/download/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize("asked", ["gif", "", "JPEG2000", "../../etc/passwd"])
def test_an_unknown_format_is_a_clear_400(image, browser_as, owner, asked):
    response = browser_as(owner).get(f"/gallery/images/{image.id}/download/", {"format": asked})
    assert response.status_code == 400
    assert "JPEG, PNG or WebP" in response.content.decode()
    assert "attachment" not in response.get("Content-Disposition", "")


def test_format_names_are_not_case_sensitive(image, browser_as, owner):
    response = browser_as(owner).get(f"/gallery/images/{image.id}/download/?format=JPG")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_someone_elses_picture_is_a_404_and_anonymous_signs_in(image, stranger, browser_as, client):
    url = f"/gallery/images/{image.id}/download/?format=png"
    assert browser_as(stranger).get(url).status_code == 404
    # A stranger asking for a bad format learns nothing either: 404 before the format is read.
    bad_format = f"/gallery/images/{image.id}/download/?format=gif"
    assert browser_as(stranger).get(bad_format).status_code == 404
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("state", ["held", "pending", "rejected"])
def test_pictures_moderation_hides_are_not_downloaded(owner, browser_as, state):
    hidden = make_image(owner, moderation=GeneratedImage.Moderation(state))
    client = browser_as(owner)
    # The same rule as the stored file's view.
    assert client.get(f"/gallery/images/{hidden.id}/file/").status_code == 404
    assert client.get(f"/gallery/images/{hidden.id}/download/?format=png").status_code == 404


def test_a_default_model_picture_without_prompt_words_is_still_named(owner, browser_as):
    image = make_image(owner, generation=make_generation(owner, prompt="!!!"))
    response = browser_as(owner).get(f"/gallery/images/{image.id}/download/?format=webp")
    assert response["Content-Disposition"] == (
        f'attachment; filename="picture-{image.id.hex[:8]}.webp"'
    )


def test_the_image_page_offers_each_format(image, browser_as, owner):
    page = browser_as(owner).get(f"/gallery/images/{image.id}/").content.decode()
    for asked, *_ in FORMATS:
        assert f"/gallery/images/{image.id}/download/?format={asked}" in page


def test_the_api_downloads_in_a_format_too(image, owner, stranger, as_user):
    url = f"/api/v1/images/{image.id}/download/"
    response = as_user(owner).get(url, {"as": "png"})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].endswith(f'-{image.id.hex[:8]}.png"')
    with Image.open(io.BytesIO(response.content)) as converted:
        assert converted.format == "PNG" and not converted.getexif()

    bad = as_user(owner).get(url, {"as": "gif"})
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"as": [bad.json()["detail"]]}
    assert "JPEG, PNG or WebP" in bad.json()["detail"]
    assert as_user(stranger).get(url, {"as": "png"}).status_code == 404
    assert as_user(owner).get(url).status_code == 200  # the original, as before
