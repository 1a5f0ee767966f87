"""CloudTrail delivery topics (patch m) -- the trail's SNS topic by ARN, in any account, and the
topic policy CreateTrail / UpdateTrail check (docs/design.md, "The delivery topic of a delegated
administrator's trail").
"""

from __future__ import annotations

from typing import Any

from fid_org import CLOUDTRAIL_PRINCIPAL


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def topic_grants_cloudtrail(policy: dict[str, Any], topic_arn: str, trail_arn: str) -> bool:
    """Whether `policy` has a statement letting the CloudTrail service principal publish to
    `topic_arn` for the trail `trail_arn`. Conditions on aws:SourceArn / aws:SourceAccount are
    evaluated against the trail (whose ARN carries its owner, the management account for an
    organization trail); an Allow with any other condition does not count (stricter reading), and
    an explicit Deny of publishing (to CloudTrail or to everyone) whose conditions hold wins."""
    import fnmatch

    trail_account = trail_arn.split(":")[4]
    allowed = False
    for statement in _listed(policy.get("Statement", [])):
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            continue
        deny = statement["Effect"] == "Deny"
        principal = statement.get("Principal")
        # A Deny counts for CloudTrail when it names it or everyone ("*", {"AWS": "*"}).
        everyone = principal == "*" or (isinstance(principal, dict) and "*" in _listed(principal.get("AWS", [])))
        if not (deny and everyone) and (not isinstance(principal, dict) or CLOUDTRAIL_PRINCIPAL not in _listed(principal.get("Service", []))):
            continue
        if not any(str(a).lower() in ("sns:publish", "sns:*", "*") for a in _listed(statement.get("Action", []))):
            continue
        if not any(fnmatch.fnmatchcase(topic_arn, str(r)) for r in _listed(statement.get("Resource", []))):
            continue
        holds = all(
            _condition_holds(op, key, values, trail_arn, trail_account)
            for op, keys in (statement.get("Condition") or {}).items()
            for key, values in keys.items()
        )
        if holds and deny:
            return False  # an explicit Deny wins over any Allow
        allowed = allowed or holds
    return allowed


def _condition_holds(op: str, key: str, values: Any, trail_arn: str, trail_account: str) -> bool:
    import fnmatch

    actual = {"aws:sourcearn": trail_arn, "aws:sourceaccount": trail_account}.get(key.lower())
    base = op[: -len("IfExists")] if op.endswith("IfExists") else op
    if actual is None:
        return False
    if base in ("StringEquals", "ArnEquals"):
        return actual in _listed(values)
    if base in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, str(v)) for v in _listed(values))
    return False


def apply() -> None:
    """(m) CreateTrail / UpdateTrail take SnsTopicName as "the name or ARN of the Amazon SNS topic";
    an ARN may name a topic of another account or region ("You can also enter the ARN of a topic
    from another Region or from an account with appropriate permissions", CloudTrail User Guide),
    and the trail reports that ARN as SnsTopicARN. The topic must exist and its policy must let
    CloudTrail publish for this trail, else InsufficientSnsTopicPolicyException (the error the API
    reference lists for both calls; how CloudTrail evaluates the policy is not documented: the
    stricter reading above). moto 5.2.5 builds the topic ARN from the trail's own account and
    region (an ARN given becomes "arn:...:sns:REGION:ACCOUNT:arn:aws:sns:..." and CreateTrail
    fails), ignores the policy, and UpdateTrail checks nothing.
    """
    from moto.cloudtrail import models
    from moto.cloudtrail.exceptions import InsufficientSnsTopicPolicyException
    from moto.sns.models import sns_backends

    Trail = models.Trail

    def topic_arn_of(trail: Any, name: str | None) -> str | None:
        if not name:
            return None
        if name.startswith("arn:"):
            return name
        return f"arn:{trail.partition}:sns:{trail.region_name}:{trail.account_id}:{name}"

    def check(trail: Any, name: str | None) -> None:
        arn = topic_arn_of(trail, name)
        if arn is None:
            return
        parts = arn.split(":")
        topic = None
        if len(parts) == 6 and parts[2] == "sns":
            topic = sns_backends[parts[4]][parts[3]].topics.get(arn)
        if topic is None:
            raise InsufficientSnsTopicPolicyException(f"SNS Topic {arn} does not exist or the topic policy is incorrect!")
        if not topic_grants_cloudtrail(topic._policy_json, arn, trail.arn):
            raise InsufficientSnsTopicPolicyException(
                f"Insufficient permissions to publish to SNS topic {arn}: its policy must let {CLOUDTRAIL_PRINCIPAL} "
                f"publish for {trail.arn} (aws:SourceArn)."
            )

    original_update = Trail.update
    original_description = Trail.description

    def update(self: Any, *args: Any, **kwargs: Any) -> None:
        check(self, kwargs.get("sns_topic_name"))
        original_update(self, *args, **kwargs)

    def description(self: Any, include_region: bool = False) -> dict[str, Any]:
        desc = original_description(self, include_region)
        if desc.get("SnsTopicName", "").startswith("arn:"):
            desc["SnsTopicName"] = desc["SnsTopicName"].rsplit(":", 1)[-1]
        return desc

    Trail.topic_arn = property(lambda self: topic_arn_of(self, self.sns_topic_name))
    Trail.check_topic_exists = lambda self: check(self, self.sns_topic_name)
    Trail.update = update
    Trail.description = description
