"""docs/deploy.md's commands fit the template and samconfig.toml (issue 27): the stack
names are the environments', every environment, parameter and output it names exists,
the SAM CLI is the one `make install` provides, and the secret it writes is the shape
the functions read."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest

from barcode_service.credentials import GenerateCredentials, LookupCredentials
from tests.conftest import ROOT

DEPLOY = ROOT / "docs" / "deploy.md"
ACCOUNT_STACK = "api-gateway-account"  # deploy/api-gateway-account.yaml, its own stack


@pytest.fixture(scope="module")
def page() -> str:
    return DEPLOY.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def commands(page: str) -> str:
    """The page's shell blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", page, flags=re.DOTALL)
    return "\n".join(blocks).replace("\\\n", " ")


@pytest.fixture(scope="module")
def environments() -> dict[str, Any]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    return {name: section for name, section in config.items() if isinstance(section, dict)}


def stack_names(environments: dict[str, Any]) -> dict[str, str]:
    return {
        name: section["global"]["parameters"]["stack_name"]
        for name, section in environments.items()
    }


def test_samconfig_points_here() -> None:
    assert "docs/deploy.md" in (ROOT / "samconfig.toml").read_text(encoding="utf-8")


def test_every_stack_name_is_an_environments(commands: str, environments: dict[str, Any]) -> None:
    named = set(re.findall(r"--stack-name\s+(\S+)", commands))
    named |= set(re.findall(r"scripts\.teardown\s+(\S+)", commands))
    assert named, "the page names no stack"
    assert named <= {*stack_names(environments).values(), ACCOUNT_STACK}, named
    # Both environments' stacks are named where they are deployed.
    assert stack_names(environments) == {
        "default": "barcode-backend-dev",
        "prod": "barcode-backend",
    }
    for stack in stack_names(environments).values():
        assert f"**`{stack}`**" in DEPLOY.read_text(encoding="utf-8"), stack


def test_every_environment_exists(commands: str, environments: dict[str, Any]) -> None:
    used = set(re.findall(r"--config-env\s+(\S+)", commands))
    assert used == {"prod"}
    assert used <= set(environments)


def test_the_sam_cli_is_make_installs(commands: str) -> None:
    assert re.findall(r"(?:^|[\s;(&|])sam\s", commands) == [], "a bare `sam` is not installed"
    assert ".venv-sam/bin/sam deploy" in commands
    pinned = (ROOT / "requirements-sam.txt").read_text(encoding="utf-8")
    version = re.search(r"aws-sam-cli==(\S+)", pinned)
    assert version
    assert f"version {version[1]}" in commands  # what `sam --version` answers
    assert f"| AWS SAM CLI | {version[1]} |" in DEPLOY.read_text(encoding="utf-8")


def test_the_aws_cli_is_named_with_its_version(page: str) -> None:
    assert re.search(r"\| AWS CLI \| 2\.x", page)
    assert "aws --version" in page


def test_every_parameter_and_output_exists(
    commands: str, page: str, sam_template: dict[str, Any]
) -> None:
    parameters = set(sam_template["Parameters"])
    overrides = re.findall(r"--parameter-overrides\s+((?:\S+=\S+\s*)+)", commands)
    assert overrides
    for names in overrides:
        for name in re.findall(r"(\w+)=", names):
            assert name in parameters, name
    for name in re.findall(r"`(\w+)=", page):
        assert name in parameters, name
    outputs = set(sam_template["Outputs"])
    used = set(re.findall(r"\$\(output (\w+)\)", commands)) | set(
        re.findall(r"^\| `(\w+)`", page, re.M)
    )
    used |= {n for row in re.findall(r"^\| `(\w+)`, `(\w+)`", page, re.M) for n in row}
    assert {"ApiUrl", "ApiKeyId", "SecretName", "UsagePlanId"} <= used
    assert used <= outputs, used - outputs
    assert used == outputs  # the table lists every output


def test_the_secret_is_the_shape_the_functions_read(
    commands: str, page: str, sam_template: dict[str, Any]
) -> None:
    written = re.search(r"<<'EOF'\n(.*?)\nEOF", commands, flags=re.DOTALL)
    assert written
    secret = json.loads(written[1])
    GenerateCredentials.model_validate(secret["generate"])
    LookupCredentials.model_validate(secret["lookup"])
    assert isinstance(secret["upcitemdb"]["user_key"], str)
    assert set(secret["openfoodfacts"]) == {"user_id", "password"}
    # The secret is the stack's only one, named by CloudFormation after its logical id.
    secrets = [
        name
        for name, resource in sam_template["Resources"].items()
        if resource["Type"] == "AWS::SecretsManager::Secret"
    ]
    assert secrets == ["UpstreamSecret"]
    assert "Name" not in sam_template["Resources"]["UpstreamSecret"]["Properties"]
    assert "`UpstreamSecret-<random>`" in page
    assert '--secret-id "$(output SecretName)"' in commands


def test_the_production_page_lists_every_template_parameter(sam_template: dict[str, Any]) -> None:
    """docs/production.md's parameter table names each parameter of the template, and
    nothing the template lacks (a row may name two: `GenerateRateLimit` / `...Burst...`)."""
    page = (ROOT / "docs" / "production.md").read_text(encoding="utf-8")
    table = page.split("## Template parameters", 1)[1]
    rows = [line.split(" | ")[0] for line in table.splitlines() if line.startswith("| `")]
    listed = {name for row in rows for name in re.findall(r"`(\w+)`", row)}
    assert listed == set(sam_template["Parameters"])
