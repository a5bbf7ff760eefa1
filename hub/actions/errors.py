class ActionError(Exception):
    """A request the hub refuses, with a reason fit to show the user.
    `status` is the HTTP status a view should answer with."""

    status = 400

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidInput(ActionError):
    status = 400


class NotFound(ActionError):
    status = 404

    def __init__(self, message: str = "Not found.", *, code: str = "not_found"):
        super().__init__(message, code=code)


class Conflict(ActionError):
    status = 409


class NotDeliverable(ActionError):
    """The message cannot go out on that channel (no address, opted out, ...)."""

    status = 422
