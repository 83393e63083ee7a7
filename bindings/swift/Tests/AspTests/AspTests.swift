// The Swift binding end to end on loopback, as the Kotlin and Python tests do it: a server and
// a client started from Swift, frames received and checked, input sent and applied, figures
// read, errors typed. Needs a Swift toolchain (`swift test` in bindings/swift).

import Foundation
import XCTest

@testable import Asp

/// FNV-1a 64 over Y, then U, then V (what every binding's test computes).
func checksum(_ frame: VideoFrame) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for plane in [frame.y, frame.u, frame.v] {
        for b in plane {
            h ^= UInt64(b)
            h = h &* 0x0100_0000_01b3
        }
    }
    return h
}

final class FirstFrame: FrameSink, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var first: (VideoFrame, UInt64)?

    func onFrame(frame: VideoFrame) {
        lock.lock()
        defer { lock.unlock() }
        if first == nil { first = (frame, checksum(frame)) }
    }

    var seen: (VideoFrame, UInt64)? {
        lock.lock()
        defer { lock.unlock() }
        return first
    }
}

func waitUntil(_ seconds: Double = 20, _ predicate: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !predicate() && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    return predicate()
}

func env(_ name: String, _ fallback: UInt32) -> UInt32 {
    ProcessInfo.processInfo.environment[name].flatMap { UInt32($0) } ?? fallback
}

final class AspTests: XCTestCase {
    func startServer() throws -> Server {
        let seed = ProcessInfo.processInfo.environment["ASP_TEST_SEED"].flatMap { UInt64($0) }
        return try Server.start(config: ServerConfig(
            width: env("ASP_TEST_WIDTH", 640), height: env("ASP_TEST_HEIGHT", 360), fps: env("ASP_TEST_FPS", 30),
            codec: .h264, preset: .veryfast, seed: seed))
    }

    func config(_ server: Server, token: String? = nil) throws -> ClientConfig {
        ClientConfig(
            address: "127.0.0.1:\(server.port())", fingerprint: server.fingerprint(),
            token: try token ?? server.issueToken(name: "swift", validSeconds: 3600), carrier: .quic)
    }

    func testFramesInputAndFigures() throws {
        let server = try startServer()
        let sink = FirstFrame()
        let client = try Client.connect(config: try config(server), sink: sink, events: nil, options: nil)
        XCTAssertTrue(waitUntil { sink.seen != nil }, "no frame arrived")
        let (frame, sum) = sink.seen!
        XCTAssertEqual(frame.width, env("ASP_TEST_WIDTH", 640))
        XCTAssertEqual(frame.height, env("ASP_TEST_HEIGHT", 360))
        XCTAssertEqual(frame.y.count, Int(frame.width * frame.height))
        if let expected = ProcessInfo.processInfo.environment["ASP_EXPECT_CHECKSUM"] {
            XCTAssertEqual(String(format: "%016llx", sum), expected)
        }
        XCTAssertEqual(try client.sendKey(keysym: 0x61, down: true), 1)
        XCTAssertEqual(try client.sendKey(keysym: 0x61, down: false), 2)
        XCTAssertThrowsError(try client.sendButton(button: 9, down: true))
        XCTAssertTrue(waitUntil { (server.stats().clients.first?.inputEvents ?? 0) >= 2 })
        XCTAssertGreaterThan(client.stats().framesShown, 0)
        _ = try client.stop()
        XCTAssertThrowsError(try client.sendKey(keysym: 0x61, down: true))
        _ = try server.stop()
    }

    func testBadTokenIsRefused() throws {
        let server = try startServer()
        XCTAssertThrowsError(
            try Client.connect(config: try config(server, token: "not-a-token"), sink: FirstFrame(), events: nil, options: nil))
        _ = try server.stop()
    }
}
