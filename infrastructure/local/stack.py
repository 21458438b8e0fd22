"""Deploys the packaged CloudFormation template into the local endpoint through its
CloudFormation API, as ``aws cloudformation package`` + ``deploy`` would against LocalStack:

* the artifacts the template names by relative path (``Code: functions/x.zip``,
  ``Content: layers/y.zip``) are uploaded to an artifact bucket and rewritten to
  ``S3Bucket``/``S3Key`` (keys carry the zip's hash, so unchanged code is not an update).
  Layers are uploaded as tiny placeholders: locally the code runs from the virtualenv;
* resource types the endpoint's CloudFormation cannot create (see :data:`EMULATED`) are kept
  out of the stack; every ``Ref``/``Fn::GetAtt``/``Fn::Sub`` naming one is replaced by the
  value its local emulation answers to, and the local cloud emulates the resource from the
  same template entry (secrets are created through the Secrets Manager API here);
* a stack that already exists is updated, and an unchanged template is a no-op, so deploying
  into an endpoint whose state was restored is idempotent.

The result, :class:`DeployedStack`, is where the local cloud learns every name: the stack's
outputs, its resources' physical ids and the full template (emulated resources included).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import secrets
import string
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from infrastructure.local import moto_cfn
from infrastructure.local.identity import LocalIdentity
from quantdesk import aws

#: resource types moto's CloudFormation cannot create -> how the local cloud stands in for them
EMULATED: Final[dict[str, str]] = {
    "AWS::Lambda::Url": "the local origin serves the target function's app",
    "AWS::CloudFront::Distribution": "the local origin routes paths like its cache behaviors",
    "AWS::CloudFront::OriginAccessControl": "nothing to do: the origin reads the UI from disk",
    "AWS::CloudFront::Function": "the origin serves a directory's index.html itself",
    "AWS::Scheduler::Schedule": "the local scheduler fires the schedule's target",
    "AWS::SecretsManager::Secret": "created through the endpoint's Secrets Manager API",
    "AWS::ApiGateway::Stage": "the origin invokes the API function directly (no stage)",
    # created by moto but failing there: its RestApi ignores the Body, so has no methods
    "AWS::ApiGateway::Deployment": "the origin invokes the API function directly",
    "AWS::S3::BucketPolicy": "not applied: the origin serves the web UI from disk",
    "AWS::CloudWatch::Alarm": "not emulated: nothing alarms locally",
    "AWS::ApiGateway::UsagePlan": "not emulated: the per-user run limits apply locally too",
    "AWS::CloudFront::ResponseHeadersPolicy": "the origin adds the same headers (HSTS: https only)",
    # moto's CloudFormation has no Cognito: infrastructure.local.identity creates the pool
    "AWS::Cognito::UserPool": "the local pool (identity.ensure_identity), same definition",
    "AWS::Cognito::UserPoolClient": "the local pool's app client (identity.ensure_identity)",
    "AWS::Cognito::UserPoolDomain": "the origin serves the hosted UI (local/hosted_ui.py)",
}
#: a Function URL answers with the local origin's URL; a distribution with its host
_ATTRIBUTES: Final = {
    ("AWS::Lambda::Url", "FunctionUrl"): "{origin}/",
    ("AWS::CloudFront::Distribution", "DomainName"): "{host}",
    ("AWS::Cognito::UserPool", "Arn"): "{pool_arn}",
}
_COGNITO: Final = (
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
)
_ADAPTER_ONLY: Final = ("AWS_LAMBDA_EXEC_WRAPPER", "AWS_LWA_INVOKE_MODE", "PORT")
_TERMINAL_OK: Final = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
_SUB_REF: Final = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z0-9.]+))?\}")


@dataclass(frozen=True)
class DeployedStack:
    name: str
    status: str
    outputs: dict[str, str]
    #: logical id -> physical id, for the resources the endpoint created
    physical: dict[str, str]
    #: the packaged template as written by the package step (emulated resources included)
    template: dict[str, Any]
    #: emulated resource's logical id -> the value its ``Ref`` resolved to
    emulated: dict[str, str]
    #: the stack's parameter values
    parameters: dict[str, str]
    region: str
    account: str

    def resources_of(self, kind: str) -> dict[str, dict[str, Any]]:
        """Logical id -> properties of the template's resources of type ``kind`` that the
        stack has (a resource whose ``Condition`` is false is not created)."""
        return {
            logical: dict(resource.get("Properties", {}))
            for logical, resource in self.template["Resources"].items()
            if resource["Type"] == kind
            and ("Condition" not in resource or self.condition(resource["Condition"]))
        }

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.template.get("Conditions", {})[name]))

    def _evaluate(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        (function, args), *_ = value.items()
        if function == "Ref":
            return self.parameters.get(args, "")
        if function == "Condition":
            return self.condition(args)
        operators = {
            "Fn::Equals": lambda: self._evaluate(args[0]) == self._evaluate(args[1]),
            "Fn::Not": lambda: not self._evaluate(args[0]),
            "Fn::And": lambda: all(self._evaluate(a) for a in args),
            "Fn::Or": lambda: any(self._evaluate(a) for a in args),
        }
        if function not in operators:
            raise ValueError(f"cannot evaluate {function} in a condition locally")
        return operators[function]()

    def resolve(self, value: Any) -> Any:
        """A property value with ``Ref``/``Fn::GetAtt ... Arn``/``Fn::Sub`` resolved against the
        deployed stack (enough for the emulated resources' properties)."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            return self._attribute(logical, attribute)
        if "Fn::Sub" in value:
            text, variables = value["Fn::Sub"], {}
            if isinstance(text, list):
                text, variables = text[0], {k: self.resolve(v) for k, v in text[1].items()}

            def sub(match: re.Match[str]) -> str:
                name, attribute = match.group(1), match.group(2)
                if name in variables:
                    return str(variables[name])
                return str(self._attribute(name, attribute) if attribute else self._ref(name))

            return _SUB_REF.sub(sub, text)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::StackName": self.name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.emulated:
            return self.emulated[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.physical[name]

    def _attribute(self, logical: str, attribute: str) -> str:
        kind = self.template["Resources"][logical]["Type"]
        if attribute != "Arn":
            raise ValueError(f"cannot resolve {logical}.{attribute} locally")
        physical = self._ref(logical)
        if kind == "AWS::Lambda::Function":
            return f"arn:aws:lambda:{self.region}:{self.account}:function:{physical}"
        if kind == "AWS::SQS::Queue":  # Ref is the queue URL
            return f"arn:aws:sqs:{self.region}:{self.account}:{physical.rsplit('/', 1)[-1]}"
        return physical  # state machines and secrets: Ref is the ARN

    def function_environment(self) -> dict[str, str]:
        """The environment the stack's functions get (their union, as the endpoint holds it),
        without what only the Lambda Web Adapter reads."""
        client = aws.client("lambda")
        environment: dict[str, str] = {}
        for logical in self.resources_of("AWS::Lambda::Function"):
            config = client.get_function_configuration(FunctionName=self.physical[logical])
            environment |= config.get("Environment", {}).get("Variables", {})
        return {k: v for k, v in environment.items() if k not in _ADAPTER_ONLY}


def referenced(value: Any) -> set[str]:
    """Logical ids (and parameters) that ``value`` refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced(item)
    elif isinstance(value, dict):
        if "Ref" in value:
            found.add(value["Ref"])
        elif "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        elif "Fn::Sub" in value:
            text = value["Fn::Sub"]
            if isinstance(text, list):
                found |= referenced(text[1])
                text = text[0]
            found |= {m.group(1) for m in _SUB_REF.finditer(text)}
        else:
            for item in value.values():
                found |= referenced(item)
    return found


# -- preparing the template -----------------------------------------------------------------


def placeholder_layer() -> bytes:
    """A layer zip standing in for the real (slow to build) layers: locally the code runs from
    the virtualenv, so the layer only has to exist."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entry = zipfile.ZipInfo("python/LOCAL_PLACEHOLDER", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(entry, "the local cloud runs from the virtualenv\n")
    return buffer.getvalue()


def upload_artifacts(template: dict[str, Any], package_dir: Path, bucket: str) -> dict[str, Any]:
    """A copy of ``template`` with local code paths uploaded to ``bucket`` and rewritten."""
    s3 = aws.client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    layer = placeholder_layer()
    out = copy.deepcopy(template)
    for resource in out["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("Code", "Content"):
            path = props.get(key)
            if not isinstance(path, str):
                continue
            body = layer if key == "Content" else (package_dir / path).read_bytes()
            s3_key = f"{hashlib.sha256(body).hexdigest()[:20]}/{Path(path).name}"
            s3.put_object(Bucket=bucket, Key=s3_key, Body=body)
            props[key] = {"S3Bucket": bucket, "S3Key": s3_key}
    return out


def without_emulated(
    template: dict[str, Any], values: dict[str, str], attributes: dict[tuple[str, str], str]
) -> dict[str, Any]:
    """A copy of ``template`` without the emulated resources, references to them replaced:
    ``values[logical]`` for a Ref, ``attributes[(logical, attribute)]`` for a GetAtt."""
    replacer = _Replacer(values, attributes)
    out = copy.deepcopy(template)
    for logical in values:
        del out["Resources"][logical]
    for resource in out["Resources"].values():
        depends = resource.pop("DependsOn", [])
        kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in values]
        if kept:
            resource["DependsOn"] = kept
    out["Resources"] = replacer.replace(out["Resources"])
    out["Outputs"] = replacer.replace(out.get("Outputs", {}))
    return out


@dataclass(frozen=True)
class _Replacer:
    values: dict[str, str]
    attributes: dict[tuple[str, str], str]

    def value(self, logical: str, attribute: str | None) -> str:
        if attribute is None:
            return self.values[logical]
        return self.attributes.get((logical, attribute), f"{self.values[logical]}-{attribute}")

    def replace(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.replace(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value and value["Ref"] in self.values:
            return self.value(value["Ref"], None)
        if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in self.values:
            return self.value(*value["Fn::GetAtt"])
        if "Fn::Sub" in value:
            return self._sub(value["Fn::Sub"])
        return {k: self.replace(v) for k, v in value.items()}

    def _sub(self, argument: Any) -> dict[str, Any]:
        text, variables = (
            (argument[0], self.replace(argument[1]))
            if isinstance(argument, list)
            else (argument, {})
        )

        def sub(match: re.Match[str]) -> str:
            name, attribute = match.group(1), match.group(2)
            if name not in self.values or name in variables:
                return match.group(0)
            return self.value(name, attribute)

        text = _SUB_REF.sub(sub, text)
        return {"Fn::Sub": [text, variables] if variables else text}


# -- emulated resources the stack's resources refer to ---------------------------------------


def _sub_pseudo(value: Any, stack_name: str, region: str, account: str) -> Any:
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        pseudo = {"AWS::StackName": stack_name, "AWS::Region": region, "AWS::AccountId": account}
        return _SUB_REF.sub(lambda m: pseudo.get(m.group(1), m.group(0)), value["Fn::Sub"])
    return value


def ensure_secret(
    logical: str, props: dict[str, Any], stack_name: str, region: str, account: str
) -> str:
    """Create the template's secret through the Secrets Manager API (once); its ARN."""
    client = aws.client("secretsmanager")
    name = _sub_pseudo(props.get("Name"), stack_name, region, account) or f"{stack_name}-{logical}"
    try:
        return str(client.describe_secret(SecretId=name)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        pass
    value = props.get("SecretString")
    if not isinstance(value, str):
        value = _generated(props.get("GenerateSecretString") or {})
    return str(client.create_secret(Name=name, SecretString=value)["ARN"])


def cognito_stand_in(
    kind: str,
    props: dict[str, Any],
    *,
    identity: LocalIdentity,
    stack_name: str,
    region: str,
    account: str,
) -> str:
    """What a template Cognito resource's ``Ref`` answers with locally: the local pool's id, its
    client's id, or a local domain. The pool and client must be the ones the template names."""
    if kind == "AWS::Cognito::UserPoolDomain":
        return f"local-{stack_name}"
    name_key, local = (
        ("UserPoolName", identity.pool_name)
        if kind == "AWS::Cognito::UserPool"
        else ("ClientName", identity.client_name)
    )
    declared = _sub_pseudo(props.get(name_key), stack_name, region, account)
    if declared != local:
        raise ValueError(f"the template's {kind} is {declared!r}, the local pool's {local!r}")
    return identity.pool_id if kind == "AWS::Cognito::UserPool" else identity.client_id


def _generated(spec: dict[str, Any]) -> str:
    """A value as Secrets Manager's ``GenerateSecretString`` makes it (length, punctuation)."""
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += string.punctuation
    length = int(spec.get("PasswordLength", 32))
    return "".join(secrets.choice(alphabet) for _ in range(length))


# -- deploying -------------------------------------------------------------------------------


def deploy(
    template: dict[str, Any],
    package_dir: Path,
    *,
    stack_name: str,
    origin_url: str,
    region: str,
    account: str,
    identity: LocalIdentity,
    parameters: dict[str, str] | None = None,
) -> DeployedStack:
    """Create or update ``stack_name`` from the packaged ``template`` (idempotent);
    ``identity`` is the local pool standing in for the template's Cognito resources."""
    moto_cfn.install()
    moto_cfn.quiet(set(EMULATED))
    unsupported = moto_cfn.unsupported_types(template)
    unknown = unsupported - set(EMULATED)
    if unknown:
        raise ValueError(f"the local cloud cannot create or emulate {sorted(unknown)}")
    emulated: dict[str, str] = {}
    for logical, resource in template["Resources"].items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind not in EMULATED:
            continue
        if kind == "AWS::SecretsManager::Secret":
            emulated[logical] = ensure_secret(logical, props, stack_name, region, account)
        elif kind in _COGNITO:
            emulated[logical] = cognito_stand_in(
                kind,
                props,
                identity=identity,
                stack_name=stack_name,
                region=region,
                account=account,
            )
        else:
            emulated[logical] = f"local-{logical}"
    host = origin_url.split("://", 1)[-1]
    attributes = {
        (logical, attribute): pattern.format(
            origin=origin_url, host=host, pool_arn=identity.pool_arn(account)
        )
        for logical, resource in template["Resources"].items()
        for (kind, attribute), pattern in _ATTRIBUTES.items()
        if resource["Type"] == kind
    }
    body = moto_cfn.without_sub_maps(
        without_emulated(
            upload_artifacts(template, package_dir, f"{stack_name}-artifacts"), emulated, attributes
        )
    )
    status = _create_or_update(stack_name, body, parameters or {})
    cfn = aws.client("cloudformation")
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    physical = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for r in _paged(cfn, "list_stack_resources", "StackResourceSummaries", stack_name)
    }
    declared = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
    deployed = DeployedStack(
        name=stack_name,
        status=status,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        physical=physical,
        template=template,
        emulated=emulated,
        parameters=declared
        | {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])},
        region=region,
        account=account,
    )
    apply_bucket_properties(deployed)
    return deployed


def apply_bucket_properties(stack: DeployedStack) -> None:
    """moto's CloudFormation creates buckets with their encryption only: apply the template's
    lifecycle rules and public access block through the S3 API."""
    s3 = aws.client("s3")
    for logical, props in stack.resources_of("AWS::S3::Bucket").items():
        bucket = stack.physical[logical]
        rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
        if rules:
            s3.put_bucket_lifecycle_configuration(
                Bucket=bucket,
                LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in rules]},
            )
        if props.get("PublicAccessBlockConfiguration"):
            s3.put_public_access_block(
                Bucket=bucket,
                PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
            )


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    out: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        out["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": rule["ExpirationInDays"]}
    return out


