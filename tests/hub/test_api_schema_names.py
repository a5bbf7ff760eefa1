"""The OpenAPI schema names each request and response shape once: django-ninja
files schemas under their class name, so two different classes of the same
name (one per app) would silently describe one endpoint with the other's
fields."""

import dataclasses
import typing
from collections import defaultdict

from pydantic import BaseModel

from hub.api.views import api

# Wrappers django-ninja generates per operation; what they wrap is checked.
GENERATED = {"NinjaResponseSchema", "QueryParams", "BodyParams", "PathParams", "FileParams", "FormParams",
             "HeaderParams", "CookieParams"}


def _walk(annotation, found: dict, seen: set) -> None:
    for arg in typing.get_args(annotation):
        _walk(arg, found, seen)
    if not isinstance(annotation, type) or annotation in seen:
        return
    seen.add(annotation)
    if issubclass(annotation, BaseModel):
        if annotation.__name__ not in GENERATED:
            found[annotation.__name__].add(f"{annotation.__module__}.{annotation.__qualname__}")
        for field in annotation.model_fields.values():
            _walk(field.annotation, found, seen)
    elif dataclasses.is_dataclass(annotation):
        found[annotation.__name__].add(f"{annotation.__module__}.{annotation.__qualname__}")
        for hint in typing.get_type_hints(annotation).values():
            _walk(hint, found, seen)


def test_every_schema_name_belongs_to_one_class():
    found: dict[str, set] = defaultdict(set)
    seen: set = set()
    for _, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in [*operation.response_models.values(), *operation.models]:
                    _walk(model, found, seen)
    assert len(found) > 50
    clashes = {name: sorted(where) for name, where in found.items() if len(where) > 1}
    assert clashes == {}
