"""Credits: the balance, what is reserved, and the history of credit entries, newest first."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from core.api import DefaultCursorPagination

from .. import selectors
from ..models import CreditEntry
from .serializers import ERRORS


class CreditEntryOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = CreditEntry
        fields = ["id", "kind", "amount", "reason", "reference", "created_at"]


class CreditHistoryPagination(DefaultCursorPagination):
    ordering = ("-created_at", "-id")

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        user = self.request.user
        response.data = {
            "balance": selectors.credit_balance(user=user),
            "reserved": selectors.credit_reserved(user=user),
            **response.data,
        }
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"] = {
            "balance": {"type": "integer"},
            "reserved": {"type": "integer"},
            **paginated["properties"],
        }
        paginated["required"] = ["balance", "reserved", *paginated["required"]]
        return paginated


class CreditsApi(APIView):
    pagination_class = CreditHistoryPagination

    @extend_schema(
        tags=["me"],
        operation_id="me_credits_list",
        summary="Your credit balance and its history",
        description="`balance` is what you may spend now, `reserved` what running jobs hold; "
        "`results` are the credit entries, newest first (a reserve, then its capture or "
        "refund).",
        responses={200: CreditEntryOutput(many=True), **ERRORS},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.credit_history(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(CreditEntryOutput(page, many=True).data)
