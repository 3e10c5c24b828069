"""Training parameter ranges live in `trainings.services.parameters` alone.

The web form and the API serializer parse types only; the ranges they show (the inputs' `min`
and `max`, the schema's `minimum` and `maximum`) are the service's, and the service refuses
what is out of range, naming the field, whichever way the request came.
"""

import pytest
from django.urls import reverse

from accounts.services import credits_grant
from core.exceptions import InvalidInput
from trainings.forms import TrainingForm
from trainings.models import TrainingRun
from trainings.services import dataset_create, lora_model_create
from trainings.services.parameters import PARAMETER_RANGES, TrainingParameters

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(owner):
    return dataset_create(user=owner, name="Me")


@pytest.fixture
def lora_model(owner):
    return lora_model_create(user=owner, name="Me", trigger_word="ZORVAK")


@pytest.fixture
def narrow_steps(monkeypatch):
    """Steps allowed only from 600 to 700: every place must follow the one constant."""
    monkeypatch.setitem(PARAMETER_RANGES, "steps", (600, 700))


def _training_input_schema(client) -> dict:
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/trainings/"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]


def test_the_form_and_the_schema_show_the_services_ranges(owner, client):
    form = TrainingForm(user=owner)
    properties = _training_input_schema(client)
    assert set(PARAMETER_RANGES) == {"steps", "lora_rank", "learning_rate", "batch_size"}
    for name, (low, high) in PARAMETER_RANGES.items():
        attrs = form.fields[name].widget.attrs
        assert (attrs["min"], attrs["max"]) == (low, high), name
        assert (properties[name]["minimum"], properties[name]["maximum"]) == (low, high), name


def test_a_changed_range_reaches_the_form_the_schema_and_the_service(owner, client, narrow_steps):
    attrs = TrainingForm(user=owner).fields["steps"].widget.attrs
    assert (attrs["min"], attrs["max"]) == (600, 700)
    steps = _training_input_schema(client)["steps"]
    assert (steps["minimum"], steps["maximum"]) == (600, 700)
    assert TrainingParameters.from_input({"steps": 650}).steps == 650
    with pytest.raises(InvalidInput) as refused:
        TrainingParameters.from_input({"steps": 1000})  # the default, within the usual range
    assert refused.value.errors == {"steps": ["Must be between 600 and 700."]}


def test_the_service_names_every_field_out_of_range_in_plain_numbers():
    with pytest.raises(InvalidInput) as refused:
        TrainingParameters.from_input(
            {"steps": 9000, "lora_rank": 0, "learning_rate": 0.5, "batch_size": 3, "fish": 1}
        )
    assert refused.value.errors == {
        "fish": ["Unknown training parameter."],
        "steps": ["Must be between 500 and 4000."],
        "lora_rank": ["Must be between 1 and 128."],
        "learning_rate": ["Must be between 0.00001 and 0.01."],
    }


def test_the_web_form_shows_the_services_refusal_on_the_field(
    owner, client, dataset, lora_model, narrow_steps
):
    client.force_login(owner)
    response = client.post(
        reverse("trainings:model", args=[lora_model.id]),
        {
            "dataset": dataset.id,
            "steps": 1000,  # the form alone would take it: only the service knows 600–700
            "lora_rank": 16,
            "learning_rate": 0.0004,
            "batch_size": 1,
            "resolution": "512,768,1024",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"steps": ["Must be between 600 and 700."]}
    assert "Must be between 600 and 700." in response.content.decode()
    assert not TrainingRun.objects.exists()


def test_the_api_answers_the_services_refusal_as_a_400_naming_the_field(
    owner, as_user, dataset, lora_model, narrow_steps
):
    credits_grant(user=owner, amount=1000, reason="test")
    response = as_user(owner).post(
        "/api/v1/trainings/",
        {"dataset": str(dataset.id), "model": str(lora_model.id), "steps": 1000},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == {"steps": ["Must be between 600 and 700."]}
    assert not TrainingRun.objects.exists()


def test_the_api_still_refuses_a_value_of_the_wrong_type(owner, as_user, dataset, lora_model):
    response = as_user(owner).post(
        "/api/v1/trainings/",
        {"dataset": str(dataset.id), "model": str(lora_model.id), "steps": "many"},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"steps"}
