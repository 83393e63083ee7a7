// A server and a client in one Kotlin program: frames, input, figures.
import kotlinx.coroutines.runBlocking
import uniffi.asp.*

fun main() {
    val server = Server.start(ServerConfig(codec = Codec.H264, preset = EncoderPreset.VERYFAST))
    val config = ClientConfig(
        address = "127.0.0.1:${server.port()}", fingerprint = server.fingerprint(),
        token = server.issueToken("kotlin", 3600UL), carrier = CarrierChoice.AUTO,
    )
    val sink = object : FrameSink {
        override fun onFrame(frame: VideoFrame) {} // frame.y, .u, .v: the planes
    }
    val client = Client.connect(config, sink, null, null)
    client.sendKey(0x61u, true) // 'a', by X11 keysym
    client.sendKey(0x61u, false)
    runBlocking { client.waitForFrames(30UL, 10_000UL) }
    println("glass-to-glass p50 ${client.stats().glassToGlass.p50} ms")
    client.stop()
    server.stop()
}
