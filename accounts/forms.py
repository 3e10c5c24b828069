from django import forms

from .models import User


class SignupExtraForm(forms.Form):
    """What allauth's sign-up form asks beyond e-mail and password."""

    display_name = forms.CharField(
        max_length=80,
        required=False,
        label="Your name",
        help_text="Optional. Shown in the menu; you can change it later.",
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": "Alex"}),
    )

    field_order = ["display_name", "email", "password1", "password2"]

    def signup(self, request, user):
        user.display_name = self.cleaned_data.get("display_name", "").strip()
        user.save(update_fields=["display_name"])


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name"]
        labels = {"display_name": "Your name"}


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AvatarForm(forms.Form):
    avatar = forms.FileField(label="Picture", help_text="JPEG, PNG, WebP or HEIC.")
