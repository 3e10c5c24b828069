"""Datasets: the list, creating one, reading, renaming and deleting one, and its report (is it
ready to train, and what to improve). Its photos are in dataset_images.py."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination

from .. import selectors, services
from ..models import Dataset
from .serializers import ERRORS, paginate

FACE_CONSENT_HELP = (
    "The owner agrees to a 128-number description of each face in the photos being computed "
    "(on this platform only), to check that every photo shows one person, that the consent "
    "selfie matches, and to score the likeness of each picture. Optional. Setting it to false "
    "deletes every description at once; setting it to true later computes them for the photos "
    "already there."
)


class DatasetOutput(serializers.ModelSerializer):
    image_count = serializers.IntegerField(read_only=True)
    pending_count = serializers.IntegerField(read_only=True)
    face_consent = serializers.SerializerMethodField(help_text=FACE_CONSENT_HELP)

    def get_face_consent(self, dataset) -> bool:
        return dataset.face_consent_at is not None

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "target_size",
            "caption_with_trigger_word",
            "face_consent",
            "face_consent_at",
            "image_count",
            "pending_count",
            "created_at",
            "updated_at",
        ]


class DatasetListApi(APIView):
    pagination_class = DefaultCursorPagination  # also tells the schema the list is paged

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        target_size = serializers.ChoiceField(choices=Dataset.TargetSize.choices, default=1024)
        caption_with_trigger_word = serializers.BooleanField(default=True)
        face_consent = serializers.BooleanField(default=False, help_text=FACE_CONSENT_HELP)

    @extend_schema(
        tags=["datasets"],
        operation_id="datasets_list",
        summary="List your datasets",
        description="Your datasets, newest first, with how many photos each holds and how many "
        "are still being checked.",
        responses={200: DatasetOutput(many=True), **ERRORS},
    )
    def get(self, request):
        return paginate(self, selectors.dataset_list(user=request.user), DatasetOutput)

    @extend_schema(
        tags=["datasets"],
        operation_id="datasets_create",
        summary="Create a dataset",
        description="An empty set of photos of one person; upload photos to it with "
        "`datasets/{dataset_id}/images/`. `target_size` is the side in pixels the photos are "
        "prepared at for training.",
        request=InputSerializer,
        responses={201: DatasetOutput, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_create(user=request.user, **data.validated_data)
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset.id)
        return Response(DatasetOutput(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, required=False)
        caption_with_trigger_word = serializers.BooleanField(required=False)
        face_consent = serializers.BooleanField(required=False, help_text=FACE_CONSENT_HELP)

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_get",
        summary="Get a dataset",
        description="One of your datasets, with its photo counts.",
        responses={200: DatasetOutput, **ERRORS},
    )
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(DatasetOutput(dataset).data)

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_update",
        summary="Rename a dataset, change its captioning or its face consent",
        description="Only the fields given change.",
        request=InputSerializer,
        responses={200: DatasetOutput, **ERRORS},
    )
    def patch(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.dataset_update(dataset=dataset, **data.validated_data)
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(DatasetOutput(dataset).data)

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_delete",
        summary="Delete a dataset",
        description="The dataset and its photos are erased; models trained on it stay.",
        responses={204: None, **ERRORS},
    )
    def delete(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        services.dataset_delete(dataset=dataset)
        return Response(status=status.HTTP_204_NO_CONTENT)


# What `trainings.quality.report` finds about a set of photos.
FINDING_CODES = (
    "refused",
    "duplicate",
    "face_confirmed",
    "no_face",
    "other_person",
    "several_faces",
    "subject_face",
    "subject_unlike",
    "blurry",
    "too_few",
    "too_many",
    "fewer_than_recommended",
    "more_than_recommended",
    "mix",
    "one_shoot",
)


class FindingOutput(serializers.Serializer):
    code = serializers.ChoiceField(choices=FINDING_CODES)
    message = serializers.CharField()
    image = serializers.CharField(allow_null=True, help_text="The photo concerned (its id).")
    image_name = serializers.CharField(allow_null=True)
    related = serializers.CharField(
        allow_null=True, help_text="The other photo (the earlier copy of a duplicate)."
    )


class ShotCountsOutput(serializers.Serializer):
    close_up = serializers.IntegerField(min_value=0)
    half_body = serializers.IntegerField(min_value=0)
    full_body = serializers.IntegerField(min_value=0)


class SubjectFaceOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="Which of the photo's faces (largest first).")
    box = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=4,
        max_length=4,
        help_text="left, top, right, bottom, in the pixels of the photo's training copy.",
    )
    confirmed = serializers.BooleanField(help_text="You confirmed this face is you.")


class PhotoCheckOutput(serializers.Serializer):
    image = serializers.CharField(help_text="The photo's id.")
    image_name = serializers.CharField()
    identity = serializers.ChoiceField(
        choices=("main", "other", "unknown"),
        help_text="`main`: the person of most photos, or the face you confirmed on a group "
        "photo; `other`: someone else (blocks training); "
        "`unknown`: faces not compared (no consent, none found, or not checked yet).",
    )
    subject_face = SubjectFaceOutput(
        allow_null=True, help_text="On a photo with several faces, the one taken to be you."
    )
    mirrored_duplicate_of = serializers.CharField(
        allow_null=True, help_text="The photo (id) this one is a mirror image of."
    )


class DatasetReportOutput(serializers.Serializer):
    total = serializers.IntegerField()
    usable = serializers.IntegerField()
    pending = serializers.IntegerField()
    can_train = serializers.BooleanField()
    shot_counts = ShotCountsOutput(help_text="Usable photos by kind of shot.")
    recommended_mix = ShotCountsOutput(help_text="The mix of shots we recommend for this size.")
    blocking = FindingOutput(many=True)
    warnings = FindingOutput(many=True)
    photos = PhotoCheckOutput(many=True, help_text="Who each checked photo shows.")
    identity_checked = serializers.BooleanField(
        help_text="Whether faces were compared to check the photos are of one person."
    )
    identity_note = serializers.CharField(
        allow_null=True, help_text="Why the one-person check was skipped, when it was."
    )


class DatasetReportApi(APIView):
    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_report_get",
        summary="Is the dataset ready to train?",
        description="The quality report: how many photos are usable, the mix of shots against "
        "the recommended one, what blocks training (`blocking`) and what would improve it "
        "(`warnings`). `can_train` is false while photos are still being checked.",
        responses={200: DatasetReportOutput, **ERRORS},
    )
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        report = selectors.dataset_report(dataset=dataset)
        body = report.to_dict()
        body["pending"] = dataset.pending_count
        body["can_train"] = report.can_train and not dataset.pending_count
        return Response(DatasetReportOutput(body).data)
