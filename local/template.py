"""Read template.yaml and resolve the CloudFormation intrinsics the local stack needs.

The loader understands the short-form tags (`!Ref`, `!Sub`, `!GetAtt`, `!If`, ...) and
turns them into their long form, so the rest of the code sees plain dicts. `Resolver`
evaluates Ref/GetAtt/Sub/If/Join/Select/Split/FindInMap and Conditions against local
values: parameter defaults (or overrides), pseudo parameters, and the attributes of the
resources the stack created in moto. Anything it cannot know resolves to "" with one
warning, so a new template construct never stops the local run.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import yaml

log = logging.getLogger("local.template")

ACCOUNT_ID = "123456789012"  # moto's default account: ARNs it returns use it
NO_VALUE = object()  # AWS::NoValue: the key is dropped from its parent
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# Tags whose long form is not "Fn::<Tag>".
_TAG_NAMES = {"Ref": "Ref", "Condition": "Condition"}


class CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that maps CloudFormation short-form tags to their long form."""


def _construct_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _TAG_NAMES.get(suffix, f"Fn::{suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if name == "Fn::GetAtt" and isinstance(value, str):
        # `!GetAtt A.B.C` is ["A", "B.C"]: nested attribute names keep their dots.
        value = value.split(".", 1)
    return {name: value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_document(path: Path) -> dict[str, Any]:
    """Parse a template file (short-form tags included) into plain data."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


@dataclass
class Template:
    """A loaded template: its sections, and the folder its code paths are relative to."""

    path: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Template:
        return cls(path=path.resolve(), document=load_document(path))

    @property
    def root(self) -> Path:
        return self.path.parent

    def section(self, name: str) -> dict[str, Any]:
        value = self.document.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.section("Resources").items() if isinstance(v, dict)}

    def resources_of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """Resources whose Type is one of `types`, in template order."""
        return {k: v for k, v in self.resources.items() if v.get("Type") in types}

    def globals_for(self, kind: str) -> dict[str, Any]:
        """The `Globals` block for `Function` or `Api` (empty when absent)."""
        value = self.section("Globals").get(kind)
        return value if isinstance(value, dict) else {}


def references(value: Any) -> set[str]:
    """Logical ids and parameter names that `value` refers to (Ref, GetAtt, Sub)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                return {arg}
            if key == "Fn::GetAtt" and isinstance(arg, list) and arg:
                return {str(arg[0])}
            if key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) and arg else arg
                if isinstance(text, str):
                    for name in _SUB_VARIABLE.findall(text):
                        if not name.startswith("!"):
                            found.add(name.split(".", 1)[0])
                if isinstance(arg, list) and len(arg) > 1:
                    found |= references(arg[1])
                    # Names bound by the Sub's own variable map are not outside references.
                    if isinstance(arg[1], dict):
                        found -= set(arg[1])
                return found
        for item in value.values():
            found |= references(item)
    return found


@dataclass
class Resolver:
    """Evaluates intrinsic functions with local values.

    `attributes` maps a logical id to what its Ref and GetAtt return locally
    (`{"Ref": ..., "Arn": ..., ...}`); the resource creator fills it in as it goes.
    """

    template: Template
    stack_name: str = "barcode-local"
    region: str = "us-east-1"
    account_id: str = ACCOUNT_ID
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    forced_conditions: Mapping[str, bool] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)
    _condition_cache: dict[str, bool] = field(default_factory=dict)

    # -- public API --------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic evaluated; AWS::NoValue entries are dropped."""
        result = self._resolve(value)
        return None if result is NO_VALUE else result

    def condition(self, name: str) -> bool:
        """The value of a named Condition (unknown names are false, with a warning)."""
        if name in self.forced_conditions:
            return self.forced_conditions[name]
        if name not in self._condition_cache:
            definition = self.template.section("Conditions").get(name)
            if definition is None:
                self.warn(f"condition {name!r} is not defined; treating it as false")
                self._condition_cache[name] = False
            else:
                self._condition_cache[name] = False  # guards against a cycle
                self._condition_cache[name] = self._truth(definition)
        return self._condition_cache[name]

    def is_active(self, logical_id: str) -> bool:
        """Whether a resource exists once its `Condition` (if any) is evaluated."""
        resource = self.template.resources.get(logical_id, {})
        name = resource.get("Condition")
        return name is None or self.condition(str(name))

    def parameter(self, name: str) -> Any:
        if name in self.parameter_overrides:
            return self.parameter_overrides[name]
        spec = self.template.section("Parameters").get(name)
        if not isinstance(spec, dict):
            return None
        default = spec.get("Default", "")
        if str(spec.get("Type", "")).startswith(("List<", "CommaDelimitedList")):
            return [part.strip() for part in str(default).split(",")] if default != "" else []
        return "" if default is None else default

    def warn(self, message: str) -> None:
        """Log a warning once: templates are resolved many times."""
        if message not in self._warned:
            self._warned.add(message)
            log.warning(message)

    # -- evaluation --------------------------------------------------------------

    def _pseudo(self, name: str) -> Any:
        return {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/"
                f"{self.stack_name}/00000000-0000-0000-0000-000000000000"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }.get(name)

    def _ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            value = self._pseudo(name)
            if value is None:
                self.warn(f"pseudo parameter {name} is not emulated; using ''")
                return ""
            return value
        if name in self.template.section("Parameters"):
            return self.parameter(name)
        return self._attribute(name, "Ref")

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        known = self.attributes.get(logical_id, {})
        if attribute in known:
            return known[attribute]
        what = "Ref" if attribute == "Ref" else f"GetAtt {logical_id}.{attribute}"
        subject = f"Ref {logical_id}" if attribute == "Ref" else what
        if logical_id in self.template.resources and not self.is_active(logical_id):
            self.warn(f"{subject}: the resource is disabled by its condition locally; using ''")
        else:
            self.warn(f"{subject} has no local value; using ''")
        return ""

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
        resolved = {k: self._resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _fn_ref(self, arg: Any) -> Any:
        return self._ref(str(self._resolve(arg)))

    def _fn_get_att(self, arg: Any) -> Any:
        parts = self._resolve(arg)
        if isinstance(parts, str):
            parts = parts.split(".", 1)
        if not isinstance(parts, list) or len(parts) != 2:
            self.warn(f"malformed Fn::GetAtt {arg!r}; using ''")
            return ""
        return self._attribute(str(parts[0]), str(parts[1]))

    def _fn_sub(self, arg: Any) -> Any:
        variables: dict[str, Any] = {}
        text = arg
        if isinstance(arg, list):
            text = arg[0] if arg else ""
            if len(arg) > 1 and isinstance(arg[1], dict):
                variables = {k: self._resolve(v) for k, v in arg[1].items()}
        if not isinstance(text, str):
            self.warn(f"malformed Fn::Sub {arg!r}; using ''")
            return ""

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} escapes a literal ${Literal}
            if name in variables:
                return _text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return _text(self._attribute(logical_id, attribute))
            return _text(self._ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_if(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 3:
            self.warn(f"malformed Fn::If {arg!r}; using ''")
            return ""
        branch = arg[1] if self.condition(str(arg[0])) else arg[2]
        return self._resolve(branch)

    def _fn_join(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            self.warn(f"malformed Fn::Join {arg!r}; using ''")
            return ""
        items = self._resolve(arg[1])
        return str(arg[0]).join(_text(item) for item in (items or []))

    def _fn_select(self, arg: Any) -> Any:
        resolved = self._resolve(arg)
        try:
            return resolved[1][int(resolved[0])]
        except (TypeError, ValueError, IndexError, KeyError):
            self.warn(f"Fn::Select {arg!r} has no local value; using ''")
            return ""

    def _fn_split(self, arg: Any) -> Any:
        resolved = self._resolve(arg)
        if not isinstance(resolved, list) or len(resolved) != 2:
            self.warn(f"malformed Fn::Split {arg!r}; using []")
            return []
        return _text(resolved[1]).split(str(resolved[0]))

    def _fn_find_in_map(self, arg: Any) -> Any:
        resolved = self._resolve(arg)
        try:
            name, first, second = resolved[:3]
            return self.template.section("Mappings")[name][first][second]
        except (TypeError, ValueError, KeyError):
            self.warn(f"Fn::FindInMap {arg!r} has no local value; using ''")
            return ""

    def _fn_to_json_string(self, arg: Any) -> Any:
        return json.dumps(self._resolve(arg), separators=(",", ":"))

    def _fn_get_azs(self, arg: Any) -> Any:
        return [f"{self.region}{zone}" for zone in "abc"]

    def _fn_import_value(self, arg: Any) -> Any:
        self.warn(f"Fn::ImportValue {arg!r}: other stacks do not exist locally; using ''")
        return ""

    def _fn_base64(self, arg: Any) -> Any:
        return base64.b64encode(_text(self._resolve(arg)).encode()).decode()

    def _fn_length(self, arg: Any) -> Any:
        value = self._resolve(arg)
        return len(value) if isinstance(value, list) else 0

    def _truth(self, definition: Any) -> bool:
        """Evaluate a condition expression (Equals/Not/And/Or/Condition)."""
        if isinstance(definition, bool):
            return definition
        if isinstance(definition, dict) and len(definition) == 1:
            ((key, arg),) = definition.items()
            if key == "Condition":
                return self.condition(str(arg))
            if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
                left, right = (self._resolve(item) for item in arg)
                return _text(left) == _text(right)
            if key == "Fn::Not" and isinstance(arg, list) and len(arg) == 1:
                return not self._truth(arg[0])
            if key == "Fn::And" and isinstance(arg, list):
                return all(self._truth(item) for item in arg)
            if key == "Fn::Or" and isinstance(arg, list):
                return any(self._truth(item) for item in arg)
        if isinstance(definition, str):
            return definition.lower() == "true"
        self.warn(f"condition expression {definition!r} is not understood; treating it as false")
        return False

    def _fn_condition(self, arg: Any) -> Any:
        if not isinstance(arg, str):
            # A plain key named "Condition" (IAM statements), not the intrinsic.
            return {"Condition": self._resolve(arg)}
        return self.condition(arg)

    _FUNCTIONS: ClassVar[dict[str, Callable[..., Any]]] = {}  # filled in below the class


def _text(value: Any) -> str:
    """How CloudFormation renders a value inside a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value is NO_VALUE:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _condition_function(resolver: Resolver, arg: Any, name: str) -> bool:
    """Fn::Equals/Not/And/Or used as a value (e.g. inside Fn::If in a Conditions entry)."""
    return resolver._truth({name: arg})


Resolver._FUNCTIONS = {
    "Ref": Resolver._fn_ref,
    "Fn::GetAtt": Resolver._fn_get_att,
    "Fn::Sub": Resolver._fn_sub,
    "Fn::If": Resolver._fn_if,
    "Fn::Join": Resolver._fn_join,
    "Fn::Select": Resolver._fn_select,
    "Fn::Split": Resolver._fn_split,
    "Fn::FindInMap": Resolver._fn_find_in_map,
    "Fn::ToJsonString": Resolver._fn_to_json_string,
    "Fn::GetAZs": Resolver._fn_get_azs,
    "Fn::ImportValue": Resolver._fn_import_value,
    "Fn::Base64": Resolver._fn_base64,
    "Fn::Length": Resolver._fn_length,
    "Condition": Resolver._fn_condition,
    **{
        name: partial(_condition_function, name=name)
        for name in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or")
    },
}


def string_map(values: Any) -> dict[str, str]:
    """A resolved Variables/Tags mapping as strings (how Lambda sees env vars)."""
    if not isinstance(values, dict):
        return {}
    return {str(k): _text(v) for k, v in values.items()}
