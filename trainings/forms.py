from django import forms

from .models import Dataset
from .services.parameters import TrainingParameters


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


class LoraModelForm(forms.Form):
    name = forms.CharField(max_length=80, initial="Me")
    trigger_word = forms.CharField(
        max_length=20,
        help_text="A made-up word that stands for you in prompts. Not an English word.",
    )


class CaptionForm(forms.Form):
    caption = forms.CharField(max_length=1000, required=False, widget=forms.Textarea({"rows": 2}))


class TrainingForm(forms.Form):
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), empty_label=None)
    steps = forms.IntegerField(
        min_value=500,
        max_value=4000,
        initial=TrainingParameters.steps,
        help_text="More steps learn more detail and cost more (500–4000).",
    )
    lora_rank = forms.IntegerField(min_value=1, max_value=128, initial=TrainingParameters.lora_rank)
    learning_rate = forms.FloatField(
        min_value=0.00001, max_value=0.01, initial=TrainingParameters.learning_rate
    )
    batch_size = forms.IntegerField(min_value=1, max_value=8, initial=TrainingParameters.batch_size)
    resolution = forms.CharField(max_length=20, initial=TrainingParameters.resolution)
    autocaption = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Describe photos that have no caption automatically.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = Dataset.objects.filter(owner=user)

    def parameters(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("dataset")
        return data
