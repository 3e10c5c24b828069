"""Pages of the trainings app: datasets, models and live training runs. Thin: services decide."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError, NotFound
from core.forms import form_error_add
from core.middleware import request_size_allowed
from gallery.selectors import starter_pack_for_model

from . import selectors, services
from .dashboard import dashboard_get, generate_url, model_create_url
from .failure_advice import training_failure_advice
from .forms import CaptionForm, DatasetForm, LoraModelForm, TrainingForm
from .models import Dataset, DatasetImage, TrainingRun
from .services.datasets import dataset_uploads_add
from .services.subject_face import dataset_image_subject_confirm as subject_confirm


def dashboard(request):
    """The signed-in home page (`/`, through core.views.home): where the person stands on the
    way from photos to pictures, the one next step, the latest pictures and the credits."""
    return render(request, "core/dashboard.html", {"dashboard": dashboard_get(user=request.user)})


@login_required
@require_GET
def trainings_home(request):
    return render(
        request,
        "trainings/home.html",
        {
            "lora_models": selectors.lora_model_list(user=request.user),
            "datasets": selectors.dataset_list(user=request.user),
            "runs": selectors.training_run_list(user=request.user)[:10],
        },
    )


# --- Datasets -------------------------------------------------------------------------------


@login_required
def dataset_create(request):
    form = DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dataset = services.dataset_create(user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error_add(form, error)
        else:
            return redirect("trainings:dataset", dataset_id=dataset.id)
    return render(request, "trainings/dataset_form.html", {"form": form})


def _dataset_context(request, dataset):
    images = list(selectors.dataset_image_list(dataset=dataset))
    report = selectors.dataset_report(dataset=dataset)
    findings_by_image: dict[str, list] = {}
    for finding in (*report.blocking, *report.warnings):
        if finding.image:
            findings_by_image.setdefault(finding.image, []).append(finding)
    checks = {check.image: check for check in report.photos}
    for image in images:
        image.findings = findings_by_image.get(str(image.id), [])
        image.check = checks.get(str(image.id))
    pending = sum(1 for image in images if image.status == DatasetImage.Status.PENDING)
    return {
        "dataset": dataset,
        "images": images,
        "report": report,
        "pending": pending,
        "set_findings": [f for f in (*report.blocking, *report.warnings) if not f.image],
        "can_train": report.can_train and not pending,
        "photos_expire_at": selectors.dataset_photos_expire_at(dataset=dataset),
        # Where "Train" leads: straight to a new model when there is none yet.
        "train_models": list(
            selectors.lora_model_list(user=request.user).order_by("-created_at")[:5]
        ),
        "model_create_url": model_create_url(dataset=dataset),
        "photos_keep_days": settings.TRAINING_PHOTOS_KEEP_DAYS,
    }


@login_required
@require_GET
def dataset_detail(request, dataset_id):
    dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    return render(request, "trainings/dataset_detail.html", _dataset_context(request, dataset))


@login_required
@require_GET
def dataset_images_partial(request, dataset_id):
    """The photo grid and report, polled by htmx while photos are being processed."""
    dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    return render(request, "trainings/_dataset_images.html", _dataset_context(request, dataset))


@login_required
@require_POST
@request_size_allowed("DATASET_UPLOAD_MAX_REQUEST_BYTES")
def dataset_upload(request, dataset_id):
    dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    # Passed as they are (a large upload is a temporary file): not read here.
    files = [(upload.name, upload) for upload in request.FILES.getlist("files")]
    archive = request.FILES.get("archive")
    if not files and not archive:
        messages.error(request, "Choose photos or a zip to upload.")
        return _back_to_dataset(request, dataset)
    added, refused = 0, []
    try:
        result = dataset_uploads_add(dataset=dataset, files=files, archive=archive)
        added, refused = len(result.added), result.refused
    except DomainError as error:
        messages.error(request, error.message)
    if added:
        messages.success(
            request, f"{added} photo{'s' if added != 1 else ''} added; checking them now."
        )
    for refusal in refused:
        messages.warning(request, f"{refusal.name}: {refusal.message}")
    return _back_to_dataset(request, dataset)


def _back_to_dataset(request, dataset):
    url = reverse("trainings:dataset", kwargs={"dataset_id": dataset.id})
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        # The page's uploader navigates itself, so the messages wait for that page view.
        return JsonResponse({"redirect": url})
    return redirect(url)


@login_required
@require_POST
def dataset_image_caption(request, dataset_id, image_id):
    image = selectors.dataset_image_get(user=request.user, dataset_id=dataset_id, image_id=image_id)
    form = CaptionForm(request.POST)
    if form.is_valid():
        services.dataset_image_caption_update(image=image, caption=form.cleaned_data["caption"])
        if request.headers.get("HX-Request"):
            return render(request, "trainings/_caption_saved.html", {"image": image})
        messages.success(request, f"Caption of {image.original_name} saved.")
    else:
        messages.error(request, "A caption has at most 1000 characters.")
    return redirect("trainings:dataset", dataset_id=dataset_id)


@login_required
@require_POST
def dataset_image_face_confirm(request, dataset_id, image_id):
    image = selectors.dataset_image_get(user=request.user, dataset_id=dataset_id, image_id=image_id)
    services.dataset_image_face_confirm(image=image, confirmed=True)
    messages.success(request, f"{image.original_name} is used although no face was detected.")
    return redirect("trainings:dataset", dataset_id=dataset_id)


@login_required
@require_POST
def dataset_image_subject_confirm(request, dataset_id, image_id):
    """The owner answers "Yes, I'm the one marked" on a photo with several faces."""
    image = selectors.dataset_image_get(user=request.user, dataset_id=dataset_id, image_id=image_id)
    try:
        subject_confirm(image=image, face_index=int(request.POST.get("face", "")))
        messages.success(request, f"Thank you: in {image.original_name}, the face marked is you.")
    except (ValueError, DomainError):
        messages.error(request, f"{image.original_name}: choose one of the faces found in it.")
    return redirect("trainings:dataset", dataset_id=dataset_id)


@login_required
@require_POST
def dataset_image_delete(request, dataset_id, image_id):
    image = selectors.dataset_image_get(user=request.user, dataset_id=dataset_id, image_id=image_id)
    services.dataset_image_delete(image=image)
    messages.success(request, f"{image.original_name} removed.")
    return redirect("trainings:dataset", dataset_id=dataset_id)


@login_required
@require_POST
def dataset_photos_keep(request, dataset_id):
    dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    keep = request.POST.get("keep") == "yes"
    services.dataset_keep_photos_set(dataset=dataset, keep=keep)
    messages.success(
        request,
        "Your photos are kept until you delete them."
        if keep
        else "Your photos will be deleted on the date shown.",
    )
    return redirect("trainings:dataset", dataset_id=dataset_id)


@login_required
@require_POST
def dataset_face_consent(request, dataset_id):
    """Give face consent later (the photos already there are then checked) or withdraw it."""
    dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    consent = request.POST.get("consent") == "yes"
    try:
        services.dataset_face_consent_set(dataset=dataset, consent=consent)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "Thank you: your photos are being checked with face recognition."
            if consent
            else "Face recognition is off, and the face descriptions of these photos are deleted.",
        )
    return redirect("trainings:dataset", dataset_id=dataset_id)


@login_required
@require_POST
def dataset_photos_delete(request, dataset_id):
    dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    try:
        count = services.dataset_photos_delete(dataset=dataset)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{count} photo{'' if count == 1 else 's'} deleted.")
    return redirect("trainings:dataset", dataset_id=dataset_id)


@login_required
@require_POST
def dataset_delete(request, dataset_id):
    dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    services.dataset_delete(dataset=dataset)
    messages.success(request, f"Dataset “{dataset.name}” deleted.")
    return redirect("trainings:home")


# --- Models ---------------------------------------------------------------------------------


def _dataset_asked(request, value) -> Dataset | None:
    """The user's dataset named by `value` (?dataset=); anyone else's, or none, is ignored."""
    if not value:
        return None
    try:
        return selectors.dataset_get(user=request.user, dataset_id=value)
    except NotFound:
        return None


@login_required
def lora_model_create(request):
    dataset = _dataset_asked(request, request.POST.get("dataset") or request.GET.get("dataset"))
    initial = {"trigger_word": services.trigger_word_suggest()}
    if dataset is not None:
        initial["dataset"] = dataset.pk
    form = LoraModelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("dataset", None)
        try:
            lora_model = services.lora_model_create(user=request.user, **data)
        except DomainError as error:
            form_error_add(form, error)
        else:
            messages.success(request, f"Model “{lora_model.name}” created.")
            url = reverse("trainings:model", kwargs={"model_id": lora_model.id})
            if dataset is not None:
                return redirect(f"{url}?dataset={dataset.pk}")
            return redirect(url)
    return render(request, "trainings/model_form.html", {"form": form, "dataset": dataset})


@login_required
def lora_model_detail(request, model_id):
    lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
    preselected = _dataset_asked(request, request.GET.get("dataset"))
    if preselected is None and request.method != "POST":
        preselected = selectors.dataset_ready_newest(user=request.user)
    form = TrainingForm(request.POST or None, user=request.user, preselected=preselected)
    if request.method == "POST" and form.is_valid():
        try:
            parameters = services.TrainingParameters.from_input(form.parameters())
            run = services.training_run_start(
                user=request.user,
                dataset=form.cleaned_data["dataset"],
                lora_model=lora_model,
                parameters=parameters,
            )
        except DomainError as error:
            form_error_add(form, error)
        else:
            messages.success(request, "Training queued. This page follows it live.")
            return redirect("trainings:run", run_id=run.id)
    steps = form.initial.get("steps") or form.fields["steps"].initial
    estimate = services.training_cost_estimate(
        parameters=services.TrainingParameters(steps=int(steps))
    )
    form.fields["steps"].help_text += f" About {estimate} credits for 1000 steps."
    return render(
        request,
        "trainings/model_detail.html",
        {
            "lora_model": lora_model,
            "form": form,
            "runs": lora_model.training_runs.order_by("-created_at")[:10],
            "versions": lora_model.versions.all(),
            "cost_per_1000_steps": estimate,
            "generate_url": generate_url(lora_model=lora_model) if lora_model.is_ready else "",
            "starter_pack": starter_pack_for_model(user=request.user, model=lora_model),
        },
    )


@login_required
@require_POST
def lora_model_delete(request, model_id):
    lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
    try:
        services.lora_model_delete(lora_model=lora_model)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("trainings:model", model_id=model_id)
    messages.success(request, f"Model “{lora_model.name}” deleted, here and on Replicate.")
    return redirect("trainings:home")


# --- Runs -----------------------------------------------------------------------------------


def _run_context(run: TrainingRun) -> dict:
    return {
        **selectors.training_run_progress(run=run),
        "credits": selectors.training_run_credits(run=run),
        "advice": training_failure_advice(run=run),
        "generate_url": (
            generate_url(lora_model=run.lora_model)
            if run.status == TrainingRun.Status.SUCCEEDED and run.lora_model.is_ready
            else ""
        ),
    }


@login_required
@require_GET
def training_run_detail(request, run_id):
    run = selectors.training_run_get(user=request.user, run_id=run_id)
    return render(request, "trainings/run_detail.html", _run_context(run))


@login_required
@require_GET
def training_run_status_partial(request, run_id):
    run = selectors.training_run_get(user=request.user, run_id=run_id)
    # The dashboard follows a run with a smaller card than the run page's.
    template = (
        "core/_dashboard_training.html"
        if request.GET.get("view") == "dashboard"
        else "trainings/_run_status.html"
    )
    response = render(request, template, _run_context(run))
    if run.is_terminal and request.headers.get("HX-Request"):
        # The run has ended: reload the whole page once so actions and the model state update.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def training_run_cancel(request, run_id):
    run = selectors.training_run_get(user=request.user, run_id=run_id)
    try:
        services.training_run_cancel(run=run)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Training canceled; your credits were refunded.")
    return redirect("trainings:run", run_id=run_id)


@login_required
@require_POST
def training_run_retry(request, run_id):
    run = selectors.training_run_get(user=request.user, run_id=run_id)
    try:
        new_run = services.training_run_retry(user=request.user, run=run)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("trainings:run", run_id=run_id)
    messages.success(request, "A new training was queued with the same photos and settings.")
    return redirect("trainings:run", run_id=new_run.id)
