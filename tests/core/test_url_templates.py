"""core.url_templates: a path reversed once and filled in per object equals reverse()'s."""

import uuid

import pytest
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from core.url_templates import reverse_uuid, uuid_path_maker

NAMES = [
    ("api:gallery-image-file", "image_id"),
    ("api:gallery-image-thumbnail", "image_id"),
    ("api:gallery-image-download", "image_id"),
    ("api:gallery-generation-detail", "generation_id"),
]


@pytest.mark.parametrize(("name", "kwarg"), NAMES)
def test_the_same_path_as_reverse_for_any_id(name, kwarg):
    make = uuid_path_maker(name, kwarg=kwarg)
    for value in [uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())]:
        assert make(value) == reverse(name, kwargs={kwarg: value})
        assert reverse_uuid(name, kwarg=kwarg, value=value) == make(value)


def test_it_follows_the_script_prefix_of_the_request():
    value = uuid.uuid4()
    set_script_prefix("/avatars/")
    try:
        under_prefix = reverse_uuid("api:gallery-image-file", kwarg="image_id", value=value)
        assert under_prefix.startswith("/avatars/")
        assert under_prefix == reverse("api:gallery-image-file", kwargs={"image_id": value})
    finally:
        clear_script_prefix()
    assert reverse_uuid("api:gallery-image-file", kwarg="image_id", value=value) == reverse(
        "api:gallery-image-file", kwargs={"image_id": value}
    )


def test_a_url_without_that_uuid_argument_is_refused():
    with pytest.raises(NoReverseMatch):
        uuid_path_maker("api:gallery-images", kwarg="image_id")
