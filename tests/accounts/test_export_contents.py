"""The data export holds everything kept about the person, trainings included: datasets with
their photos and captions, models with their trigger words and versions, runs with their
parameters and costs."""

import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile

from accounts.exports import data_export_build, data_export_request
from tests.gallery.factories import picture
from trainings.models import Dataset, DatasetImage, LoraModel, LoraVersion, TrainingRun

pytestmark = pytest.mark.django_db


def _export(user) -> zipfile.ZipFile:
    export = data_export_request(user=user)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def test_the_export_holds_datasets_photos_captions_models_versions_and_runs(owner, other_user):
    dataset = Dataset.objects.create(owner=owner, name="Summer")
    photo = DatasetImage(
        dataset=dataset, original_name="beach.jpg", status="ready", caption="ZORVEK on a beach"
    )
    photo.training_file.save("beach.jpg", ContentFile(picture(fmt="JPEG")), save=False)
    photo.save()
    lora_model = LoraModel.objects.create(
        owner=owner, name="Me", trigger_word="ZORVEK", status=LoraModel.Status.READY
    )
    run = TrainingRun.objects.create(
        owner=owner,
        dataset=dataset,
        lora_model=lora_model,
        status=TrainingRun.Status.SUCCEEDED,
        parameters={"steps": 1000, "lora_rank": 16},
        cost_estimate=20,
        cost_actual=18,
    )
    version = LoraVersion.objects.create(
        lora_model=lora_model, replicate_version_id="a" * 64, training_run=run
    )
    lora_model.current_version = version
    lora_model.save()
    Dataset.objects.create(owner=other_user, name="Not yours")

    archive = _export(owner)

    (summer,) = json.loads(archive.read("trainings/datasets.json"))
    assert summer["name"] == "Summer"
    (exported_photo,) = summer["photos"]
    assert exported_photo["caption"] == "ZORVEK on a beach"
    with photo.training_file.open("rb") as handle:
        assert archive.read(exported_photo["file"]) == handle.read()
    (model,) = json.loads(archive.read("trainings/models.json"))
    assert model["trigger_word"] == "ZORVEK"
    assert model["versions"] == [
        {
            "replicate_version": "a" * 64,
            "training_run": str(run.id),
            "created_at": model["versions"][0]["created_at"],
            "current": True,
        }
    ]
    (exported_run,) = json.loads(archive.read("trainings/runs.json"))
    assert exported_run["parameters"] == {"steps": 1000, "lora_rank": 16}
    assert exported_run["credits_reserved"] == 20 and exported_run["credits_charged"] == 18
    readme = json.loads(archive.read("README.json"))
    assert "trainings/runs.json" in readme["contents"]


def test_the_export_holds_the_purchases(owner):
    from billing.models import Purchase

    Purchase.objects.create(
        user=owner, pack_name="Starter", credits=500, price=900, currency="eur", status="paid"
    )
    (purchase,) = json.loads(_export(owner).read("billing/purchases.json"))
    assert purchase["pack"] == "Starter" and purchase["credits"] == 500
    assert purchase["status"] == "paid" and purchase["currency"] == "eur"


def test_the_export_holds_the_share_links(owner, other_user):
    from gallery.services import share_link_create
    from tests.gallery.factories import make_image

    image = make_image(owner)
    link = share_link_create(user=owner, image=image)
    share_link_create(user=other_user, image=make_image(other_user))
    (exported,) = json.loads(_export(owner).read("gallery/share_links.json"))
    assert exported["id"] == str(link.id) and exported["image"] == str(image.id)
    assert exported["revoked_at"] is None
