from django import forms

from copywriter.accounts.services import reject_control_characters
from copywriter.workspaces.models import CLAIMS_POLICIES, MAX_CANDIDATES, MIN_CANDIDATES, Role


class WorkspaceForm(forms.Form):
    # The name goes into invitation email subjects: a line break there fails the email.
    name = forms.CharField(max_length=100, validators=[reject_control_characters])
    claims_policy = forms.ChoiceField(
        choices=CLAIMS_POLICIES, label="Unsupported claims",
        required=False,  # left out: unchanged
        help_text="A variant that states something your brief and facts do not (a number, a "
                  "name, a guarantee, a superlative): take those sentences out (listed under the "
                  "copy, to put back by hand; written once more where little would be left), "
                  "show it with the claim marked, or write it again (at most twice). A variant "
                  "is shown marked only if every attempt had one.")

    candidates = forms.IntegerField(
        min_value=MIN_CANDIDATES, max_value=MAX_CANDIDATES, required=False,  # left out: unchanged
        label="Candidates per variant",
        help_text="Each variant you see is the best of this many written: more catch more "
                  "invented claims and missing product names, and take longer (3: about 1.6x "
                  "the time of 1 for long copy).")


class InviteForm(forms.Form):
    email = forms.EmailField(required=False, max_length=254,
                             help_text="Leave empty to make a shareable link instead.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)
    days = forms.IntegerField(min_value=1, max_value=90, initial=7, label="Expires after (days)")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
