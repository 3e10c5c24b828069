"""Zip intake (hostile archives refused entry by entry) and the training zip."""

from __future__ import annotations

import io
import random
import stat
import struct
import tempfile
import time
import zipfile
from dataclasses import replace

import pytest

from tests import photos
from trainings.archives import (
    DEFAULT_LIMITS,
    ArchiveRejected,
    ZipPhoto,
    ZipRefusal,
    build_training_zip,
    read_photo_zip,
)


@pytest.fixture(scope="module")
def photo() -> bytes:
    return photos.jpeg(photos.close_up(), with_exif=False)


@pytest.fixture(scope="module")
def other_photo() -> bytes:
    return photos.jpeg(photos.half_body(), with_exif=False)


def _zip(entries, compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    """A zip of (name or ZipInfo, bytes or str) entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def _results(fileobj, **limits) -> tuple[dict[str, ZipPhoto], dict[str, ZipRefusal]]:
    options = replace(DEFAULT_LIMITS, **limits)
    accepted, refused = {}, {}
    for result in read_photo_zip(fileobj, limits=options):
        if isinstance(result, ZipPhoto):
            accepted[result.name] = result
        else:
            assert isinstance(result, ZipRefusal)
            assert result.message
            refused[result.name] = result
    return accepted, refused


def _codes(refused: dict[str, ZipRefusal]) -> dict[str, str]:
    return {name: refusal.code for name, refusal in refused.items()}


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def test_photos_come_with_their_captions_and_system_files_are_skipped(photo, other_photo):
    fileobj = _zip(
        [
            ("holiday/beach.jpg", photo),
            ("holiday/beach.txt", "\ufeff  a photo of me\n at the beach  \n"),
            ("IMG_0002.JPEG", other_photo),
            ("IMG_0002.TXT", "in the garden"),
            ("portrait.heic", photos.heic(photos.close_up())),
            ("holiday/", b""),
            ("__MACOSX/holiday/._beach.jpg", b"resource fork"),
            (".DS_Store", b"finder"),
            ("holiday/.hidden.jpg", photo),
            ("Thumbs.db", b"windows"),
        ]
    )
    accepted, refused = _results(fileobj)

    assert refused == {}
    assert set(accepted) == {"holiday/beach.jpg", "IMG_0002.JPEG", "portrait.heic"}
    assert accepted["holiday/beach.jpg"].caption == "a photo of me at the beach"
    assert accepted["holiday/beach.jpg"].data == photo
    assert accepted["IMG_0002.JPEG"].caption == "in the garden"
    assert accepted["portrait.heic"].caption is None


def _mark_encrypted(fileobj: io.BytesIO, name: str) -> io.BytesIO:
    """Set the 'encrypted' flag of an entry (zipfile cannot write encrypted entries)."""
    data = bytearray(fileobj.getvalue())
    encoded = name.encode()
    for signature, flags_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(signature)
        while data[at + name_at : at + name_at + len(encoded)] != encoded:
            at = data.find(signature, at + 1)
        data[at + flags_at] |= 0x1
    return io.BytesIO(bytes(data))


def test_unsafe_entries_are_refused_by_name_and_the_good_ones_kept(photo, other_photo):
    fifo = zipfile.ZipInfo("pipe.jpg")
    fifo.create_system = 3
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    fileobj = _zip(
        [
            ("good.jpg", photo),
            ("../evil.jpg", photo),
            ("/abs.jpg", photo),
            ("photos/../../up.jpg", photo),
            ("..\\windows.jpg", photo),
            ("C:/drive.jpg", photo),
            (_link("link.jpg"), "/etc/passwd"),
            ("secret.jpg", photo),
            (fifo, b""),
            ("notes.pdf", b"%PDF-1.4"),
            ("also-good.jpg", other_photo),
        ]
    )
    accepted, refused = _results(_mark_encrypted(fileobj, "secret.jpg"))

    assert set(accepted) == {"good.jpg", "also-good.jpg"}
    assert _codes(refused) == {
        "../evil.jpg": "parent_path",
        "/abs.jpg": "absolute_path",
        "photos/../../up.jpg": "parent_path",
        "../windows.jpg": "parent_path",
        "C:/drive.jpg": "absolute_path",
        "link.jpg": "symlink",
        "secret.jpg": "encrypted",
        "pipe.jpg": "not_a_file",
        "notes.pdf": "not_a_photo",
    }
    for name, refusal in refused.items():
        assert name in refusal.message
    assert "outside the zip" in refused["../evil.jpg"].message
    assert "password" in refused["secret.jpg"].message


def test_nothing_is_written_to_disk(photo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("the zip must not be extracted")

    monkeypatch.setattr(zipfile.ZipFile, "extract", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)
    accepted, _ = _results(_zip([("../evil.jpg", photo), ("good.jpg", photo)]))
    assert set(accepted) == {"good.jpg"}
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def zip_bomb(photo) -> io.BytesIO:
    """A photo, then 200 MB of zeros that deflate to about 200 KB, then another photo."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("before.jpg", photo)
        with archive.open("bomb.jpg", "w") as entry:
            zeros = bytes(1024 * 1024)
            for _ in range(200):
                entry.write(zeros)
        archive.writestr("after.jpg", photo)
    assert buffer.tell() < 1024 * 1024
    return buffer


def test_a_zip_bomb_entry_is_refused_early_and_the_others_kept(zip_bomb):
    started = time.perf_counter()
    accepted, refused = _results(zip_bomb)
    assert time.perf_counter() - started < 1.0  # stopped after ~1 MB, not 200 MB
    assert set(accepted) == {"before.jpg", "after.jpg"}
    assert _codes(refused) == {"bomb.jpg": "compression_ratio"}
    assert "zip bomb" in refused["bomb.jpg"].message


def test_a_header_that_lies_about_the_size_does_not_help_a_bomb():
    buffer = _zip([("a.jpg", b"\xff\xd8\xff" + bytes(5_000_000))])
    data = bytearray(buffer.getvalue())
    # Make both the local header and the central directory claim 1000 bytes uncompressed.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = struct.pack("<I", 1000)
    accepted, refused = _results(io.BytesIO(bytes(data)))
    assert accepted == {}
    assert _codes(refused)["a.jpg"] in {"compression_ratio", "corrupt_entry"}


def test_a_photo_over_the_per_file_limit_is_refused(photo):
    accepted, refused = _results(
        _zip([("big.jpg", photo), ("ok.txt", "caption")]), max_file_bytes=len(photo) - 1
    )
    assert accepted == {}
    assert _codes(refused) == {"big.jpg": "file_too_large", "ok.txt": "caption_without_image"}


def test_past_the_entry_limit_the_rest_are_refused_by_name(photo):
    fileobj = _zip([(f"{i:02d}.jpg", photo) for i in range(8)], compression=zipfile.ZIP_STORED)
    accepted, refused = _results(fileobj, max_entries=5)
    assert sorted(accepted) == ["00.jpg", "01.jpg", "02.jpg", "03.jpg", "04.jpg"]
    assert _codes(refused) == {
        "05.jpg": "too_many_files",
        "06.jpg": "too_many_files",
        "07.jpg": "too_many_files",
    }


def test_past_the_total_size_the_rest_are_refused_by_name():
    chunk = random.Random(0).randbytes(1024 * 1024)  # 1 MB that does not compress
    fileobj = _zip([(f"{i}.jpg", b"\xff\xd8\xff" + chunk) for i in range(5)])
    accepted, refused = _results(fileobj, max_total_bytes=3 * 1024 * 1024)
    assert sorted(accepted) == ["0.jpg", "1.jpg"]
    assert _codes(refused) == {
        "2.jpg": "archive_too_large",
        "3.jpg": "archive_too_large",
        "4.jpg": "archive_too_large",
    }
    assert "3 MB" in refused["2.jpg"].message
    assert refused["3.jpg"].message.startswith("The photos in the zip add up")
    assert "3.jpg and the rest" in refused["3.jpg"].message


def test_an_archive_listing_too_many_entries_is_refused_before_it_is_parsed(photo):
    fileobj = _zip([(f"{i}.txt", "") for i in range(30)])
    with pytest.raises(ArchiveRejected) as caught:
        read_photo_zip(fileobj, limits=replace(DEFAULT_LIMITS, max_declared_entries=20))
    assert caught.value.code == "too_many_files"
    assert caught.value.field == "archive"


@pytest.mark.parametrize(
    "data",
    [b"this is not a zip", b"", b"PK\x03\x04" + bytes(100), b"PK\x05\x06" + bytes(10)],
    ids=["text", "empty", "local-header-only", "short-end-record"],
)
def test_a_file_that_is_not_a_zip_is_refused_as_a_whole_at_once(data):
    with pytest.raises(ArchiveRejected) as caught:
        read_photo_zip(io.BytesIO(data))  # raised by the call, not on iteration
    assert caught.value.code == "not_a_zip"


def test_an_archive_larger_than_the_limit_is_refused(photo):
    fileobj = _zip([("a.jpg", photo)])
    with pytest.raises(ArchiveRejected) as caught:
        read_photo_zip(fileobj, limits=replace(DEFAULT_LIMITS, max_archive_bytes=1000))
    assert caught.value.code == "archive_too_large"


def test_caption_problems_keep_the_photo(photo, other_photo):
    fileobj = _zip(
        [
            ("a.jpg", photo),
            ("a.txt", "x" * 1001),
            ("b.jpg", other_photo),
            ("b.txt", b"\xff\xfe\x00not utf-8"),
            ("c.txt", "no photo for me"),
            ("d.jpg", b""),
        ]
    )
    accepted, refused = _results(fileobj)
    assert set(accepted) == {"a.jpg", "b.jpg"}
    assert accepted["a.jpg"].caption is None
    assert accepted["b.jpg"].caption is None
    assert _codes(refused) == {
        "a.txt": "caption_too_long",
        "b.txt": "caption_not_utf8",
        "c.txt": "caption_without_image",
        "d.jpg": "empty_file",
    }


def test_a_caption_of_exactly_the_limit_is_kept(photo):
    accepted, _ = _results(_zip([("a.jpg", photo), ("a.txt", "é" * 1000)]))
    assert accepted["a.jpg"].caption == "é" * 1000


def test_a_repeated_name_is_refused_the_second_time(photo, other_photo):
    buffer = io.BytesIO()
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(buffer, "w") as archive,
    ):
        archive.writestr("a.jpg", photo)
        archive.writestr("a.jpg", other_photo)
    accepted, refused = _results(buffer)
    assert list(accepted) == ["a.jpg"]
    assert _codes(refused) == {"a.jpg": "duplicate_name"}


