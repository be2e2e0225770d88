"""Gradio callbacks that fail kindly: ZeroGPU wrapping, library errors as gr.Error, a readable 422."""

from __future__ import annotations

import functools
import inspect
from typing import Callable

from ..library import NotAllowed


def gpu(fn: Callable, duration: int | None = None) -> Callable:
    """`spaces.GPU(fn)` when the `spaces` package is importable (a no-op off ZeroGPU), else `fn`."""
    try:
        import spaces
    except Exception:  # not installed or broken: run on whatever device the lab uses
        return fn
    try:
        return spaces.GPU(duration=duration)(fn) if duration else spaces.GPU(fn)
    except Exception:
        return fn


USER_ERRORS = (ValueError, TypeError, OSError)


async def malformed_request(request, exc):
    """A 422 naming what is wrong with a request body that is not the JSON the API expects. (FastAPI's
    default handler echoes the raw body, and fails with a 500 when that body is not valid UTF-8.)"""
    from fastapi.responses import JSONResponse

    problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
    return JSONResponse({"error": "malformed request: send JSON like {\"data\": [...]}", "problems": problems[:10]}, status_code=422)


def user_errors(fn: Callable) -> Callable:
    """Turn the library's ValueError / TypeError (bad input) and OSError (missing files, full or read-only
    disk) into gr.Error: a visible message, not a crash.

    Works for plain and generator functions; the wrapper keeps `fn`'s signature so Gradio still injects
    gr.Progress / gr.Request arguments."""
    import gradio as gr

    def convert(err: Exception) -> Exception:
        if isinstance(err, NotAllowed):
            title = "Not allowed"
        elif isinstance(err, (ValueError, TypeError)):
            title = "Invalid input"
        elif isinstance(err, FileNotFoundError):
            title = "Not found"
        else:
            title = "Could not write files"
        return gr.Error(str(err), title=title, print_exception=False)

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except USER_ERRORS as err:
                raise convert(err) from err

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as err:
            raise convert(err) from err

    return wrapper
