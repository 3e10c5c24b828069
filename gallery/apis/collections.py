"""Collections (also used as campaigns): list, create, rename, delete, add and take out images."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination
from core.exceptions import DomainError
from core.schema import ERRORS

from .. import selectors, services
from ..models import Collection


class CollectionOutput(serializers.ModelSerializer):
    image_count = serializers.IntegerField()
    favourite_count = serializers.IntegerField()

    class Meta:
        model = Collection
        fields = [
            "id",
            "name",
            "description",
            "image_count",
            "favourite_count",
            "created_at",
            "updated_at",
        ]


class CollectionListApi(APIView):
    pagination_class = DefaultCursorPagination

    @extend_schema_serializer(component_name="CollectionInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)
        description = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(
        tags=["collections"],
        operation_id="collections_list",
        summary="List your collections",
        description="Newest first, each with how many images and favourites it holds.",
        responses={200: CollectionOutput(many=True), **ERRORS},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.collection_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(CollectionOutput(page, many=True).data)

    @extend_schema(
        tags=["collections"],
        operation_id="collections_create",
        summary="Create a collection",
        description="A named set of your images (also used as a campaign); an image may be in "
        "several.",
        request=InputSerializer,
        responses={201: CollectionOutput, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collection = services.collection_create(user=request.user, **data.validated_data)
        collection = selectors.collection_get(user=request.user, collection_id=collection.id)
        return Response(CollectionOutput(collection).data, status=status.HTTP_201_CREATED)


class CollectionDetailApi(APIView):
    @extend_schema_serializer(component_name="CollectionUpdateInput")
    class UpdateSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80, required=False)
        description = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(
        tags=["collections"],
        operation_id="collection_get",
        summary="Get a collection",
        description="With its counts; list its images with `images/?collection={id}`.",
        responses={200: CollectionOutput, **ERRORS},
    )
    def get(self, request, collection_id):
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        return Response(CollectionOutput(collection).data)

    @extend_schema(
        tags=["collections"],
        operation_id="collection_update",
        summary="Rename or describe a collection",
        description="Only the fields given change.",
        request=UpdateSerializer,
        responses={200: CollectionOutput, **ERRORS},
    )
    def patch(self, request, collection_id):
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        data = self.UpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.collection_update(collection=collection, **data.validated_data)
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        return Response(CollectionOutput(collection).data)

    @extend_schema(
        tags=["collections"],
        operation_id="collection_delete",
        summary="Delete a collection",
        description="Its images stay in the gallery; its share links stop working.",
        responses={204: None, **ERRORS},
    )
    def delete(self, request, collection_id):
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        services.collection_delete(collection=collection)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollectionImagesApi(APIView):
    @extend_schema_serializer(component_name="CollectionImagesInput")
    class InputSerializer(serializers.Serializer):
        image_ids = serializers.ListField(
            child=serializers.UUIDField(), min_length=1, max_length=500
        )

    @extend_schema(
        tags=["collections"],
        operation_id="collection_images_add",
        summary="Add images to a collection",
        description="Images already in it stay; an image that is not yours is a 400 naming "
        "`image_ids`.",
        request=InputSerializer,
        responses={200: CollectionOutput, **ERRORS},
    )
    def post(self, request, collection_id):
        return self._change(request, collection_id, services.collection_images_add)

    @extend_schema(
        tags=["collections"],
        operation_id="collection_images_remove",
        summary="Take images out of a collection",
        description="The images stay in the gallery.",
        request=InputSerializer,
        responses={200: CollectionOutput, **ERRORS},
    )
    def delete(self, request, collection_id):
        return self._change(request, collection_id, services.collection_images_remove)

    def _change(self, request, collection_id, service):
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        images = selectors.images_of_user(
            user=request.user, image_ids=data.validated_data["image_ids"]
        )
        if len(images) != len(set(data.validated_data["image_ids"])):
            raise DomainError("Unknown image.", field="image_ids", code="not_found")
        service(collection=collection, images=images)
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        return Response(CollectionOutput(collection).data)
