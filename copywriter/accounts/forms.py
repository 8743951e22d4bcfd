from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from copywriter.accounts.models import User
from copywriter.accounts.services import reject_control_characters


class SignupForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=150,
                           validators=[reject_control_characters])
    email = forms.EmailField(max_length=254)
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               strip=False, max_length=128)

    def clean_email(self) -> str:
        # Whether the address has an account is not said here: the answer would tell anyone
        # which addresses are registered. The emailed link (or note) says it to the owner only.
        return str(self.cleaned_data["email"]).strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password"):
            # Validate even when the email was refused: show every problem at once.
            candidate = User(email=str(self.data.get("email", "")), first_name=data.get("name", ""))
            try:
                password_validation.validate_password(data["password"], candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(label="Email", max_length=254,
                                widget=forms.EmailInput(attrs={"autofocus": True,
                                                               "autocomplete": "email"}))

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip().lower()
