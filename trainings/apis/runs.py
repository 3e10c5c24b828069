"""Training runs: the list, starting one (with its parameters), reading one, cancelling it and
retrying a failed one."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination

from .. import selectors, services
from ..models import TrainingRun
from ..services.parameters import PARAMETER_RANGES, RESOLUTIONS
from .serializers import CONFLICT, ERRORS, paginate


class TrainingRunOutput(serializers.ModelSerializer):
    dataset = serializers.UUIDField(source="dataset_id", read_only=True, allow_null=True)
    model = serializers.UUIDField(source="lora_model_id", read_only=True)
    retry_of = serializers.UUIDField(source="retry_of_id", read_only=True, allow_null=True)
    progress = serializers.FloatField(read_only=True)
    log_tail = serializers.SerializerMethodField()
    retrying_until = serializers.DateTimeField(
        source="submit_retrying_until",
        read_only=True,
        allow_null=True,
        help_text="Set while Replicate does not answer the submission: the time until which "
        "it is tried again. Past it, the job fails and its credits are refunded.",
    )

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "dataset",
            "model",
            "retry_of",
            "status",
            "parameters",
            "image_count",
            "progress",
            "current_step",
            "total_steps",
            "log_tail",
            "metrics",
            "cost_estimate",
            "cost_actual",
            "error_message",
            "retrying_until",
            "created_at",
            "submitted_at",
            "started_at",
            "completed_at",
        ]

    def get_log_tail(self, run) -> list[str]:
        return run.logs.splitlines()[-20:]


class _ParameterField:
    """Parses the type only. The range, from `PARAMETER_RANGES`, is shown in the schema as
    `minimum`/`maximum`; the service checks it (one place for the ranges)."""

    def __init__(self, *, parameter: str, **kwargs):
        super().__init__(required=False, **kwargs)
        # Set after __init__, so DRF adds no validators of its own for them.
        self.min_value, self.max_value = PARAMETER_RANGES[parameter]


class _IntegerParameter(_ParameterField, serializers.IntegerField):
    pass


class _FloatParameter(_ParameterField, serializers.FloatField):
    pass


class TrainingRunListApi(APIView):
    pagination_class = DefaultCursorPagination

    parser_classes = [JSONParser, FormParser, MultiPartParser]
    throttle_scope = "training"

    class InputSerializer(serializers.Serializer):
        dataset = serializers.UUIDField()
        model = serializers.UUIDField()
        steps = _IntegerParameter(parameter="steps")
        lora_rank = _IntegerParameter(parameter="lora_rank")
        learning_rate = _FloatParameter(parameter="learning_rate")
        batch_size = _IntegerParameter(parameter="batch_size")
        resolution = serializers.CharField(
            required=False,
            max_length=20,
            help_text="Comma-separated, among " + ", ".join(map(str, RESOLUTIONS)) + ".",
        )
        autocaption = serializers.BooleanField(required=False)

    @extend_schema(responses={200: TrainingRunOutput(many=True), **ERRORS})
    def get(self, request):
        return paginate(self, selectors.training_run_list(user=request.user), TrainingRunOutput)

    @extend_schema(
        request=InputSerializer, responses={201: TrainingRunOutput, **ERRORS, 409: CONFLICT}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        dataset_id, model_id = values.pop("dataset"), values.pop("model")
        parameters = services.TrainingParameters.from_input(values)
        run = services.training_run_start(
            user=request.user,
            dataset=selectors.dataset_get(user=request.user, dataset_id=dataset_id),
            lora_model=selectors.lora_model_get(user=request.user, model_id=model_id),
            parameters=parameters,
        )
        run.refresh_from_db()
        return Response(TrainingRunOutput(run).data, status=status.HTTP_201_CREATED)

    def get_throttles(self):
        # Starting a run is throttled; reading the list is not.
        return super().get_throttles() if self.request.method == "POST" else []


class TrainingRunDetailApi(APIView):
    @extend_schema(responses={200: TrainingRunOutput, **ERRORS})
    def get(self, request, run_id):
        run = selectors.training_run_get(user=request.user, run_id=run_id)
        return Response(TrainingRunOutput(run).data)


class TrainingRunCancelApi(APIView):
    @extend_schema(request=None, responses={200: TrainingRunOutput, **ERRORS, 409: CONFLICT})
    def post(self, request, run_id):
        run = selectors.training_run_get(user=request.user, run_id=run_id)
        run = services.training_run_cancel(run=run)
        return Response(TrainingRunOutput(run).data)


class TrainingRunRetryApi(APIView):
    @extend_schema(request=None, responses={201: TrainingRunOutput, **ERRORS, 409: CONFLICT})
    def post(self, request, run_id):
        run = selectors.training_run_get(user=request.user, run_id=run_id)
        new_run = services.training_run_retry(user=request.user, run=run)
        return Response(TrainingRunOutput(new_run).data, status=status.HTTP_201_CREATED)
