"""A server and a client in one Python process: frames, input, figures, then a bench case."""
import asyncio

import asp_sdk

server = asp_sdk.start_server(width=1280, height=720)  # synthetic office scene on 127.0.0.1
client = asp_sdk.connect_to(server, on_frame=lambda frame: None)  # frame.y/u/v: the planes
client.send_key(0x61, True)  # 'a', by X11 keysym
client.send_key(0x61, False)
asyncio.run(client.wait_for_frames(30, 10_000))
print("glass-to-glass", asp_sdk.as_dict(client.stats())["glass_to_glass"])
client.stop()
server.stop()

report = asp_sdk.bench(source="office", network="wan-40ms", seconds=2)  # a dict
print("bench click-to-photon p50", report["click_to_photon_ms"]["p50"], "ms")
