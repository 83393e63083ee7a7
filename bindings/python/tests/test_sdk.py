"""The Python binding end to end on loopback: a server and a client started from Python,
frames received and checked against what a Rust client saw, input sent and applied, figures
read, errors typed, and a bench run returned as a dict.

Run by the Rust test suite (asp-ffi/tests/bindings.rs), which builds the package and sets
ASP_TEST_* (the server's scene size and seed) and ASP_EXPECT_* (the Rust client's first frame).
"""

import asyncio
import math
import os
import threading
import time

import pytest

import asp_sdk
from asp_sdk import AspError, CarrierChoice, ClientEvent, ServerEvent


def env_int(name, default):
    return int(os.environ.get(name, default))


@pytest.fixture
def server():
    seed = os.environ.get("ASP_TEST_SEED")
    s = asp_sdk.start_server(
        width=env_int("ASP_TEST_WIDTH", 640),
        height=env_int("ASP_TEST_HEIGHT", 360),
        fps=env_int("ASP_TEST_FPS", 30),
        seed=int(seed) if seed is not None else None,
        audio="tone:1000",
    )
    yield s
    s.stop()


def wait_until(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


def test_frames_input_and_stats(server):
    frames = []
    events = []
    lock = threading.Lock()

    def on_frame(frame):
        with lock:
            if not frames:
                frames.append((frame.frame_id, frame.width, frame.height, asp_sdk.frame_checksum(frame),
                               len(frame.y), len(frame.u), len(frame.v)))

    client = asp_sdk.connect_to(server, on_frame=on_frame, on_event=events.append, carrier=CarrierChoice.QUIC)
    assert client.carrier() == "quic"
    cursor = []

    class Pointer(asp_sdk.CursorSink):
        def on_cursor(self, update):
            cursor.append(update)

    client.set_cursor_sink(Pointer())
    assert wait_until(lambda: frames), "no frame arrived"
    frame_id, width, height, checksum, y, u, v = frames[0]
    assert (width, height) == (env_int("ASP_TEST_WIDTH", 640), env_int("ASP_TEST_HEIGHT", 360))
    assert (y, u, v) == (width * height, width * height // 4, width * height // 4)
    print(f"first_frame id={frame_id} width={width} height={height} checksum={checksum:016x}")
    if "ASP_EXPECT_CHECKSUM" in os.environ:
        assert frame_id == int(os.environ["ASP_EXPECT_FRAME_ID"])
        assert f"{checksum:016x}" == os.environ["ASP_EXPECT_CHECKSUM"]

    seqs = [client.send_key(0x61, True), client.send_key(0x61, False), client.send_pointer(100, 80),
            client.send_button(1, True), client.send_button(1, False), client.send_wheel(0, 1)]
    assert seqs == list(range(1, 7))
    with pytest.raises(AspError.InvalidArgument):
        client.send_button(9, True)

    def applied():
        clients = server.stats().clients
        return clients and clients[0].input_events >= 6
    assert wait_until(applied), asp_sdk.as_dict(server.stats())
    assert wait_until(lambda: client.stats().click_to_photon.count > 0)

    # The pointer followed the move apart from the picture; its shape came once.
    assert wait_until(lambda: cursor and (cursor[-1].x, cursor[-1].y) == (100, 80)), cursor[-1:]
    images = [u.image for u in cursor if u.image is not None]
    assert len(images) == 1 and len(images[0].rgba) == images[0].width * images[0].height * 4

    stats = asp_sdk.as_dict(client.stats())
    assert stats["frames_shown"] > 0 and stats["inputs_sent"] == 6
    assert stats["cursor_shapes"] == 1 and stats["cursor_updates"] >= 2
    assert stats["glass_to_glass"]["count"] > 0
    print("client stats:", stats)
    final = client.stop()
    assert final.frames_shown >= stats["frames_shown"]
    with pytest.raises(AspError.Ended):
        client.send_key(0x61, True)
    assert isinstance(events[0], ClientEvent.CONNECTED) and events[0].carrier == "quic"
    assert isinstance(events[-1], ClientEvent.ENDED)

    seen = []
    while (event := server.next_event(2000)) is not None:
        seen.append(event)
        if isinstance(event, ServerEvent.LEFT):
            break
    assert any(isinstance(e, ServerEvent.CONNECTED) and e.name == "python" for e in seen), seen
    assert isinstance(seen[-1], ServerEvent.LEFT) and seen[-1].frames_encoded > 0, seen


def test_async_wait_and_metadata_only_frames(server):
    sizes = []
    client = asp_sdk.connect_to(server, on_frame=lambda f: sizes.append(len(f.y)), pixels=False)
    shown = asyncio.run(client.wait_for_frames(10, 20000))
    assert shown >= 10
    assert sizes and all(n == 0 for n in sizes)
    client.stop()


def test_errors_are_typed(server):
    with pytest.raises(AspError.Connect):
        asp_sdk.connect(f"127.0.0.1:{server.port()}", server.fingerprint(), "not-a-token",
                        carrier=CarrierChoice.QUIC)
    with pytest.raises(AspError.InvalidArgument):
        asp_sdk.connect("127.0.0.1:1", "12ab", "t")
    with pytest.raises(AspError.InvalidArgument):
        asp_sdk.start_server(width=63)
    with pytest.raises(AspError.Server):
        asp_sdk.start_server(source="synth:nonsense")
    client = asp_sdk.connect_to(server)
    with pytest.raises(AspError.InvalidArgument):
        client.start_microphone(3)
    client.stop()
    assert wait_until(lambda: server.stats().clients_refused >= 1)


def test_bench_returns_a_dict(tmp_path):
    report = asp_sdk.bench(source="office", network="lan", width=320, height=240, fps=30, seconds=1.5,
                           out_dir=str(tmp_path))
    assert report["scene"] == "office" and report["network"] == "lan" and report["carrier"] == "quic"
    assert report["frames"]["shown"] > 0
    assert report["glass_to_glass_ms"]["count"] > 0
    assert report["bitrate_kbps"]["mean"] > 0
    print("bench:", {k: report[k] for k in ("frames", "bitrate_kbps", "glass_to_glass_ms")})


def test_audio_both_ways_and_the_clipboard(server):
    frames = []

    class Speaker(asp_sdk.AudioSink):
        def on_audio(self, frame):
            frames.append(frame)

    client = asp_sdk.connect_to(server)
    client.set_audio_sink(Speaker())
    microphone = client.start_microphone(1)
    # A second of a 600 Hz tone (silence, or a constant, would be skipped by Opus as silence).
    microphone.push([int(8000 * math.sin(2 * math.pi * 600 * i / 48000)) for i in range(48000)])
    client.copy(asp_sdk.ClipboardData.TEXT(text="copied from Python"))
    assert wait_until(lambda: len(frames) >= 50), f"{len(frames)} audio frames"
    assert frames[-1].sample_rate == 48000 and frames[-1].channels == 2
    assert max(abs(s) for f in frames[-20:] for s in f.samples) > 4000, "the 1 kHz tone is heard"
    assert wait_until(lambda: server.stats().clients[-1].clipboard_received == 1)
    assert wait_until(lambda: server.stats().clients[-1].microphone_frames_played > 0)
    stats = client.stats()
    assert stats.audio_frames_played >= 25 and stats.audio_latency.count > 0, stats.audio_error
    assert stats.clipboard_sent == 1 and stats.microphone_packets_sent > 0
    print(f"audio: latency p50 {stats.audio_latency.p50:.1f} ms over {stats.audio_frames_played} frames")
    client.stop()
