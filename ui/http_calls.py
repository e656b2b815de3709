"""The checks on an API call's body before Gradio reads it: it must parse as JSON nested at most
:data:`MAX_JSON_DEPTH` deep, name a function the app has, and carry every input value the function takes (the
defaults of a ``gr.api`` function's missing optional parameters are added); a method whose object has
``check_call(values) -> reason | None`` is asked too. Each refusal is a :class:`~ui.http_asgi._Refused`."""

from __future__ import annotations

import inspect
import json
import logging
import re
from typing import Any

from ui.http_asgi import Scope, _Refused

__all__ = ["MAX_JSON_DEPTH"]

log = logging.getLogger("ui.http_guard")  # the guard's log lines keep the logger name they always had

MAX_JSON_DEPTH = 32  # lists and objects in a call's body; the app's calls need 4 (the chat's history)
_CALL = re.compile(r"^/gradio_api/(?:queue/join|(?:call/v2|call|run|api)/(?P<name>[^/]+))/?$")


def _checked_call(scope: Scope, api_name: str | None, body: bytes) -> bytes:
    """The call's body, with the defaults of missing optional ``gr.api`` arguments added; refuses bad calls."""
    payload = _parsed(body)
    gradio = scope.get("app")
    if not isinstance(payload, dict) or gradio is None or getattr(gradio, "blocks", None) is None:
        return body
    fns = gradio.get_blocks().fns  # this app has no gr.render: every session has the same functions
    fn_index = payload.get("fn_index")
    if fn_index is not None:
        if isinstance(fn_index, bool) or not isinstance(fn_index, int) or fn_index not in fns:
            raise _Refused(422, f"this app has no function with fn_index {str(fn_index)[:20]}")
        fn = fns[fn_index]
    elif api_name is not None:
        fn = next((f for f in fns.values() if f.api_name == api_name), None)
        if fn is None:
            return body  # Gradio answers an unknown API name itself
    else:
        return body
    data = payload.get("data")
    if not isinstance(data, list):
        return body
    if len(data) < len(fn.inputs):
        missing = _optional_defaults(fn, len(data))
        name = fn.api_name or fn.name or "this function"
        if missing is None:
            raise _Refused(422, f"{name} takes {len(fn.inputs)} input values, got {len(data)}")
        payload["data"] = data = data + missing
        body = json.dumps(payload).encode()
    check = getattr(getattr(fn.fn, "__self__", None), "check_call", None)  # e.g. ui.api.AskApi.check_call
    reason = check(data) if callable(check) else None
    if reason:
        raise _Refused(400, reason)
    return body


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                break
            stack.extend((v, level + 1) for v in item if isinstance(v, (list, dict)))
    return deepest


def _parsed(body: bytes) -> Any:
    """The JSON of a call's body; a body that does not parse (not JSON, not UTF-8, nested too deeply for any call
    of this app) is refused with 422 and one log line, never handed to Gradio (whose parser answers 500 with a
    traceback to some of them)."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: thousands of "[" in a row
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "not valid JSON"
        log.warning("refused an API call of %d bytes: its body is %s", len(body), reason)
        raise _Refused(422, f"the request body is {reason}: send a JSON object such as "
                            '{"data": ["question"]}') from None
    if _depth(payload) > MAX_JSON_DEPTH:
        log.warning("refused an API call of %d bytes: its body is nested too deeply", len(body))
        raise _Refused(422, f"the request body is nested too deeply (more than {MAX_JSON_DEPTH} levels): send a "
                            'JSON object such as {"data": ["question"]}')
    return payload


def _optional_defaults(fn: Any, given: int) -> list[Any] | None:
    """Defaults of the inputs after the first ``given`` of a ``gr.api`` function, or ``None`` if one has none."""
    if not fn.inputs or any(type(b).__name__ != "Api" for b in fn.inputs) or fn.fn is None:
        return None
    try:
        params = [p for p in inspect.signature(fn.fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return None
    wanted = params[given:len(fn.inputs)]
    if len(wanted) != len(fn.inputs) - given or any(p.default is p.empty for p in wanted):
        return None
    defaults = [p.default for p in wanted]
    try:
        json.dumps(defaults)
    except (TypeError, ValueError):
        return None
    return defaults

