"""The generate form, built from a template's declared fields and their limits."""

from __future__ import annotations

from typing import Any

from django import forms

from copywriter.catalog.schema import PromptTemplate, validate_values
from copywriter.generation.tones import LENGTHS


def generate_form_class(spec: PromptTemplate, tone_choices: list[tuple[str, str]],
                        max_variants: int) -> type[forms.Form]:
    attrs: dict[str, Any] = {}
    for f in spec.fields:
        common: dict[str, Any] = {"label": f.label, "required": f.required, "help_text": f.help,
                                  "error_messages": {"required": f"{f.label} is required."}}
        placeholder = {"placeholder": str(f.example)}
        if f.type == "choice":
            choices = ([("", "---")] if not f.required else []) + [(c, c) for c in f.choices]
            attrs[f.name] = forms.ChoiceField(choices=choices, **common)
        elif f.type == "number":
            attrs[f.name] = forms.IntegerField(min_value=f.min, max_value=f.max,
                                               widget=forms.NumberInput(attrs=placeholder), **common)
        elif f.type == "textarea":
            # No max_length on the field: the clean() below gives the schema's own message,
            # while the maxlength attribute stops the browser from accepting more.
            attrs[f.name] = forms.CharField(widget=forms.Textarea(
                attrs={**placeholder, "maxlength": f.max_length, "rows": 4}), **common)
        else:
            attrs[f.name] = forms.CharField(widget=forms.TextInput(
                attrs={**placeholder, "maxlength": f.max_length}), **common)
    attrs["tone"] = forms.ChoiceField(choices=tone_choices, initial="professional")
    attrs["variants"] = forms.IntegerField(min_value=1, max_value=max_variants,
                                           initial=spec.variants)
    attrs["length"] = forms.ChoiceField(choices=[(k, k.title()) for k in LENGTHS], initial="medium")

    def clean(self: forms.Form) -> dict[str, Any]:
        data = forms.Form.clean(self) or {}
        values = {f.name: self.data.get(f.name, "") for f in spec.fields}
        for name, message in validate_values(spec.fields, values).items():
            if name not in self.errors:
                self.add_error(name, message)
        return data

    attrs["clean"] = clean
    return type("GenerateForm", (forms.Form,), attrs)
