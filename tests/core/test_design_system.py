"""The design system's server side: readable parameter labels, the one date format, and every
`{{ form }}` rendered with the site's field markup (forms/field.html)."""

import datetime
import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from core.labels import PARAMETER_LABELS, param_label, param_value
from gallery.forms import GenerationForm
from tests.gallery.factories import make_generation

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template("{% load display %}" + source).render(Context(context))


# --- Parameter labels ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("guidance_scale", "Guidance"),
        ("num_inference_steps", "Steps"),
        ("lora_scale", "Likeness strength"),
        ("aspect_ratio", "Shape"),
        ("learning_rate", "Learning rate"),
        ("autocaption", "Caption photos automatically"),
    ],
)
def test_known_parameters_read_as_words(key, label):
    assert param_label(key) == label
    assert render("{{ key|param_label }}", key=key) == label


def test_an_unknown_parameter_still_reads_as_words_not_a_raw_key():
    assert param_label("some_new_knob") == "Some new knob"


def test_no_label_is_a_raw_key():
    for key, label in PARAMETER_LABELS.items():
        assert "_" not in label and label != key, key


def test_values_read_as_words():
    assert param_value(True) == "Yes" and param_value(False) == "No"
    assert param_value(None) == "—" and param_value(3.5) == "3.5"
    assert render("{{ value|param_value }}", value=False) == "No"


def test_the_generate_form_takes_its_labels_from_the_same_mapping(owner):
    form = GenerationForm(user=owner)
    for name in ("guidance_scale", "num_inference_steps", "lora_scale", "aspect_ratio", "seed"):
        assert form.fields[name].label == param_label(name), name


def test_the_generation_page_shows_labels_not_keys(client, owner, stranger):
    generation = make_generation(
        owner, parameters={"guidance_scale": 4.5, "num_inference_steps": 33, "go_fast": True}
    )
    client.force_login(owner)
    html = client.get(reverse("gallery:generation", args=[generation.id])).content.decode()
    assert "<dt>Guidance</dt><dd>4.5</dd>" in html
    assert "<dt>Steps</dt><dd>33</dd>" in html
    assert "<dt>Go fast</dt><dd>Yes</dd>" in html
    client.force_login(stranger)
    assert client.get(reverse("gallery:generation", args=[generation.id])).status_code == 404


# --- Dates ------------------------------------------------------------------------------------


def test_one_date_format(settings):
    settings.TIME_ZONE = "UTC"
    moment = datetime.datetime(2026, 11, 30, 14, 5, tzinfo=datetime.UTC)
    assert render("{{ moment|datetime_display }}", moment=moment) == "30 Nov 2026, 14:05"
    assert render("{{ moment|date_display }}", moment=moment) == "30 Nov 2026"
    # Django's own filters and plain output agree, through the format module.
    assert (
        render("{{ moment }}|{{ moment|date }}", moment=moment) == "30 Nov 2026, 14:05|30 Nov 2026"
    )
    assert render("{{ day|datetime_display }}", day=datetime.date(2026, 1, 2)) == "2 Jan 2026"
    assert render("{{ nothing|datetime_display }}", nothing=None) == ""


def test_dates_show_in_the_sites_time_zone(settings):
    settings.TIME_ZONE = "Europe/Paris"
    moment = datetime.datetime(2026, 11, 30, 14, 5, tzinfo=datetime.UTC)
    assert render("{{ moment|datetime_display }}", moment=moment) == "30 Nov 2026, 15:05"


# --- Forms in the site's style ------------------------------------------------------------------


def test_the_new_dataset_form_renders_with_the_site_field_markup(client, owner):
    client.force_login(owner)
    html = client.get(reverse("trainings:dataset-create")).content.decode()
    assert '<div class="field" data-field="name">' in html
    assert '<div class="field field-check" data-field="caption_with_trigger_word">' in html
    # Help text under the field, named by the input's aria-describedby.
    assert 'id="id_target_size_helptext"' in html
    assert re.search(r'<select[^>]*aria-describedby="id_target_size_helptext"', html)
    assert '<span class="required-mark" aria-hidden="true">*</span>' in html
    assert "<p><label" not in html  # not Django's as_p


def test_a_refused_new_model_shows_the_error_next_to_its_field(client, owner):
    client.force_login(owner)
    response = client.post(reverse("trainings:model-create"), {"name": "Me", "trigger_word": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="field has-error" data-field="trigger_word">' in html
    assert '<ul class="errorlist" id="id_trigger_word_error">' in html
    assert re.search(
        r'<input[^>]*aria-describedby="id_trigger_word_helptext id_trigger_word_error"', html
    )
    assert re.search(r'<input[^>]*name="trigger_word"[^>]*aria-invalid="true"', html)


def test_the_generate_page_wraps_width_and_height_for_the_custom_size(client, owner):
    client.force_login(owner)
    html = client.get(reverse("gallery:generate")).content.decode()
    for name in ("width", "height"):
        assert re.search(
            r'<div class="custom-size" data-custom-size>\s*'
            rf'<div class="field" data-field="{name}">',
            html,
        ), name
    assert "used only with the custom size" in html  # the hint shown without JavaScript


def test_a_width_without_the_custom_size_is_refused_by_the_server(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("gallery:generate"),
        {"prompt": "me", "aspect_ratio": "1:1", "width": "512", "model": "schnell",
         "num_outputs": "1", "batch": "1", "num_inference_steps": "4", "guidance_scale": "3",
         "lora_scale": "1", "output_format": "webp", "output_quality": "80", "megapixels": "1"},
    )  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="field has-error" data-field="width">' in html
