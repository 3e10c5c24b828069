"""Shared by the accounts API's modules: the error responses of the schema, and the token pair
that signing in and changing the password both answer with."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `errors` names each field."),
    401: OpenApiResponse(description="Not signed in, or the token is not valid."),
    429: OpenApiResponse(description="Too many requests: see `Retry-After`."),
}


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
