"""The whole journey of a new person, in a real browser, with a real worker and the simulator:
sign up, confirm the address, upload photos, train, generate, favourite, set as profile picture.
"""

import re

import pytest
from django.core import mail

from accounts.models import User
from gallery.models import GeneratedImage
from tests.trainings.portraits import portrait_jpegs
from trainings.models import LoraModel

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a-long enough passphrase 9"
SLOW = 90_000  # ms: work done by the worker and the simulator


def _sign_up(page):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Your name").fill("Robin")
    page.get_by_label("E-mail address").fill("robin@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/login/")
    page.get_by_label("E-mail address").fill("robin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/profile/")


def _nav(page, name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def test_a_new_person_gets_a_picture_of_themselves(page, live_worker, tmp_path):
    _sign_up(page)

    # Upload 15 photos on a new dataset, with the page's progress, and wait for the report.
    _nav(page, "Models")
    page.get_by_role("link", name="New dataset").first.click()
    page.get_by_label("Name").fill("Me, this summer")
    page.get_by_role("button", name="Create dataset").click()
    files = [
        {"name": name, "mimeType": "image/jpeg", "buffer": data}
        for name, data in portrait_jpegs(15)
    ]
    page.locator("#upload-files").set_input_files(files)
    assert page.get_by_text("15 file(s) ready to upload.").is_visible()
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("15 photos added").wait_for()
    page.get_by_text("Ready to train").wait_for(timeout=SLOW)
    assert page.locator(".photo-grid img").count() == 15

    # A model with the suggested trigger word, trained on the dataset; the run page follows it.
    _nav(page, "Models")
    page.get_by_role("link", name="New model").click()
    trigger_word = page.get_by_label("Trigger word").input_value()
    page.get_by_role("button", name="Create model").click()
    page.get_by_label("Steps").fill("500")
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**/trainings/runs/**")
    page.get_by_text("Your model is ready.").wait_for(timeout=SLOW)
    assert LoraModel.objects.get(trigger_word=trigger_word).status == LoraModel.Status.READY

    # Generate with it; the generation page shows the pictures as they arrive.
    _nav(page, "Generate")
    model_select = page.locator("#id_lora_model")
    option = model_select.locator("option", has_text=trigger_word)
    model_select.select_option(value=option.get_attribute("value"))
    page.get_by_role("textbox", name="Prompt:").fill(f"a photo of {trigger_word} on the moon")
    page.get_by_role("button", name="Generate").click()
    first = page.get_by_role("img", name="Output 1")
    first.wait_for(timeout=SLOW)

    # Favourite the picture and make it the profile picture.
    first.click()
    page.get_by_role("button", name="Add to favourites").click()
    page.get_by_role("button", name="★ Favourite").wait_for()
    page.get_by_role("button", name="Set as profile picture").click()
    page.get_by_text("This image is now your profile picture.").wait_for()
    # The header shows the new picture once it has loaded (not the initial any more).
    page.wait_for_function("() => document.querySelector('.avatar-initial img')?.naturalWidth > 0")

    image = GeneratedImage.objects.get()
    assert image.is_favourite
    assert image.generation.prompt_sent.startswith(f"a photo of {trigger_word}")
    assert User.objects.get(email="robin@example.com").avatar
