"""The quality pages' forms: a review scored on the rubric's criteria, and
the rubric's criteria themselves."""

from __future__ import annotations

from django import forms

from hub.qa.actions import COMMENTS_LENGTH
from hub.qa.models import Rubric
from hub.qa.rubrics import DESCRIPTION_LENGTH, LABEL_LENGTH, MAX_CRITERIA, MAX_POINTS, NAME_LENGTH

SCORE_PREFIX = "score_"


class ReviewForm(forms.Form):
    """One whole-number field per criterion (0 to its maximum), then comments."""

    def __init__(self, rubric: Rubric, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rubric = rubric
        for criterion in rubric.criteria:
            self.fields[SCORE_PREFIX + criterion["key"]] = forms.IntegerField(
                label=f"{criterion['label']} (0–{criterion['max']})", min_value=0, max_value=criterion["max"],
                help_text=criterion["description"],
                widget=forms.NumberInput(attrs={"data-max": criterion["max"], "class": "score-input"}))
        self.fields["comments"] = forms.CharField(
            label="Coaching comments", required=False, max_length=COMMENTS_LENGTH,
            help_text="What went well and what to work on. The agent reads these.",
            widget=forms.Textarea(attrs={"rows": 6}))

    def scores(self) -> dict[str, int]:
        return {c["key"]: self.cleaned_data[SCORE_PREFIX + c["key"]] for c in self.rubric.criteria}

    @classmethod
    def initial_from(cls, scores: dict, comments: str) -> dict:
        return {**{SCORE_PREFIX + key: value for key, value in scores.items()}, "comments": comments}


class RubricForm(forms.Form):
    name = forms.CharField(label="Rubric name", max_length=NAME_LENGTH)


class CriterionForm(forms.Form):
    key = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    label = forms.CharField(label="Criterion", max_length=LABEL_LENGTH)
    description = forms.CharField(label="What a full score looks like", max_length=DESCRIPTION_LENGTH,
                                  required=False, widget=forms.Textarea(attrs={"rows": 2}))
    max = forms.IntegerField(label="Maximum points", min_value=1, max_value=MAX_POINTS)


CriteriaFormSet = forms.formset_factory(CriterionForm, extra=2, can_delete=True, max_num=MAX_CRITERIA,
                                        validate_max=True, absolute_max=MAX_CRITERIA + 10)


def criteria_of(formset) -> list[dict]:
    """The criteria a valid formset describes, in order, without the deleted and the blank rows."""
    return [{k: form.cleaned_data[k] for k in ("key", "label", "description", "max")}
            for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
