"""ASP SDK for Python: a client and a server of the Adaptive Streaming Protocol, and its bench.

The classes (``Client``, ``Server``, the records and ``AspError``) come from the uniffi
bindings of the Rust library (``asp.py`` and ``libasp_ffi.so`` beside this file, written by
``build.sh``). This module adds the conveniences a script wants: defaults for the enum fields,
figures as dicts, a frame sink from a plain function, and ``bench`` returning its report as a
dict.
"""

import enum
import json

from .asp import *  # noqa: F401,F403  (the generated interface is this package's interface)
from .asp import (
    BenchConfig,
    CarrierChoice,
    Client,
    ClientConfig,
    Codec,
    EncoderPreset,
    FrameOptions,
    FrameSink,
    EventSink,
    Server,
    ServerConfig,
    run_bench,
)

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def frame_checksum(frame) -> int:
    """FNV-1a 64 over the frame's Y, U and V samples, in that order (what the test suites compare)."""
    h = FNV_OFFSET
    for plane in (frame.y, frame.u, frame.v):
        for b in plane:
            h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def as_dict(record):
    """A record (stats, event, frame metadata) as plain dicts, lists and numbers."""
    if isinstance(record, enum.Enum):
        return record.name.lower()
    if isinstance(record, (list, tuple)):
        return [as_dict(r) for r in record]
    if isinstance(record, (bytes, bytearray)):
        return len(record)
    if hasattr(record, "__dict__"):
        # The generated records set their fields in __init__ (their dataclass fields are empty).
        record = {k: v for k, v in vars(record).items() if not k.startswith("_")}
    if isinstance(record, dict):
        return {k: as_dict(v) for k, v in record.items()}
    return record


class FunctionSink(FrameSink):
    """A FrameSink that calls ``function(frame)`` on the SDK's decode thread."""

    def __init__(self, function):
        self._function = function

    def on_frame(self, frame):
        self._function(frame)


class FunctionEvents(EventSink):
    """An EventSink that calls ``function(event)``."""

    def __init__(self, function):
        self._function = function

    def on_event(self, event):
        self._function(event)


def server_config(**fields) -> ServerConfig:
    """A ServerConfig with H.264, veryfast unless given."""
    fields.setdefault("codec", Codec.H264)
    fields.setdefault("preset", EncoderPreset.VERYFAST)
    return ServerConfig(**fields)


def start_server(**fields) -> Server:
    """Starts a server (see ``server_config`` for the fields)."""
    return Server.start(server_config(**fields))


def connect(address, fingerprint, token, on_frame=None, on_event=None, carrier=CarrierChoice.AUTO,
            pixels=True, decode_queue=16) -> Client:
    """Connects a client; ``on_frame(frame)`` and ``on_event(event)`` run on SDK threads."""
    config = ClientConfig(address=address, fingerprint=fingerprint, token=token, carrier=carrier,
                          decode_queue=decode_queue)
    sink = FunctionSink(on_frame or (lambda _frame: None))
    events = FunctionEvents(on_event) if on_event else None
    return Client.connect(config, sink, events, FrameOptions(pixels=pixels))


def connect_to(server: Server, name="python", **options) -> Client:
    """Connects a client to a server started in this process."""
    token = server.issue_token(name, 3600)
    return connect(f"127.0.0.1:{server.port()}", server.fingerprint(), token, **options)


def bench(**fields) -> dict:
    """Runs one ``asp bench`` case and returns its report as a dict.

    Fields: source (office, video, 3d, idle or a .y4m path), network (lan, wan-40ms,
    lossy-5pct, 3mbit, variable, or a profile file), carrier (quic, tcp), width, height, fps,
    seconds, codec, preset, seed, vmaf, clicks_per_second, out_dir.
    """
    fields.setdefault("codec", Codec.H264)
    fields.setdefault("preset", EncoderPreset.VERYFAST)
    return json.loads(run_bench(BenchConfig(**fields)))
