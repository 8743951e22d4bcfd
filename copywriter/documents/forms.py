from django import forms


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    body = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    base_number = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
