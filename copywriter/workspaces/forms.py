from django import forms

from copywriter.workspaces.models import Role


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100)


class InviteForm(forms.Form):
    email = forms.EmailField(required=False, max_length=254,
                             help_text="Leave empty to make a shareable link instead.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)
    days = forms.IntegerField(min_value=1, max_value=90, initial=7, label="Expires after (days)")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
