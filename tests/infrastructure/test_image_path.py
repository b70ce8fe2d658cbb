"""The keyless image path: opt-in, CloudFront-only, capped, permission-free, cached."""

from __future__ import annotations

from typing import Any

from barcode_service.image_path import PATH_PREFIX, QUERY_PARAMETERS

Resources = dict[str, dict[str, Any]]


def _if(value: Any, condition: str) -> Any:
    """The 'true' branch of an Fn::If on `condition`."""
    assert value["Fn::If"][0] == condition, value
    assert value["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    return value["Fn::If"][1]


def test_opt_in_by_a_parameter_and_only_with_cloudfront(sam_template: dict[str, Any]) -> None:
    assert sam_template["Parameters"]["EnableImagePath"]["Default"] == "false"
    conditions = sam_template["Conditions"]
    assert conditions["WantImagePath"] == {"Fn::Equals": [{"Ref": "EnableImagePath"}, "true"]}
    assert conditions["ServeImagePath"] == {
        "Fn::And": [{"Condition": "UseCloudFront"}, {"Condition": "WantImagePath"}]
    }
    rule = sam_template["Rules"]["ImagePathNeedsCloudFront"]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "EnableCloudFront"}, "true"]}


def test_the_function_url_is_iam_only_and_only_this_distribution_may_call_it(
    resources: Resources,
) -> None:
    url = resources["ImageFunctionUrl"]
    assert url["Type"] == "AWS::Lambda::Url"
    assert url["Properties"]["AuthType"] == "AWS_IAM"
    for name in ("ImageFunctionUrlPermission", "ImageFunctionInvokePermission"):
        permission = resources[name]
        assert permission["Condition"] == "ServeImagePath"
        props = permission["Properties"]
        assert props["Principal"] == "cloudfront.amazonaws.com"
        assert "${ImagesDistribution}" in props["SourceArn"]["Fn::Sub"]
    assert resources["ImageFunctionUrlPermission"]["Properties"]["FunctionUrlAuthType"] == "AWS_IAM"
    oac = resources["ImageFunctionOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert oac["OriginAccessControlOriginType"] == "lambda"
    assert oac["SigningBehavior"] == "always"


def test_renders_are_capped_and_the_function_holds_no_permissions(
    resources: Resources, sam_template: dict[str, Any]
) -> None:
    function = resources["ImageFunction"]
    assert function["Condition"] == "WantImagePath"
    props = function["Properties"]
    assert props["ReservedConcurrentExecutions"] == {"Ref": "ImagePathReservedConcurrency"}
    assert sam_template["Parameters"]["ImagePathReservedConcurrency"]["MinValue"] >= 1
    assert props["Timeout"] <= 10
    role = resources["ImageFunctionRole"]["Properties"]
    assert role.get("Policies", []) == []  # no secret, no bucket, no table: it cannot spend
    assert "AWSLambdaBasicExecutionRole" in str(role["ManagedPolicyArns"])


def test_cloudfront_serves_the_path_from_the_function_with_a_tight_cache_key(
    resources: Resources, sam_template: dict[str, Any]
) -> None:
    config = resources["ImagesDistribution"]["Properties"]["DistributionConfig"]
    origin = _if(config["Origins"][1], "ServeImagePath")
    assert origin["OriginAccessControlId"] == {
        "Fn::GetAtt": ["ImageFunctionOriginAccessControl", "Id"]
    }
    assert "ImageFunctionUrl" in str(origin["DomainName"])
    (behaviour,) = _if(config["CacheBehaviors"], "ServeImagePath")
    pattern = sam_template["Resources"]["ImageFunction"]["Metadata"]["CloudFrontPathPattern"]
    assert behaviour["PathPattern"] == pattern == PATH_PREFIX + "*"
    assert behaviour["TargetOriginId"] == origin["Id"]
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["CachePolicyId"] == {"Ref": "ImagePathCachePolicy"}
    policy = resources["ImagePathCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert policy["MaxTTL"] == 31536000
    query = policy["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]
    assert query["QueryStringBehavior"] == "whitelist"
    assert tuple(query["QueryStrings"]) == QUERY_PARAMETERS  # what the function accepts
    assert len(QUERY_PARAMETERS) <= 10  # CloudFront's limit per cache policy


def test_output_names_the_image_url_base(cfn: dict[str, Any]) -> None:
    output = cfn["Outputs"]["ImageUrlBase"]
    assert output["Condition"] == "ServeImagePath"
    assert output["Value"] == {"Fn::Sub": "https://${ImagesDistribution.DomainName}/img"}