# --- the training zip ---------------------------------------------------------------------------


def test_the_training_zip_numbers_photos_and_captions(photo, other_photo):
    png = photos.encode(photos.close_up(256), "PNG")
    out = build_training_zip(
        [
            ("9f1c.jpg", photo, "a photo of TOK  at the beach\n"),
            ("a2b3.jpg", other_photo, ""),
            ("c4d5.png", png, None),
        ]
    )
    assert isinstance(out, tempfile.SpooledTemporaryFile)
    assert out.tell() == 0
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["001.jpg", "001.txt", "002.jpg", "003.png"]
        assert archive.read("001.jpg") == photo
        assert archive.read("001.txt").decode("utf-8") == "a photo of TOK at the beach"
        assert archive.read("003.png") == png
        assert archive.getinfo("001.jpg").compress_type == zipfile.ZIP_STORED
        assert archive.testzip() is None


def test_the_training_zip_is_the_same_for_the_same_photos(photo):
    first = build_training_zip([("x.jpg", photo, "me")]).read()
    second = build_training_zip([("y.jpg", photo, "me")]).read()
    assert first == second


def test_the_training_zip_reads_back_through_the_intake(photo, other_photo):
    out = build_training_zip([("a", photo, "one"), ("b", other_photo, "two")])
    accepted, refused = _results(out)
    assert refused == {}
    assert {name: p.caption for name, p in accepted.items()} == {"001.jpg": "one", "002.jpg": "two"}


def test_the_training_zip_accepts_only_image_bytes(photo):
    with pytest.raises(ValueError, match=r"notes\.txt"):
        build_training_zip([("a.jpg", photo, None), ("notes.txt", b"hello", None)])
    with pytest.raises(ValueError, match="at least one photo"):
        build_training_zip([])


def test_the_training_zip_can_be_written_to_a_given_file(photo, tmp_path):
    with open(tmp_path / "training.zip", "w+b") as target:
        assert build_training_zip([("a.jpg", photo, None)], fileobj=target) is target
        assert zipfile.ZipFile(target).namelist() == ["001.jpg"]