def _create_or_update(stack_name: str, body: dict[str, Any], parameters: dict[str, str]) -> str:
    cfn = aws.client("cloudformation")
    text = json.dumps(body)
    declared = body.get("Parameters", {})
    args: dict[str, Any] = {
        "StackName": stack_name,
        "TemplateBody": text,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    }
    try:
        existing = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except cfn.exceptions.ClientError:
        existing = None
    if existing is None:
        args["Parameters"] = [
            {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items() if k in declared
        ]
        cfn.create_stack(**args)
    else:
        if _unchanged(existing, body, parameters):
            return _wait(stack_name)
        # a restored stack keeps its secret parameters (a regenerated one would change them)
        previous = {p["ParameterKey"] for p in existing.get("Parameters", [])}
        args["Parameters"] = [
            {"ParameterKey": k, "UsePreviousValue": True}
            if k in previous and spec.get("NoEcho")
            else {"ParameterKey": k, "ParameterValue": parameters[k]}
            for k, spec in declared.items()
            if (k in previous and spec.get("NoEcho")) or k in parameters
        ]
        try:
            cfn.update_stack(**args)
        except cfn.exceptions.ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
    return _wait(stack_name)


def _unchanged(existing: dict[str, Any], body: dict[str, Any], parameters: dict[str, str]) -> bool:
    """The stack already runs this template with these parameter values (what
    ``cloudformation deploy`` reports as "no changes to deploy")."""
    current = aws.client("cloudformation").get_template(StackName=existing["StackName"])
    deployed = current["TemplateBody"]
    if isinstance(deployed, str):
        deployed = json.loads(deployed)
    declared = body.get("Parameters", {})
    values = {p["ParameterKey"]: p.get("ParameterValue") for p in existing.get("Parameters", [])}
    return bool(json.loads(json.dumps(deployed)) == body) and all(
        values.get(k) == v for k, v in parameters.items() if k in declared
    )


def _wait(stack_name: str, timeout_s: float = 120) -> str:
    cfn = aws.client("cloudformation")
    deadline = time.monotonic() + timeout_s
    while True:
        status = str(cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"])
        if status in _TERMINAL_OK:
            return status
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            raise RuntimeError(f"stack {stack_name} ended {status}")
        time.sleep(0.2)


def _paged(client: Any, operation: str, key: str, stack_name: str) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(StackName=stack_name):
        yield from page[key]
