"""Retention and legal holds, for practice admins: the policy, holds placed
and released, and the reports of recent purges (docs/retention.md)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from console import guards
from hub.lib import audit
from hub.retention import actions
from hub.retention.forms import HoldForm, PolicyForm
from hub.retention.models import KINDS, LegalHold, PurgeRun, RetentionPolicy

RECENT = 20
FORBIDDEN = "Retention and legal holds are for practice admins."


def _policy(practice_id: int) -> RetentionPolicy:
    return RetentionPolicy.objects.filter(practice_id=practice_id).first() or RetentionPolicy(practice_id=practice_id)


def _page(request, viewer, *, policy_form=None, hold_form=None, status=200):
    policy = _policy(viewer.practice_id)
    holds = LegalHold.objects.filter(practice_id=viewer.practice_id).select_related("placed_by", "released_by")
    runs = PurgeRun.objects.filter(practice_id=viewer.practice_id).order_by("-started_at", "-pk")[:RECENT]
    context = {
        "viewer": viewer,
        "policy": [(label, getattr(policy, field)) for _, field, label in KINDS],
        "policy_form": policy_form or PolicyForm(initial={field: getattr(policy, field) for _, field, _ in KINDS}),
        "hold_form": hold_form or HoldForm(practice_id=viewer.practice_id),
        "active_holds": holds.filter(released_at__isnull=True).order_by("-placed_at", "-pk"),
        "released_holds": holds.filter(released_at__isnull=False).order_by("-released_at", "-pk")[:RECENT],
        "kinds": [label for _, _, label in KINDS],
        "runs": [{"run": run,
                  "purged": [run.purged.get(kind, 0) for kind, _, _ in KINDS],
                  "files": run.purged.get("files", 0),
                  "held": sum(run.held.get(kind, 0) for kind, _, _ in KINDS)} for run in runs],
    }
    return render(request, "console/retention.html", context, status=status)


@login_required
@require_GET
def retention(request):
    viewer, refused = guards.practice_admin(request, FORBIDDEN)
    if refused:
        return refused
    return _page(request, viewer)


@login_required
@require_POST
def save_policy(request):
    viewer, refused = guards.practice_admin(request, FORBIDDEN)
    if refused:
        return refused
    form = PolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, viewer, policy_form=form, status=400)
    changed = actions.change_policy(viewer.practice_id, request.user, form.days(), via="console",
                                    ip=audit.client_ip(request.META))
    messages.success(request, "Retention policy saved." if changed else "The policy is unchanged.")
    return redirect("console:retention")


@login_required
@require_POST
def place_hold(request):
    viewer, refused = guards.practice_admin(request, FORBIDDEN)
    if refused:
        return refused
    form = HoldForm(request.POST, practice_id=viewer.practice_id)
    if form.is_valid():
        try:
            hold = actions.place_hold(viewer.practice_id, request.user, reason=form.cleaned_data["reason"],
                                      via="console", ip=audit.client_ip(request.META), **form.target_ids())
        except actions.AlreadyHeld:
            form.add_error(None, "That is already under an active legal hold.")
        else:
            messages.success(request, f"Legal hold #{hold.pk} placed on {hold.target_label}.")
            return redirect("console:retention")
    return _page(request, viewer, hold_form=form, status=400)


@login_required
@require_POST
def release_hold(request, hold_id: int):
    viewer, refused = guards.practice_admin(request, FORBIDDEN)
    if refused:
        return refused
    try:
        hold = actions.release_hold(viewer.practice_id, hold_id, request.user, via="console",
                                    ip=audit.client_ip(request.META))
    except LegalHold.DoesNotExist:
        raise Http404("No such legal hold.") from None
    except actions.AlreadyReleased:
        messages.info(request, f"Legal hold #{hold_id} was already released.")
        return redirect("console:retention")
    messages.success(request, f"Legal hold #{hold.pk} on {hold.target_label} released.")
    return redirect("console:retention")
