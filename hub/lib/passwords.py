"""Password rules beyond Django's own validators."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class NoPersonalInfoValidator:
    """Refuses a password that contains the person's username, first name or
    last name (3+ letters), whatever the case: "aliceadams12" for Alice
    Adams. Django's similarity check compares whole strings and lets such
    passwords through."""

    ATTRIBUTES = ("username", "first_name", "last_name")

    def validate(self, password, user=None):
        if user is None:
            return
        lowered = password.casefold()
        for attribute in self.ATTRIBUTES:
            value = str(getattr(user, attribute, "") or "").casefold()
            for part in filter(None, (value, *value.replace("-", " ").replace(".", " ").split())):
                if len(part) >= 3 and part in lowered:
                    raise ValidationError("The password must not contain your name or username.",
                                          code="password_has_personal_info")

    def get_help_text(self):
        return "Your password can't contain your name or username."
