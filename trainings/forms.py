from django import forms

from core.labels import param_label

from .models import Dataset
from .services.parameters import PARAMETER_RANGES, TrainingParameters

FACE_CONSENT_HELP = (
    "We compute a description of each face in your photos: 128 numbers. We use it to check "
    "that every photo is of the same person, that your selfie matches them, and to score how "
    "much each picture looks like you. It is computed on our server and never leaves it. It is "
    "deleted with the photos, except an average of your face for each model trained on them, "
    "which stays with the model until you delete it. Without consent, no face is described "
    "and a moderator looks at your selfie before training."
)


class DatasetForm(forms.Form):
    name = forms.CharField(max_length=100, initial="My photos")
    target_size = forms.TypedChoiceField(
        choices=Dataset.TargetSize.choices,
        coerce=int,
        initial=Dataset.TargetSize.LARGE,
        label="Training size",
        help_text="Photos are resized so that their longer side has this many pixels.",
    )
    caption_with_trigger_word = forms.BooleanField(
        required=False,
        initial=True,
        label="Start each caption with the trigger word",
    )
    # Explicit consent to biometric processing: never ticked for the person, never required.
    face_consent = forms.BooleanField(
        required=False,
        initial=False,
        label="Check my photos with face recognition",
        help_text=FACE_CONSENT_HELP,
    )


class LoraModelForm(forms.Form):
    name = forms.CharField(max_length=80, initial="Me")
    trigger_word = forms.CharField(
        max_length=20,
        help_text="A made-up word that stands for you in prompts. Not an English word.",
    )
    # The dataset the person came from (?dataset=): carried to the model page to train on.
    dataset = forms.UUIDField(required=False, widget=forms.HiddenInput)


class CaptionForm(forms.Form):
    caption = forms.CharField(max_length=1000, required=False, widget=forms.Textarea({"rows": 2}))


class TrainingForm(forms.Form):
    """Parses types only: the ranges are the service's (`PARAMETER_RANGES`), which checks them;
    here they only become the inputs' `min` and `max`."""

    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), empty_label=None)
    steps = forms.IntegerField(initial=TrainingParameters.steps)
    lora_rank = forms.IntegerField(initial=TrainingParameters.lora_rank)
    learning_rate = forms.FloatField(initial=TrainingParameters.learning_rate)
    batch_size = forms.IntegerField(initial=TrainingParameters.batch_size)
    resolution = forms.CharField(max_length=20, initial=TrainingParameters.resolution)
    autocaption = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Describe photos that have no caption automatically.",
    )

    def __init__(self, *args, user, preselected: Dataset | None = None, **kwargs):
        """`preselected`: the dataset chosen at first (the caller's pick among the user's own:
        the one asked for, else the newest that is ready to train)."""
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = Dataset.objects.filter(owner=user).order_by("-created_at")
        if preselected is not None and preselected.owner_id == user.pk:
            self.fields["dataset"].initial = preselected.pk
        for name, (low, high) in PARAMETER_RANGES.items():
            self.fields[name].widget.attrs.update({"min": low, "max": high})
        for name in self.fields:
            if name != "dataset":
                self.fields[name].label = param_label(name)
        low, high = PARAMETER_RANGES["steps"]
        steps_help = f"More steps learn more detail and cost more ({low}–{high})."
        self.fields["steps"].help_text = steps_help

    def parameters(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("dataset")
        return data
