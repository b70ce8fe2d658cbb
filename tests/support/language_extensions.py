"""What the AWS::LanguageExtensions transform does to template.yaml before the SAM one.

The template switches the optional Cognito authorizer with `Fn::If` inside `Auth` (of
the Api and of the health route's event), where the Serverless transform takes no
intrinsics, and SnapStart with `Fn::If` in each function's properties (the SAM transform hashes
a resolved `SnapStart` into the version it publishes); CloudFormation's
LanguageExtensions resolves those conditions from the parameter values first. The
tests translate the template offline with the SAM translator alone, so this does that
step for those places (the only ones the template needs it), from the parameters'
defaults and the overrides given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def parameter_values(document: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """Every parameter's value: the override, else its default."""
    values = {
        name: str(spec.get("Default", ""))
        for name, spec in (document.get("Parameters") or {}).items()
    }
    values.update(overrides)
    return values


class Conditions:
    """The template's Conditions, evaluated from parameter values."""

    def __init__(self, document: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self.definitions = dict(document.get("Conditions") or {})
        self.parameters = dict(parameters)
        self._values: dict[str, bool] = {}

    def __getitem__(self, name: str) -> bool:
        if name not in self._values:
            self._values[name] = bool(self.evaluate(self.definitions[name]))
        return self._values[name]

    def evaluate(self, expression: Any) -> Any:
        if isinstance(expression, Mapping) and len(expression) == 1:
            ((function, argument),) = expression.items()
            if function == "Ref":
                return self.parameters[argument]
            if function == "Condition":
                return self[argument]
            if function == "Fn::Equals":
                left, right = (self.evaluate(a) for a in argument)
                return str(left) == str(right)
            if function == "Fn::Not":
                return not self.evaluate(argument[0])
            if function == "Fn::And":
                return all(self.evaluate(a) for a in argument)
            if function == "Fn::Or":
                return any(self.evaluate(a) for a in argument)
        return expression


def resolve_ifs(value: Any, conditions: Conditions) -> Any:
    """`value` with every Fn::If replaced by the branch its condition picks."""
    if isinstance(value, list):
        return [resolve_ifs(item, conditions) for item in value]
    if not isinstance(value, dict):
        return value
    if list(value) == ["Fn::If"]:
        name, when_true, when_false = value["Fn::If"]
        return resolve_ifs(when_true if conditions[name] else when_false, conditions)
    return {key: resolve_ifs(item, conditions) for key, item in value.items()}


def resolve_auth(document: dict[str, Any], overrides: Mapping[str, str] | None = None) -> None:
    """Resolve the Fn::If of every `Auth` block in place (Api properties, Api events) and
    of each function's `SnapStart`."""
    conditions = Conditions(document, parameter_values(document, overrides or {}))
    for resource in document.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if "SnapStart" in properties:
            properties["SnapStart"] = resolve_ifs(properties["SnapStart"], conditions)
        if "Auth" in properties:
            properties["Auth"] = resolve_ifs(properties["Auth"], conditions)
        for event in (properties.get("Events") or {}).values():
            event_properties = event.get("Properties") or {}
            if "Auth" in event_properties:
                event_properties["Auth"] = resolve_ifs(event_properties["Auth"], conditions)
