"""OpenAPI schema generation (drf-spectacular) tuned to how this project writes its views.

- Every error response has one body, the `Error` component (`detail`, `code`, `errors`), whose
  `code` is an enum of the codes the server really answers (`ERROR_CODES`; a test scans the
  source for codes missing from it).
- The error statuses an operation can answer are added where they happen (401 where a sign-in
  is needed, 404 where the path names an object, 400/413/415 where there is a body, 429 where a
  throttle applies), beside the ones a view declares itself.
- A request body has one media type: JSON, or multipart where a view uploads files.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny

# Every `code` an error body can carry: the project's own (core.exceptions and the DomainError
# subclasses of the apps, the quota kinds, refused photos and zips) and DRF's, which the
# exception handler passes through.
ERROR_CODES = (
    # core.api and DRF
    "invalid",
    "parse_error",
    "authentication_failed",
    "not_authenticated",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "unsupported_media_type",
    "throttled",
    "request_too_large",
    "server_error",
    "service_unavailable",
    # retries and conditional requests (core.idempotency, core.conditional)
    "idempotency_key_invalid",
    "idempotency_key_in_use",
    "idempotency_key_reused",
    "precondition_failed",
    # accounts: sign-in, tokens, passwords, lockouts, e-mail
    "invalid_credentials",
    "token_not_valid",
    "user_not_found",
    "user_inactive",
    "bad_authorization_header",
    "password_changed",
    "email_not_verified",
    "email_taken",
    "invalid_key",
    "wrong_password",
    "locked_out",
    "expired",
    "not_ready",
    # plans and credits
    "limit_exceeded",
    "insufficient_credits",
    "models_limit",
    "trainings_per_month_limit",
    "generations_per_day_limit",
    "storage_bytes_limit",
    "account_suspended",
    "not_suspended",
    # state and conflicts
    "conflict",
    "duplicate",
    "busy",
    "hidden",
    # trainings
    "dataset_processing",
    "dataset_not_ready",
    "dataset_missing",
    "invalid_trigger_word",
    "too_many_images",
    "file_too_large",
    "image_rejected",
    "archive_rejected",
    "archive_too_large",
    "not_a_zip",
    "too_many_files",
    "empty",
    "not_an_image",
    "too_many_pixels",
    "too_small",
    "unreadable",
    "unsupported_format",
    "upload_failed",
    "missing_upload",
    "required",
    "too_long",
    "selfie_required",
    "selfie_no_face",
    # generations
    "invalid_image",
    "prompt_blocked",
    "unknown_lora",
    "generation_failed",
    "invalid_output",
    # events (webhook endpoints)
    "endpoint_disabled",
    "endpoint_limit",
    # Replicate and other services
    "external_service_error",
    "replicate_unavailable",
    "replicate_unconfirmed",
    "replicate_not_found",
    "replicate_misconfigured",
    "invalid_replicate_input",
)


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words fit to show a person.")
    code = serializers.ChoiceField(
        choices=ERROR_CODES, help_text="What went wrong, for a program: stable across releases."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Invalid input only (400): each field named, with its messages "
        "(`non_field_errors` for the request as a whole).",
    )
    request_id = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Server errors only (500): quote it when you report the problem.",
    )

    class Meta:
        ref_name = "Error"


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorOutput, description=description)


# The error responses operations share. The AutoSchema adds them where they happen; a view
# names one explicitly when its description says more.
DEFAULT_ERRORS = {
    400: "Invalid input: `errors` names each field, `detail` gives the first message.",
    401: "Not signed in, or the access token is expired or not valid (`token_not_valid`).",
    403: "Refused: a session without its CSRF token, or a plan limit (`code` says which).",
    404: "Not found (or not yours).",
    409: "The object is not in a state that allows this: `detail` says why.",
    413: "The request body is larger than this operation takes (`request_too_large`).",
    415: "The body is not in the media type this operation takes.",
    422: "The request was understood but could not be carried out.",
    429: "Too many requests, or a daily or monthly limit: wait `Retry-After` seconds.",
    503: "A service we depend on is briefly unavailable: try again after `Retry-After`.",
}
ERRORS = {status: error(DEFAULT_ERRORS[status]) for status in (400, 401, 404)}
CREATE_ERRORS = {
    **ERRORS,
    403: error("Not enough credits, a plan limit or a suspended account (`code` says which)."),
    429: error(DEFAULT_ERRORS[429]),
    503: error(DEFAULT_ERRORS[503]),
}
CONFLICT = {409: error(DEFAULT_ERRORS[409])}


# Request bodies named after what they do, where the view's name does not say it.
REQUEST_NAMES = {
    "Collection": "CollectionCreate",
    "ShareLink": "ShareLinkCreate",
    "DatasetImages": "DatasetUpload",
    "MeUpdate": "ProfileUpdate",
    "Register": "Registration",
    "VerifyEmail": "EmailVerification",
}
RESPONSE_NAMES = {"Me": "Profile", "Register": "Registration"}


class AutoSchema(SpectacularAutoSchema):
    """Names a view's nested `InputSerializer` after the view (`DatasetListApi` →
    `DatasetListInput`), so the many nested serializers of one name never collide; gives every
    request body one media type and every error response the `Error` body."""

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        owner, _, inner = qualname.rpartition(".")
        if owner and inner in ("InputSerializer", "OutputSerializer"):
            return owner.removesuffix("Api").removesuffix("View") + inner.removesuffix("Serializer")
        return name

    def _get_serializer_name(self, serializer, direction, bypass_extensions=False):
        """Names that read naturally: `Dataset`, `DatasetCreateRequest`, `DatasetUpdateRequest`
        (not `DatasetOutput`, `DatasetListInputRequest`, `PatchedDatasetDetailInputRequest`)."""
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        if direction == "request":
            base = name.removeprefix("Patched").removesuffix("Request").removesuffix("Input")
            if base.endswith("List"):
                base = base.removesuffix("List") + "Create"
            elif base.endswith("Detail"):
                base = base.removesuffix("Detail") + "Update"
            return REQUEST_NAMES.get(base, base) + "Request"
        base = name.removesuffix("Output")
        return RESPONSE_NAMES.get(base, base)

    def _map_basic_serializer(self, serializer, direction):
        """In an answer, every field the server always sends is `required`: read-only ones and
        a model's fields (a model default makes a field optional to *send*, not to receive).
        Only a field declared `required=False` may be left out of an answer."""
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "response":
            return schema
        serializer = force_instance(serializer)
        declared = getattr(serializer, "_declared_fields", {})
        sent = {
            name
            for name, field in serializer.fields.items()
            if name in schema.get("properties", {})
            and not field.write_only
            and (
                field.required
                or field.read_only
                or field.default is not empty
                or name not in declared
            )
        }
        required = sorted(set(schema.get("required", [])) | sent)
        if required:
            schema["required"] = required
        return schema

    def get_paginated_name(self, serializer_name):
        return f"{serializer_name}Page"

    def map_parsers(self):
        """One media type per body: multipart where the view takes files and no JSON, JSON
        everywhere else (a view may still accept more, for old clients; the schema names one)."""
        parsers = [type(parser) for parser in self.view.get_parsers()]
        if MultiPartParser in parsers and JSONParser not in parsers:
            return [MultiPartParser.media_type]
        return [JSONParser.media_type]

    def _needs_sign_in(self) -> bool:
        return not any(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _throttled(self) -> bool:
        try:
            return bool(self.view.get_throttles())
        except Exception:  # a view whose throttles depend on the request: assume throttled
            return True

    def _error_statuses(self) -> list[int]:
        statuses = []
        has_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer()
        has_body = has_body or (self.method == "DELETE" and self._delete_has_body())
        if has_body or self._has_query_parameters():
            statuses.append(400)
        if self._needs_sign_in():
            statuses.append(401)
        if "{" in self.path:
            statuses.append(404)
        if has_body:
            statuses += [413, 415]
        if self._throttled():
            statuses.append(429)
        return statuses

    def _delete_has_body(self) -> bool:
        return False

    def _has_query_parameters(self) -> bool:
        if self._get_paginator() is not None and self.method == "GET":
            return True
        return any(p.get("in") == "query" for p in self._get_parameters())

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error_ref = self.resolve_serializer(ErrorOutput, "response").ref
        for status in self._error_statuses():
            responses.setdefault(str(status), {"description": DEFAULT_ERRORS[status]})
        for status, response in responses.items():
            if status.isdigit() and int(status) >= 400 and not response.get("content"):
                response["content"] = {"application/json": {"schema": error_ref}}
        return dict(sorted(responses.items()))
