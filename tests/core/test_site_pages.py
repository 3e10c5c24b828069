"""The terms, privacy and contact pages: linked from every page's footer, stating the retention
as configured, and replaceable by an operator's own text."""

import copy

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", ["terms", "privacy", "contact"])
def test_each_page_is_linked_from_the_footer_and_answers(slug):
    client = Client()
    assert f'href="/{slug}/"' in client.get("/").content.decode()
    response = client.get(f"/{slug}/")
    assert response.status_code == 200
    assert "<h1>" in response.content.decode()


def test_the_privacy_page_states_the_configured_retention(settings):
    settings.TRAINING_PHOTOS_KEEP_DAYS = 12
    settings.DATA_EXPORT_TTL_HOURS = 6
    page = Client().get("/privacy/").content.decode()
    assert "12 days after the last training" in page
    assert "6 hours after it is ready" in page
    assert "Replicate" in page


def test_the_contact_address_is_the_operators(settings):
    assert "has not given a contact address" in Client().get("/contact/").content.decode()
    settings.CONTACT_EMAIL = "help@avatars.example.com"
    page = Client().get("/contact/").content.decode()
    assert 'href="mailto:help@avatars.example.com"' in page


def test_an_operator_replaces_a_page_with_their_own(settings, tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "terms.html").write_text(
        '{% extends "pages/_page.html" %}{% block page %}<p>Our own terms.</p>{% endblock %}'
    )
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    page = Client().get("/terms/").content.decode()
    assert "Our own terms." in page and "Only photos of yourself" not in page
    assert "Only photos of yourself" not in page
    assert "What we keep" in Client().get("/privacy/").content.decode()  # the rest as shipped
