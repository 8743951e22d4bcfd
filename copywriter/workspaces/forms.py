from django import forms

from copywriter.accounts.services import reject_control_characters
from copywriter.workspaces.models import Role


class WorkspaceForm(forms.Form):
    # The name goes into invitation email subjects: a line break there fails the email.
    name = forms.CharField(max_length=100, validators=[reject_control_characters])


class InviteForm(forms.Form):
    email = forms.EmailField(required=False, max_length=254,
                             help_text="Leave empty to make a shareable link instead.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)
    days = forms.IntegerField(min_value=1, max_value=90, initial=7, label="Expires after (days)")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
