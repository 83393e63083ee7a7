// The Kotlin binding end to end on loopback: a server and a client started from Kotlin, frames
// received and checked against what a Rust client saw, input sent and applied, figures read,
// errors typed, the suspend call awaited. Run by asp-ffi/tests/bindings.rs, which compiles this
// file with the generated bindings and sets ASP_TEST_* (scene size, seed) and ASP_EXPECT_* (the
// Rust client's first frame).

import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicReference
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking
import uniffi.asp.*

private var passed = 0
private var failed = 0

private fun test(name: String, body: () -> Unit) {
    try {
        body()
        passed++
        println("ok   $name")
    } catch (e: Throwable) {
        failed++
        println("FAIL $name: $e")
        e.printStackTrace(System.out)
    }
}

private fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

private inline fun <reified E : Throwable> assertThrows(body: () -> Unit) {
    try {
        body()
    } catch (e: Throwable) {
        if (e is E) return
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was thrown")
}

private fun waitUntil(seconds: Double = 20.0, predicate: () -> Boolean): Boolean {
    val deadline = System.nanoTime() + (seconds * 1e9).toLong()
    while (!predicate() && System.nanoTime() < deadline) Thread.sleep(20)
    return predicate()
}

private fun env(name: String, default: Long): Long = System.getenv(name)?.toLong() ?: default

/** FNV-1a 64 over Y, then U, then V (what every binding's test computes). */
fun checksum(frame: VideoFrame): ULong {
    var h = 0xcbf29ce484222325UL
    for (plane in listOf(frame.y, frame.u, frame.v))
        for (b in plane) {
            h = h xor (b.toUByte().toULong())
            h *= 0x100000001b3UL
        }
    return h
}

class FirstFrame : FrameSink {
    val first = AtomicReference<Pair<VideoFrame, ULong>?>(null)
    override fun onFrame(frame: VideoFrame) {
        if (first.get() == null) first.compareAndSet(null, Pair(frame, checksum(frame)))
    }
}

class Pointer : CursorSink {
    val updates = CopyOnWriteArrayList<CursorUpdate>()
    override fun onCursor(update: CursorUpdate) {
        updates.add(update)
    }
}

class Events : EventSink {
    val seen = CopyOnWriteArrayList<ClientEvent>()
    override fun onEvent(event: ClientEvent) {
        seen.add(event)
    }
}

fun startServer(): Server = Server.start(
    ServerConfig(
        width = env("ASP_TEST_WIDTH", 640).toUInt(),
        height = env("ASP_TEST_HEIGHT", 360).toUInt(),
        fps = env("ASP_TEST_FPS", 30).toUInt(),
        codec = Codec.H264,
        preset = EncoderPreset.VERYFAST,
        seed = System.getenv("ASP_TEST_SEED")?.toULong(),
        audio = "tone:1000",
    )
)

fun clientConfig(server: Server, token: String = server.issueToken("kotlin", 3600UL)) = ClientConfig(
    address = "127.0.0.1:${server.port()}",
    fingerprint = server.fingerprint(),
    token = token,
    carrier = CarrierChoice.QUIC,
)

fun main() {
    val server = startServer()

    test("frames, input and figures") {
        val sink = FirstFrame()
        val events = Events()
        val client = Client.connect(clientConfig(server), sink, events, null)
        val pointer = Pointer()
        client.setCursorSink(pointer)
        check(waitUntil { sink.first.get() != null }) { "no frame arrived" }
        val (frame, sum) = sink.first.get()!!
        val (w, h) = Pair(frame.width.toLong(), frame.height.toLong())
        check(w == env("ASP_TEST_WIDTH", 640) && h == env("ASP_TEST_HEIGHT", 360)) { "size ${w}x$h" }
        check(frame.y.size.toLong() == w * h && frame.u.size.toLong() == w * h / 4) { "plane sizes" }
        println("first_frame id=${frame.frameId} width=$w height=$h checksum=${sum.toString(16).padStart(16, '0')}")
        System.getenv("ASP_EXPECT_CHECKSUM")?.let { expected ->
            check(frame.frameId.toString() == System.getenv("ASP_EXPECT_FRAME_ID")) { "frame id ${frame.frameId}" }
            check(sum.toString(16).padStart(16, '0') == expected) { "checksum differs from the Rust client's" }
        }
        val seqs = listOf(
            client.sendKey(0x61u, true), client.sendKey(0x61u, false), client.sendPointer(100u, 80u),
            client.sendButton(1u, true), client.sendButton(1u, false), client.sendWheel(0, 1),
        )
        check(seqs == (1UL..6UL).toList()) { "sequence numbers $seqs" }
        assertThrows<AspException.InvalidArgument> { client.sendButton(9u, true) }
        check(waitUntil { server.stats().clients.firstOrNull()?.inputEvents?.let { it >= 6UL } == true }) {
            "the server applied ${server.stats().clients.firstOrNull()?.inputEvents} events"
        }
        check(waitUntil { client.stats().clickToPhoton.count > 0UL }) { "no click-to-photon sample" }
        check(waitUntil { pointer.updates.lastOrNull()?.let { it.x == 100 && it.y == 80 } == true }) {
            "the pointer is at ${pointer.updates.lastOrNull()}"
        }
        check(pointer.updates.count { it.image != null } == 1) { "one shape, sent once" }
        val stats = client.stats()
        println("client stats: frames shown ${stats.framesShown}, glass-to-glass p50 ${stats.glassToGlass.p50} ms, " +
            "click-to-photon p50 ${stats.clickToPhoton.p50} ms")
        check(stats.inputsSent == 6UL && stats.glassToGlass.count > 0UL) { "$stats" }
        client.stop()
        assertThrows<AspException.Ended> { client.sendKey(0x61u, true) }
        check(events.seen.first() == ClientEvent.Connected("quic")) { "events ${events.seen}" }
        check(events.seen.last() == ClientEvent.Ended) { "events ${events.seen}" }
        client.close()
    }

    test("suspend wait for frames") {
        val client = Client.connect(clientConfig(server), FirstFrame(), null, FrameOptions(pixels = false))
        val shown = runBlocking { client.waitForFrames(10UL, 20_000UL) }
        check(shown >= 10UL) { "$shown frames" }
        client.stop()
        client.close()
    }

    test("audio both ways and the clipboard") {
        val frames = CopyOnWriteArrayList<AudioFrame>()
        val client = Client.connect(clientConfig(server), FirstFrame(), null, FrameOptions(pixels = false))
        client.setAudioSink(object : AudioSink {
            override fun onAudio(frame: AudioFrame) {
                frames.add(frame)
            }
        })
        // A second of a 600 Hz tone (silence, or a constant, would be skipped by Opus as silence).
        client.startMicrophone(1u).push(List(48000) { (8000 * kotlin.math.sin(2 * Math.PI * 600 * it / 48000)).toInt().toShort() })
        client.copy(ClipboardData.Text("copied from Kotlin"))
        check(waitUntil { frames.size >= 50 }) { "${frames.size} audio frames" }
        check(frames.takeLast(20).maxOf { f -> f.samples.maxOf { kotlin.math.abs(it.toInt()) } } > 4000) { "the tone is heard" }
        check(waitUntil { server.stats().clients.last().clipboardReceived == 1UL }) { "the copy reached the server" }
        check(waitUntil { server.stats().clients.last().microphoneFramesPlayed > 0UL }) { "the microphone reached the server" }
        check(waitUntil { client.stats().audioLatency.count > 0UL }) { "audio latency measured" }
        println("audio: latency p50 ${client.stats().audioLatency.p50} ms")
        client.stop()
        client.close()
    }

    test("errors are typed") {
        assertThrows<AspException.Connect> { Client.connect(clientConfig(server, "not-a-token"), FirstFrame(), null, null) }
        assertThrows<AspException.InvalidArgument> {
            Server.start(ServerConfig(width = 63u, codec = Codec.H264, preset = EncoderPreset.VERYFAST))
        }
        assertThrows<AspException.Server> {
            Server.start(ServerConfig(source = "synth:nonsense", codec = Codec.H264, preset = EncoderPreset.VERYFAST))
        }
    }

    test("server events") {
        val seen = mutableListOf<ServerEvent>()
        while (true) {
            val event = server.nextEvent(2000UL) ?: break
            seen.add(event)
        }
        check(seen.any { it is ServerEvent.Connected && it.name == "kotlin" }) { "$seen" }
        check(seen.any { it is ServerEvent.Left && it.framesEncoded > 0UL }) { "$seen" }
        check(seen.any { it is ServerEvent.Refused }) { "$seen" }
    }

    server.stop()
    server.close()
    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
