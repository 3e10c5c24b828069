"""Shared by the accounts API's modules: the error responses of the schema, and the token pair
that signing in and changing the password both answer with."""

from rest_framework import serializers

from core.schema import DEFAULT_ERRORS, error

ERRORS = {status: error(DEFAULT_ERRORS[status]) for status in (400, 401, 429)}


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
