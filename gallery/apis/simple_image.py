"""`POST /api/v1/image/{model_name}`: the simple service, which answers with the picture itself.

Waiting for a picture holds a web server thread (gunicorn's gthread workers have 4 each), so the
waiting is capped per process: at most GENERATION_SYNC_MAX_WAITERS requests wait at once (default:
a quarter of WEB_THREADS, at least 1), each for at most GENERATION_SYNC_WAIT_SECONDS. Any other
caller, or one whose picture is not ready in time, gets 202 at once with the generation's URL in
`Location`, so a crowd of callers can never take every thread of the site.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import DomainError, NotFound
from core.schema import CREATE_ERRORS, error
from core.slots import ProcessSlots

from .. import selectors, services
from ..models import Generation
from ..services.parameters import MAX_PROMPT
from .serializers import GenerationThrottleMixin, ParametersInput, PictureField, pictures_apply

# How often a waiting request looks at its generation: soon at first, then every half second.
FIRST_POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 0.5
RETRY_AFTER_SECONDS = 2


class GenerationFailed(DomainError):
    status_code = 422
    code = "generation_failed"


# How many requests of this process wait for their picture at once.
WAIT_SLOTS = ProcessSlots(lambda: settings.GENERATION_SYNC_MAX_WAITERS)


class SimpleImagePendingOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Generation.Status.choices)
    url = serializers.URLField(help_text="The generation: poll it.")
    detail = serializers.CharField()


PENDING = SimpleImagePendingOutput


class SimpleImageApi(GenerationThrottleMixin, APIView):
    """`POST /api/v1/image/{model_name}`: the body and defaults of the simple service."""

    @extend_schema_serializer(component_name="SimpleImageInput")
    class InputSerializer(ParametersInput):
        prompt = serializers.CharField(max_length=MAX_PROMPT)
        image = PictureField(required=False, allow_null=True)
        mask = PictureField(required=False, allow_null=True)
        extra_lora = serializers.CharField(
            required=False,
            allow_null=True,
            allow_blank=True,
            help_text="A style of the catalogue (name, id or reference) or one of your models.",
        )

    @extend_schema(
        tags=["generations"],
        operation_id="simple_image_generate",
        summary="Generate and wait: the simple service",
        description=(
            "Takes the simple service's JSON body, with its defaults (1:1, 0.8, dev, 1, 28, "
            '3.0, webp, 80, false, false, "1", 1.0, 1.0); parameters left out are not sent. '
            "`model_name` is one of your models (its name or id) or `default` "
            "(black-forest-labs/flux-schnell). Answers 200 with the first picture's bytes once "
            "it is stored and approved, within a short wait (GENERATION_SYNC_WAIT_SECONDS). "
            "Otherwise, and at once when the server already has as many callers waiting as it "
            "allows (GENERATION_SYNC_MAX_WAITERS), 202 with the generation's URL in `Location` "
            "and the body: poll that URL until `status` is `succeeded` (its `images` are then "
            "stored) or `failed`. Same credits, limits and gallery as every other generation."
        ),
        parameters=[
            OpenApiParameter(
                "model_name",
                str,
                OpenApiParameter.PATH,
                description="One of your models (its name or id), or `default`.",
            ),
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                response=[202],
                description="The generation (GET /api/v1/generations/{id}/).",
            ),
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[202],
                description="Seconds to wait before polling `Location`.",
            ),
            OpenApiParameter(
                "X-Generation-Id", OpenApiTypes.UUID, OpenApiParameter.HEADER, response=[200]
            ),
            OpenApiParameter(
                "X-Image-Id", OpenApiTypes.UUID, OpenApiParameter.HEADER, response=[200]
            ),
        ],
        request=InputSerializer,
        responses={
            (200, "image/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The picture, ready within the wait."
            ),
            202: OpenApiResponse(
                PENDING, description="Still running: follow `Location` (the body's `url`)."
            ),
            **CREATE_ERRORS,
            404: error("No such model among yours (`not_found`)."),
            422: error(
                "The generation failed or its picture was held (`generation_failed`); the "
                "credits of a failed one are refunded."
            ),
        },
    )
    def post(self, request, model_name):
        user = request.user
        lora_model = selectors.lora_model_for_generation(user=user, model_ref=model_name)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        generation_request = services.GenerationRequest(
            prompt=values["prompt"],
            parameters={k: values.get(k) for k in ParametersInput.PARAMETERS},
            source=Generation.Source.SIMPLE_API,
        )
        pictures_apply(values, generation_request)
        if values.get("extra_lora"):
            _extra_lora(user, values["extra_lora"], generation_request)
        generation = services.generation_create(
            user=user, lora_model=lora_model, asked=generation_request
        )[0]
        with WAIT_SLOTS.slot() as may_wait:
            if may_wait and _wait(generation):
                return _picture(request, generation)
        return _pending(request, generation)


def _wait(generation: Generation) -> bool:
    """Wait (at most GENERATION_SYNC_WAIT_SECONDS) until the generation ends; True if it
    succeeded, False if it is still running. A failed or canceled one is a 422."""
    deadline = time.monotonic() + settings.GENERATION_SYNC_WAIT_SECONDS
    delay = FIRST_POLL_SECONDS
    while True:
        generation.refresh_from_db(fields=["status", "error_message"])
        if generation.status == Generation.Status.SUCCEEDED:
            return True
        if generation.status in (Generation.Status.FAILED, Generation.Status.CANCELED):
            raise GenerationFailed(generation.error_message or "The generation failed.")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 1.5, MAX_POLL_SECONDS)


def _picture(request, generation: Generation) -> HttpResponse:
    viewer = selectors.Viewer.of(request.user)
    image = selectors.generation_first_image(viewer=viewer, generation=generation)
    if image is None:
        raise GenerationFailed("No picture of this generation can be shown.")
    with default_storage.open(image.file.name, "rb") as handle:
        content = handle.read()
    response = HttpResponse(content, content_type=image.media_type)
    response["Content-Disposition"] = f'inline; filename="{image.download_filename}"'
    response["X-Generation-Id"] = str(generation.id)
    response["X-Image-Id"] = str(image.id)
    return response


def _pending(request, generation: Generation) -> Response:
    url = request.build_absolute_uri(
        reverse("api:gallery-generation-detail", kwargs={"generation_id": generation.id})
    )
    return Response(
        {
            "id": generation.id,
            "status": generation.status,
            "url": url,
            "detail": "The picture is not ready yet: poll `url` until `status` is `succeeded`.",
        },
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": url, "Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _extra_lora(user, reference: str, generation_request) -> None:
    style = selectors.style_lora_find(reference=reference)
    if style is not None:
        generation_request.style_lora = style
        return
    try:
        model = selectors.lora_model_for_generation(user=user, model_ref=reference)
        if model is None:
            raise NotFound("The default model is not a LoRA.")
        generation_request.extra_lora_model = model
    except NotFound as error:
        raise DomainError(
            "Use a style of the catalogue (GET /api/v1/styles/) or one of your models.",
            field="extra_lora",
            code="unknown_lora",
        ) from error
