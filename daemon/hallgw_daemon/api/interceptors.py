"""The server interceptor chain: request context, one log line per RPC, errors mapped in one place."""

from __future__ import annotations

import contextvars
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from hallgw_daemon.api.errors import to_rpc_status
from hallgw_daemon.core.errors import DeadlineExceededError, GatewayError, InternalError
from hallgw_daemon.logging import get_logger

log = get_logger("hallgw_daemon.api")

Ctx = grpc.aio.ServicerContext[Any, Any]

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
peer_var: contextvars.ContextVar[str] = contextvars.ContextVar("peer", default="")


def _request_id(request: Any, context: Ctx) -> str:
    rid = getattr(request, "request_id", "")
    if not rid:
        rid = dict(context.invocation_metadata() or ()).get("x-request-id", "")
    return str(rid) or uuid.uuid4().hex


def _as_gateway_error(err: BaseException) -> GatewayError:
    if isinstance(err, GatewayError):
        return err
    if isinstance(err, TimeoutError):
        return DeadlineExceededError("the deadline passed before the operation finished")
    return InternalError("internal error in the gateway; it is logged with the request id")


async def _abort(context: Ctx, err: BaseException, method: str, rid: str, started: float) -> None:
    gerr = _as_gateway_error(err)
    if gerr is not err:
        log.error("rpc failed internally", method=method, request_id=rid, exc_info=err)
    status = to_rpc_status(gerr)
    log.info(
        "rpc",
        method=method,
        request_id=rid,
        peer=peer_var.get(),
        code=status.code.name,
        reason=gerr.reason,
        seconds=round(time.monotonic() - started, 4),
    )
    await context.abort(status.code, status.details, status.trailing_metadata)


class ServerInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps every handler: request id and peer into contextvars, a log line, error mapping."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        if handler is None:
            return handler
        method: str = details.method
        if method.startswith(("/grpc.health", "/grpc.reflection")):
            return handler
        if handler.unary_unary is not None:
            inner_uu = handler.unary_unary

            async def unary(request: Any, context: Ctx) -> Any:
                rid = _request_id(request, context)
                request_id_var.set(rid)
                peer_var.set(context.peer() or "")
                started = time.monotonic()
                try:
                    response = await inner_uu(request, context)  # type: ignore[arg-type]
                except Exception as err:
                    await _abort(context, err, method, rid, started)
                    raise  # pragma: no cover - abort raises
                log.info(
                    "rpc",
                    method=method,
                    request_id=rid,
                    peer=peer_var.get(),
                    code="OK",
                    seconds=round(time.monotonic() - started, 4),
                )
                return response

            return grpc.unary_unary_rpc_method_handler(
                unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            inner_us = handler.unary_stream

            async def stream(request: Any, context: Ctx) -> AsyncIterator[Any]:
                rid = _request_id(request, context)
                request_id_var.set(rid)
                peer_var.set(context.peer() or "")
                started = time.monotonic()
                log.info("rpc stream opened", method=method, request_id=rid, peer=peer_var.get())
                try:
                    async for item in inner_us(request, context):  # type: ignore[arg-type,attr-defined]
                        yield item
                except Exception as err:
                    await _abort(context, err, method, rid, started)
                finally:
                    log.info(
                        "rpc stream closed", method=method, request_id=rid, seconds=round(time.monotonic() - started, 4)
                    )

            return grpc.unary_stream_rpc_method_handler(
                stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
