"""Stored files are named by the user's opaque id, so a presigned URL shows no user number;
erasure also removes the folders older files were stored under (the number)."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.deletion import account_deletion_request, account_erase
from tests.factories import TEST_PASSWORD
from tests.gallery.factories import make_image

pytestmark = pytest.mark.django_db


def test_new_files_are_named_by_the_opaque_id(owner):
    image = make_image(owner)
    assert image.file.name.startswith(f"gallery/{owner.public_id}/")
    assert f"/{owner.pk}/" not in image.file.name


def test_erasure_removes_files_under_the_id_and_under_the_number(owner, other_user):
    older = [
        default_storage.save(f"{prefix}/{owner.pk}/old.bin", ContentFile(b"x"))
        for prefix in ("gallery", "datasets", "avatars", "exports")
    ]
    newer = make_image(owner).file.name
    theirs = make_image(other_user).file.name
    account_deletion_request(user=owner, password=TEST_PASSWORD)
    assert account_erase(user_id=owner.pk)
    assert not any(default_storage.exists(name) for name in [*older, newer])
    assert default_storage.exists(theirs)
