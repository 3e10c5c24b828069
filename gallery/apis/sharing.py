"""Share links: a signed link to one image or one collection, listed, created and revoked."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination, RangedIntegerField
from core.schema import ERRORS

from .. import selectors, services
from ..models import ShareLink
from .serializers import field_lookup


class ShareLinkOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    is_active = serializers.SerializerMethodField()
    image = serializers.UUIDField(source="image_id", allow_null=True)
    collection = serializers.UUIDField(source="collection_id", allow_null=True)

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "url",
            "image",
            "collection",
            "is_active",
            "created_at",
            "expires_at",
            "revoked_at",
            "view_count",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, link) -> str:
        path = reverse("gallery:shared", kwargs={"token": services.share_link_token(link)})
        return self.context["request"].build_absolute_uri(path)

    def get_is_active(self, link) -> bool:
        return link.is_active()


class ShareLinkListApi(APIView):
    pagination_class = DefaultCursorPagination

    @extend_schema_serializer(component_name="ShareLinkInput")
    class InputSerializer(serializers.Serializer):
        image = serializers.UUIDField(required=False)
        collection = serializers.UUIDField(required=False)
        expires_in_days = RangedIntegerField(
            schema_range=(1, settings.SHARE_LINK_MAX_DAYS),
            required=False,
            help_text=f"Default: {settings.SHARE_LINK_DEFAULT_DAYS}.",
        )
        never_expires = serializers.BooleanField(required=False, default=False)

        def validate(self, attrs):
            if bool(attrs.get("image")) == bool(attrs.get("collection")):
                raise serializers.ValidationError(
                    {"image": "Share one image or one collection (give one of the two)."}
                )
            return attrs

    @extend_schema(
        tags=["share-links"],
        operation_id="share_links_list",
        summary="List your share links",
        description="Newest first, revoked and expired ones too (`is_active` says which work).",
        responses={200: ShareLinkOutput(many=True), **ERRORS},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.share_link_list(user=request.user), request, view=self
        )
        data = ShareLinkOutput(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        tags=["share-links"],
        operation_id="share_links_create",
        summary="Share an image or a collection",
        description="A signed link (`url`) anyone may open, to one image or one collection "
        "(give one of `image` and `collection`), until it expires or you revoke it. It shows "
        "approved images only.",
        request=InputSerializer,
        responses={201: ShareLinkOutput, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        image = collection = None
        if values.get("image"):
            image = field_lookup(
                "image", lambda: selectors.image_get(user=request.user, image_id=values["image"])
            )
        else:
            collection = field_lookup(
                "collection",
                lambda: selectors.collection_get(
                    user=request.user, collection_id=values["collection"]
                ),
            )
        link = services.share_link_create(
            user=request.user,
            image=image,
            collection=collection,
            expires_in_days=values.get("expires_in_days"),
            never_expires=values["never_expires"],
        )
        return Response(
            ShareLinkOutput(link, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ShareLinkDetailApi(APIView):
    @extend_schema(
        tags=["share-links"],
        operation_id="share_link_get",
        summary="Get a share link",
        description="With how often it was opened.",
        responses={200: ShareLinkOutput, **ERRORS},
    )
    def get(self, request, link_id):
        link = selectors.share_link_get(user=request.user, link_id=link_id)
        return Response(ShareLinkOutput(link, context={"request": request}).data)

    @extend_schema(
        tags=["share-links"],
        operation_id="share_link_revoke",
        summary="Revoke a share link",
        description="The link answers 404 from now on.",
        responses={204: None, **ERRORS},
    )
    def delete(self, request, link_id):
        services.share_link_revoke(
            link=selectors.share_link_get(user=request.user, link_id=link_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
