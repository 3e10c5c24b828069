"""The face search of a training copy: a second, upsampled look only where the first is not
conclusive, and identity vectors only for the faces it returns (each costs ~0.1 s)."""

from __future__ import annotations

from likeness import faces as dlib_faces
from likeness.faces import faces_find
from tests import people
from trainings.imaging import faces_of


def _counting_vectors(monkeypatch) -> list[int]:
    """Make the real encoder count the vectors it computes."""
    detector, predictor, encoder = dlib_faces._models()
    calls = []

    class Counting:
        def compute_face_descriptor(self, *args):
            calls.append(1)
            return encoder.compute_face_descriptor(*args)

    monkeypatch.setattr(dlib_faces, "_models", lambda: (detector, predictor, Counting()))
    return calls


def test_a_group_photo_is_looked_at_again_upsampled_and_only_its_final_faces_get_vectors(
    monkeypatch,
):
    group = people.group_photo()
    # At dlib's own scale one of the six people is missed; upsampled, all six are found.
    assert len(faces_find(group)) == 5
    upsampled = faces_find(group, upsample=1)
    assert len(upsampled) == 6

    calls = _counting_vectors(monkeypatch)
    found = faces_of(group)

    assert found == upsampled  # the same boxes and vectors as the upsampled look alone
    assert len(calls) == 6  # not 5 + 6: the first look's faces are not described


def test_a_photo_with_one_face_is_looked_at_once(monkeypatch):
    photo = people.owner(0)
    expected = faces_find(photo)
    assert len(expected) == 1

    calls = _counting_vectors(monkeypatch)
    assert faces_find(photo, retry_upsample=1) == expected
    assert len(calls) == 1
