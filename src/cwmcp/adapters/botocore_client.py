"""An ``AwsClient`` over a botocore client: every call runs in a worker thread, errors become ours.

botocore is blocking, so each call goes through ``anyio.to_thread.run_sync`` with the factory's
shared ``CapacityLimiter``. Failures become ``AwsCallError`` (AWS said no) or
``ProviderUnavailable`` (AWS could not be reached); messages never carry a secret.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import anyio.to_thread
from botocore import xform_name
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    OperationNotPageableError,
    ParamValidationError,
    PartialCredentialsError,
)

from cwmcp.domain.errors import AwsCallError, ProviderUnavailable

_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)
_XML_CODE = re.compile(r"<Code>(.*?)</Code>", re.DOTALL)


class AwsServiceError(AwsCallError):
    """``AwsCallError`` plus the HTTP status, so brokers can tell a refusal from an outage."""

    def __init__(self, code: str, message: str, operation: str = "", status: int | None = None) -> None:
        super().__init__(code, message, operation)
        self.status = status


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def map_client_error(exc: ClientError, operation: str, secrets: Iterable[str] = ()) -> AwsServiceError:
    """A botocore ``ClientError`` as ``AwsServiceError``.

    moto answers a denied CloudWatch (CBOR) call with XML that botocore cannot parse: the code is
    then ``"403"`` and the message raw XML, so HTTP 403 with a numeric code becomes ``AccessDenied``.
    """
    error = exc.response.get("Error", {}) or {}
    meta = exc.response.get("ResponseMetadata", {}) or {}
    status = meta.get("HTTPStatusCode")
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or "")
    if message.lstrip().startswith("<"):
        found_code, found_msg = _XML_CODE.search(message), _XML_MESSAGE.search(message)
        if found_code and not code.isalpha():
            code = found_code.group(1).strip()
        message = found_msg.group(1).strip() if found_msg else ""
    if status == 403 and (code.isdigit() or code in ("AccessDeniedException", "Unknown")):
        code = "AccessDenied"
    if not message:
        message = "Access denied" if code == "AccessDenied" else f"{operation} failed"
    return AwsServiceError(code, _redact(message, secrets)[:1000], operation, status)


def map_error(exc: Exception, service: str, operation: str, secrets: Iterable[str] = ()) -> Exception:
    """Any botocore failure as one of our errors (``AwsCallError`` or ``ProviderUnavailable``)."""
    if isinstance(exc, ClientError):
        return map_client_error(exc, operation, secrets)
    if isinstance(exc, ConnectionError | HTTPClientError):
        return ProviderUnavailable(f"AWS {service} endpoint unreachable")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AwsCallError("NoCredentials", "No AWS credentials are available for this call", operation)
    if isinstance(exc, NoRegionError):
        return AwsCallError("NoRegion", "No AWS region is configured", operation)
    if isinstance(exc, ParamValidationError):
        return AwsCallError("ValidationError", _redact(str(exc), secrets), operation)
    if isinstance(exc, OperationNotPageableError):
        return AwsCallError("InvalidOperation", f"{operation} cannot be paginated", operation)
    if isinstance(exc, BotoCoreError):
        return AwsCallError(type(exc).__name__, _redact(str(exc), secrets)[:500], operation)
    return exc


class BotocoreClient:
    """Implements ``AwsClient``: ``await c.call("DescribeLogGroups", limit=5)`` or
    ``await c.describe_log_groups(limit=5)``. ``raw`` is the botocore client (blocking: use it only
    from a worker thread)."""

    def __init__(
        self,
        raw: Any,
        service: str,
        region: str,
        limiter: anyio.CapacityLimiter,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.raw = raw
        self.service = service
        self.region = region
        self._limiter = limiter
        self._secrets = secrets

    def __repr__(self) -> str:
        return f"BotocoreClient(service={self.service!r}, region={self.region!r})"

    def method_name(self, operation: str) -> str:
        """``DescribeLogGroups`` or ``describe_log_groups`` -> ``describe_log_groups``."""
        name = operation if operation in self.raw.meta.method_to_api_mapping else xform_name(operation)
        if name not in self.raw.meta.method_to_api_mapping:
            raise AwsCallError("InvalidOperation", f"{self.service} has no operation {operation}", operation)
        return name

    async def _run(self, operation: str, fn: Callable[[], Any]) -> Any:
        try:
            return await anyio.to_thread.run_sync(fn, limiter=self._limiter, abandon_on_cancel=True)
        except Exception as exc:
            mapped = map_error(exc, self.service, operation, self._secrets)
            if mapped is exc:
                raise
            raise mapped from None

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        name = self.method_name(operation)
        method = getattr(self.raw, name)
        result: dict[str, Any] = await self._run(name, functools.partial(method, **params))
        return result

    def __getattr__(self, name: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        if name.startswith("_") or name not in self.raw.meta.method_to_api_mapping:
            raise AttributeError(name)
        return functools.partial(self.call, name)

    async def paginate(
        self, operation: str, max_items: int | None = None, **params: Any
    ) -> list[dict[str, Any]]:
        """Every page of ``operation``, stopping once ``max_items`` result items were read."""
        name = self.method_name(operation)

        def pages() -> list[dict[str, Any]]:
            config = {"MaxItems": max_items} if max_items is not None else {}
            paginator = self.raw.get_paginator(name)
            return [dict(p) for p in paginator.paginate(PaginationConfig=config, **params)]

        result: list[dict[str, Any]] = await self._run(name, pages)
        return result

    async def paginate_items(self, operation: str, max_items: int | None = None, **params: Any) -> list[Any]:
        """The result items of every page (e.g. ``logGroups``), at most ``max_items`` of them."""
        name = self.method_name(operation)

        def items() -> list[Any]:
            config = {"MaxItems": max_items} if max_items is not None else {}
            iterator = self.raw.get_paginator(name).paginate(PaginationConfig=config, **params)
            keys = [k.expression for k in iterator.result_keys]
            found: list[Any] = []
            for page in iterator:
                for key in keys:
                    found.extend(page.get(key, []))
            return found[:max_items] if max_items is not None else found

        result: list[Any] = await self._run(name, items)
        return result
