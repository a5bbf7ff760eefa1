"""Signal receivers the hub installs at start-up (HubConfig.ready)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from hub.lib import access, audit, directory, sessions
from hub.models import AgentProfile, ApiToken, BusinessHours, Department, Holiday, Practice, Topic


PRESENCE_FIELDS = frozenset({"presence", "presence_changed_at"})


@receiver([post_save, post_delete], dispatch_uid="hub-directory-changed")
def directory_changed(sender, instance, update_fields=None, **kwargs):
    """A practice's names, assignment or hours changed: this process's
    directory cache forgets the practice (hub.lib.directory). Presence
    changes alone are not the directory's business."""
    if update_fields is not None and set(update_fields) <= PRESENCE_FIELDS:
        return
    if sender is Practice:
        directory.forget(instance.pk)
    elif sender is BusinessHours:
        directory.forget()  # its department's practice is one more query away
    elif sender in (Department, Holiday, Topic, AgentProfile):
        directory.forget(instance.practice_id)


@receiver(user_logged_in, dispatch_uid="hub-signed-in")
def signed_in(sender, request, user, **kwargs):
    if request is None:
        return
    sessions.touch(request.session, force=True)
    audit.record(user_id=user.pk, practice_id=access.practice_of(user), action="session.signed_in",
                 obj=("user", user.pk), via="console", ip=audit.client_ip(request.META))


@receiver(user_logged_out, dispatch_uid="hub-signed-out")
def signed_out(sender, request, user, **kwargs):
    """Whoever signs out, their sockets opened with this session close too."""
    if request is None or user is None:
        return
    reason = getattr(request, "_hub_logoff_reason", sessions.REASON_SIGNED_OUT)
    if reason == sessions.REASON_SIGNED_OUT:
        audit.record(user_id=user.pk, practice_id=access.practice_of(user), action="session.signed_out",
                     obj=("user", user.pk), via="console", ip=audit.client_ip(request.META))
        sessions.end_everywhere(request.session.session_key, reason)


@receiver(user_login_failed, dispatch_uid="hub-sign-in-failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    """Failed attempts are counted by django-axes; the audit trail keeps
    them too (the username tried, never the password)."""
    from django.contrib.auth import get_user_model

    username = str((credentials or {}).get("username", ""))[:150]
    # Attempts on a staff account show in that practice's audit log (its
    # admins should see someone guessing); unknown usernames in the system's.
    staff = (get_user_model().objects.filter(username=username).select_related("agent").first()
             if username and "\x00" not in username else None)
    audit.record(user_id=None, practice_id=access.practice_of(staff) if staff is not None else None,
                 action="session.sign_in_failed",
                 obj=("user", 0), via="console", ip=audit.client_ip(request.META) if request is not None else None,
                 detail={"username": username})


# What a cached API token check holds (hub.api.auth): the token, its
# account and that account's profile. Sign-ins and presence are not it.
NOT_TOKEN_STATE = PRESENCE_FIELDS | {"last_login", "last_used_at"}


@receiver([post_save, post_delete], sender=ApiToken, dispatch_uid="hub-token-state-token")
@receiver([post_save, post_delete], sender=get_user_model(), dispatch_uid="hub-token-state-user")
@receiver([post_save, post_delete], sender=AgentProfile, dispatch_uid="hub-token-state-profile")
def token_state_changed(sender, instance, update_fields=None, **kwargs):
    """A token was revoked or deleted, an account deactivated, a role
    changed: this process checks every API token again."""
    if update_fields is not None and set(update_fields) <= NOT_TOKEN_STATE:
        return
    from django.db import transaction

    from hub.api.auth import forget_recent_tokens

    forget_recent_tokens()
    # Again once it commits: a request that read the old row meanwhile
    # must not keep it.
    transaction.on_commit(forget_recent_tokens)
