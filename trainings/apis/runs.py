"""Training runs: the list, starting one (with its parameters), reading one, cancelling it and
retrying a failed one."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination, JobMetricsOutput
from likeness.models import IdentityCheck

from .. import selectors, services
from ..failure_advice import FAILURE_KINDS, training_failure_advice
from ..models import TrainingRun
from ..services.parameters import PARAMETER_RANGES, RESOLUTIONS
from .serializers import CONFLICT, ERRORS, START_ERRORS, paginate


class TrainingParametersOutput(serializers.Serializer):
    """What the run trains with (the defaults filled in)."""

    steps = serializers.IntegerField()
    lora_rank = serializers.IntegerField()
    learning_rate = serializers.FloatField()
    batch_size = serializers.IntegerField()
    resolution = serializers.CharField(help_text="Comma-separated sides in pixels.")
    autocaption = serializers.BooleanField()

    def to_representation(self, instance):
        # Stored complete by the service; a row from before a parameter existed has its default.
        return super().to_representation({**services.TrainingParameters().as_dict(), **instance})


class FailureAdviceOutput(serializers.Serializer):
    """What went wrong in plain words, and what to do next, fitted to the run's settings."""

    kind = serializers.ChoiceField(choices=FAILURE_KINDS)
    headline = serializers.CharField()
    steps = serializers.ListField(child=serializers.CharField(), help_text="Most useful first.")


class TrainingRunOutput(serializers.ModelSerializer):
    dataset = serializers.UUIDField(source="dataset_id", read_only=True, allow_null=True)
    model = serializers.UUIDField(source="lora_model_id", read_only=True)
    retry_of = serializers.UUIDField(source="retry_of_id", read_only=True, allow_null=True)
    progress = serializers.FloatField(read_only=True, min_value=0, max_value=1)
    parameters = TrainingParametersOutput(read_only=True)
    metrics = JobMetricsOutput(read_only=True)
    log_tail = serializers.SerializerMethodField()
    retrying_until = serializers.DateTimeField(
        source="submit_retrying_until",
        read_only=True,
        allow_null=True,
        help_text="Set while Replicate does not answer the submission: the time until which "
        "it is tried again. Past it, the job fails and its credits are refunded.",
    )

    failure_advice = serializers.SerializerMethodField(
        help_text="Set when the run failed or was canceled: the advice the run's page and "
        "e-mail give."
    )
    waiting_for_review = serializers.SerializerMethodField(
        help_text="Set while the training waits for a moderator to check that its photos are of "
        "the owner (the consent selfie did not match them): why. Nothing is sent to the trainer "
        "until then; the credits stay reserved."
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
            "failure_advice",
            "retrying_until",
            "waiting_for_review",
            "created_at",
            "submitted_at",
            "started_at",
            "completed_at",
        ]

    def get_waiting_for_review(self, run) -> str | None:
        checks = getattr(run, "waiting_checks", None)
        if checks is None:
            checks = list(run.identity_checks.filter(outcome=IdentityCheck.Outcome.WAITING))
        return checks[0].reason if checks else None

    @extend_schema_field(FailureAdviceOutput(allow_null=True))
    def get_failure_advice(self, run) -> dict | None:
        advice = training_failure_advice(run=run)
        if advice is None:
            return None
        return {"kind": advice.kind, "headline": advice.headline, "steps": list(advice.steps)}

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

    @extend_schema(
        tags=["trainings"],
        operation_id="trainings_list",
        summary="List your training runs",
        description="Newest first, each with its status, progress and cost.",
        responses={200: TrainingRunOutput(many=True), **ERRORS},
    )
    def get(self, request):
        return paginate(self, selectors.training_run_list(user=request.user), TrainingRunOutput)

    @extend_schema(
        tags=["trainings"],
        operation_id="trainings_create",
        summary="Train a model on a dataset",
        description=(
            "Reserves the run's credits (`cost_estimate`) and starts it on Replicate in the "
            "background. Poll the run until `status` is `succeeded` (the model is then `ready`) "
            "or `failed` (the credits are refunded). Parameters left out take their defaults. "
            "409 when the dataset cannot train yet (see its report) or the model is training."
        ),
        request=InputSerializer,
        responses={201: TrainingRunOutput, **START_ERRORS},
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
    @extend_schema(
        tags=["trainings"],
        operation_id="training_get",
        summary="Get a training run",
        description="Its status, progress, the last lines of its log and, once it ended, its "
        "metrics and actual cost.",
        responses={200: TrainingRunOutput, **ERRORS},
    )
    def get(self, request, run_id):
        run = selectors.training_run_get(user=request.user, run_id=run_id)
        return Response(TrainingRunOutput(run).data)


class TrainingRunCancelApi(APIView):
    @extend_schema(
        tags=["trainings"],
        operation_id="training_cancel",
        summary="Cancel a training run",
        description="Stops it on Replicate; the reserved credits are refunded. 409 once ended.",
        request=None,
        responses={200: TrainingRunOutput, **ERRORS, 409: CONFLICT},
    )
    def post(self, request, run_id):
        run = selectors.training_run_get(user=request.user, run_id=run_id)
        run = services.training_run_cancel(run=run)
        return Response(TrainingRunOutput(run).data)


class TrainingRunRetryApi(APIView):
    @extend_schema(
        tags=["trainings"],
        operation_id="training_retry",
        summary="Retry a failed training run",
        description="A new run with the same dataset, model and parameters (`retry_of` names "
        "this one). 409 unless this one failed or was canceled.",
        request=None,
        responses={201: TrainingRunOutput, **START_ERRORS},
    )
    def post(self, request, run_id):
        run = selectors.training_run_get(user=request.user, run_id=run_id)
        new_run = services.training_run_retry(user=request.user, run=run)
        return Response(TrainingRunOutput(new_run).data, status=status.HTTP_201_CREATED)
