"""Target input transformation: the fixture table (fixtures/target_input.yaml), then limits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from silo.events import InvalidTargetInput, TargetInput, compile_target_input
from silo.events.target_input import MAX_INPUT, MAX_TEMPLATE, MAX_VARIABLES
from tests.unit.events._fixtures import load

RULE_ARN = "arn:aws:events:us-east-2:123456789012:rule/example"
EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
_KEYS = {"name", "target", "event", "output", "raw", "error"}


def _compile(target: Any) -> TargetInput:
    return compile_target_input(target, rule_arn=RULE_ARN, rule_name="example")


@pytest.mark.parametrize("case", [pytest.param(case, id=case["name"]) for case in load("target_input.yaml")])
def test_target_input(case: dict[str, Any]) -> None:
    assert set(case) <= _KEYS and ({"output", "raw", "error"} & set(case)), case["name"]
    if "error" in case:
        with pytest.raises(InvalidTargetInput) as caught:
            _compile(case["target"])
        problem = caught.value
        assert problem.field == case["error"]["field"], problem.message
        assert case["error"]["message"] in problem.reason, problem.message
        assert problem.code == "InvalidTargetInput" and problem.http_status == 400
        return
    rendered = _compile(case["target"]).render(case.get("event", EVENT))
    assert isinstance(rendered, bytes)
    if "raw" in case:
        assert rendered.decode() == case["raw"]
    if "output" in case:
        assert json.loads(rendered) == case["output"]


def test_ingestion_time_when_given() -> None:
    target = {"InputTransformer": {"InputTemplate": '{"at": <aws.events.event.ingestion-time>}'}}
    at = dt.datetime(2024, 5, 1, 14, 0, 1, 500, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert json.loads(_compile(target).render(EVENT, ingestion_time=at)) == {"at": "2024-05-01T12:00:01Z"}


def test_limits() -> None:
    with pytest.raises(InvalidTargetInput, match=f"at most {MAX_INPUT} characters"):
        _compile({"Input": json.dumps("x" * MAX_INPUT)})
    template = '"' + "x" * (MAX_TEMPLATE - 2) + '"'
    assert json.loads(_compile({"InputTransformer": {"InputTemplate": template}}).render(EVENT)) == "x" * 8190
    with pytest.raises(InvalidTargetInput, match=f"at most {MAX_TEMPLATE} characters"):
        _compile({"InputTransformer": {"InputTemplate": template + " "}})
    paths = {f"v{n}": "$.detail.state" for n in range(MAX_VARIABLES)}
    _compile({"InputTransformer": {"InputPathsMap": paths, "InputTemplate": '"<v99>"'}})
    with pytest.raises(InvalidTargetInput, match="at most 100 variables"):
        _compile({"InputTransformer": {"InputPathsMap": {**paths, "v100": "$"}, "InputTemplate": '"x"'}})
    with pytest.raises(InvalidTargetInput, match="at most 256 characters"):
        _compile({"InputPath": "$." + "a" * 255})


def test_none_means_not_given() -> None:
    assert json.loads(_compile({"Input": None, "InputPath": "$.detail.state"}).render(EVENT)) == "RUNNING"


def test_compiled_once_rendered_many() -> None:
    transformer = {"InputPathsMap": {"s": "$.detail.state"}, "InputTemplate": "<s>"}
    compiled = _compile({"InputTransformer": transformer})
    states = ["a", "b", "c"]
    assert [json.loads(compiled.render({"detail": {"state": s}})) for s in states] == states
