"""The template's Rules, evaluated for every combination of the parameters they read.

CloudFormation checks Rules before it creates anything; these tests prove the rules say
what the parameter descriptions promise:
- `WorkerLookupsPerSecond x UploadsMaximumConcurrency <= LookupRateLimit`, exactly;
- reserving any concurrency needs `AccountConcurrencyLimit >= 1000`, and the largest
  reservations the parameters allow still leave Lambda's 100 unreserved.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import pytest
import yaml

from local.template import CfnLoader, load_document
from scripts.rate_rules import RESERVED, rules
from tests.support.sam import TEMPLATE

RATE_PARAMETERS = ("WorkerLookupsPerSecond", "UploadsMaximumConcurrency", "LookupRateLimit")
UNRESERVED_MINIMUM = 100  # Lambda keeps this much of the account quota unreserved


def evaluate(expression: Any, values: dict[str, str]) -> Any:
    """A rule expression's value (the rule functions the template uses)."""
    if isinstance(expression, str):
        return expression
    if isinstance(expression, list):
        return [evaluate(item, values) for item in expression]
    ((name, argument),) = expression.items()
    if name == "Ref":
        return values[argument]
    args = evaluate(argument, values)
    if name == "Fn::Equals":
        return args[0] == args[1]
    if name == "Fn::Not":
        return not args[0]
    if name == "Fn::Or":
        return any(args)
    if name == "Fn::And":
        return all(args)
    if name == "Fn::Contains":
        return args[1] in args[0]
    raise AssertionError(f"rule function {name} is not understood by this test")


def passes(template_rules: dict[str, Any], values: dict[str, str]) -> bool:
    """Whether CloudFormation would accept a stack with these parameter values."""
    for rule in template_rules.values():
        condition = rule.get("RuleCondition")
        if condition is not None and not evaluate(condition, values):
            continue
        if not all(evaluate(a["Assert"], values) for a in rule["Assertions"]):
            return False
    return True


def allowed(sam_template: dict[str, Any], name: str) -> list[str]:
    return [str(value) for value in sam_template["Parameters"][name]["AllowedValues"]]


def defaults(sam_template: dict[str, Any]) -> dict[str, str]:
    """The parameters' defaults, and the Region (a pseudo parameter the rules read)."""
    values = {name: str(p.get("Default", "")) for name, p in sam_template["Parameters"].items()}
    return values | {"AWS::Region": "us-east-1"}


def test_the_rate_rule_holds_exactly_for_every_allowed_combination(
    sam_template: dict[str, Any],
) -> None:
    base = defaults(sam_template)
    refused = 0
    for per_worker, workers, rate in itertools.product(
        *(allowed(sam_template, name) for name in RATE_PARAMETERS)
    ):
        values = base | dict(zip(RATE_PARAMETERS, (per_worker, workers, rate), strict=True))
        within = Fraction(per_worker) * int(workers) <= Fraction(rate)
        assert passes(sam_template["Rules"], values) is within, (per_worker, workers, rate)
        refused += not within
    assert refused > 0, "some combinations must be refused, or the rule tests nothing"


def test_the_defaults_pass_the_rules(sam_template: dict[str, Any]) -> None:
    values = defaults(sam_template)
    assert passes(sam_template["Rules"], values)
    assert all(values[name] == "0" for name in RESERVED), "nothing reserved by default"


@pytest.mark.parametrize("reserved", RESERVED)
def test_reserving_needs_an_account_quota_that_fits(
    reserved: str, sam_template: dict[str, Any]
) -> None:
    base = defaults(sam_template)
    for limit in allowed(sam_template, "AccountConcurrencyLimit"):
        values = base | {reserved: "10", "AccountConcurrencyLimit": limit}
        assert passes(sam_template["Rules"], values) is (int(limit) >= 1000), limit
    # The most the parameters can reserve leaves the unreserved minimum at the smallest
    # quota the rule accepts.
    most = sum(int(sam_template["Parameters"][name]["MaxValue"]) for name in RESERVED)
    assert most + UNRESERVED_MINIMUM <= 1000


def test_the_rules_are_the_generated_ones(sam_template: dict[str, Any]) -> None:
    """scripts/rate_rules.py regenerates the section after an AllowedValues change."""
    text = "\n".join(rules(sam_template["Parameters"]))
    generated = yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    assert generated["Rules"] == load_document(TEMPLATE)["Rules"]
