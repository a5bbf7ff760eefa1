"""The knowledge base's forms: the article editor and the assignment form."""

from __future__ import annotations

from django import forms

from hub.knowledge import actions
from hub.knowledge.models import Category
from hub.models import Topic

SNIPPET_HELP = ("Markdown. For text agents can insert into a reply, write a snippet block: a line ```snippet "
                "followed by a label, the text, then a line ```.")


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=actions.MAX_TITLE)
    category = forms.ChoiceField(choices=Category.choices)
    topics = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Conversations on these topics suggest this article to the agent.")
    body = forms.CharField(required=False, max_length=actions.MAX_BODY, strip=False, help_text=SNIPPET_HELP,
                           widget=forms.Textarea(attrs={"rows": 22, "class": "kb-source", "spellcheck": "true"}))
    change_note = forms.CharField(required=False, max_length=actions.MAX_NOTE, label="Change note",
                                  help_text="What changed and why: the history shows it.")
    base_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, practice_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].choices = [(t.pk, f"{t.name} ({t.department.name})") for t in
                                         Topic.objects.in_practice(practice_id).select_related("department")]

    def draft(self) -> actions.Draft:
        data = self.cleaned_data
        return actions.Draft(title=data["title"], category=data["category"], body=data["body"],
                             topic_ids=tuple(data["topics"]), change_note=data["change_note"])


class AssignForm(forms.Form):
    assignees = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple, label="Assign to")
    due = forms.DateField(required=False, label="Due (optional)",
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, practice_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignees"].choices = actions.staff_choices(practice_id)
