"""CloudWatch metrics: one metric's datapoints over a time window."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from cwmcp.entrypoints.context import aws_client
from cwmcp.entrypoints.tools._common import (
    Account,
    EndTime,
    Region,
    StartTime,
    ToolSpec,
    iso,
    pages,
    window,
)
from cwmcp.entrypoints.tools.errors import mapped

STATISTIC = r"^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d{1,2})?)$"


class MetricData(TypedDict):
    """Datapoints oldest first: ``timestamps[i]`` (ISO 8601 UTC) goes with ``values[i]``."""

    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    statistic: str
    period: int
    label: str | None
    status: str
    timestamps: list[str]
    values: list[float]
    has_more: bool


@mapped
async def get_metric_data(
    namespace: Annotated[str, Field(min_length=1, description="Metric namespace, e.g. 'AWS/Lambda'.")],
    metric_name: Annotated[str, Field(min_length=1, description="Metric name, e.g. 'Errors'.")],
    dimensions: Annotated[
        dict[str, str] | None,
        Field(description="Dimension name -> value, e.g. {'FunctionName': 'my-fn'}; all must match."),
    ] = None,
    statistic: Annotated[
        str,
        Field(
            pattern=STATISTIC,
            description="Average, Sum, Minimum, Maximum, SampleCount or a percentile (p99).",
        ),
    ] = "Average",
    period: Annotated[
        int, Field(ge=1, le=86400, description="Seconds per datapoint: 1, 5, 10, 30 or a multiple of 60.")
    ] = 300,
    start_time: StartTime = None,
    end_time: EndTime = None,
    max_datapoints: Annotated[int, Field(ge=1, le=100800, description="Most datapoints to return.")] = 1440,
    region: Region = None,
    account: Account = None,
) -> MetricData:
    """Datapoints of one CloudWatch metric (one statistic per period) over a time window (default:
    the last 3 hours), as parallel lists of ISO 8601 timestamps and values, oldest first."""
    begin, stop = window(start_time, end_time, timedelta(hours=3))
    dims = dict(dimensions or {})
    client = await aws_client("cloudwatch", region, account)
    query: dict[str, Any] = {
        "Id": "m0",
        "ReturnData": True,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric_name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dims.items())],
            },
            "Period": period,
            "Stat": statistic,
        },
    }

    def count(page: dict[str, Any]) -> int:
        return sum(len(r.get("Values") or []) for r in page.get("MetricDataResults") or [])

    found, more = await pages(
        client,
        "get_metric_data",
        max_datapoints,
        count,
        cursor="NextToken",
        size_param="MaxDatapoints",
        size_cap=100800,
        MetricDataQueries=[query],
        StartTime=begin,
        EndTime=stop,
        ScanBy="TimestampAscending",
    )
    points: list[tuple[str, float]] = []
    label: str | None = None
    status = "Complete"
    for page in found:
        for result in page.get("MetricDataResults") or []:
            if result.get("Id") != "m0":
                continue
            label = label or result.get("Label")
            status = str(result.get("StatusCode") or status)
            stamps = [iso(t) or "" for t in result.get("Timestamps") or []]
            points.extend(zip(stamps, (float(v) for v in result.get("Values") or []), strict=False))
    points.sort()
    points = points[:max_datapoints]
    return {
        "namespace": namespace,
        "metric_name": metric_name,
        "dimensions": dims,
        "statistic": statistic,
        "period": period,
        "label": label,
        "status": status,
        "timestamps": [t for t, _ in points],
        "values": [v for _, v in points],
        "has_more": more,
    }


TOOLS = (ToolSpec(get_metric_data, "Get metric data"),)
