//! QUIC on loopback, and carrier selection: QUIC when it answers, TCP when UDP does not.

use std::time::Duration;

use asp_core::{ChannelConfig, ChannelKind, Event, SessionConfig};
use asp_transport::identity::ServerIdentity;
use asp_transport::quic::QuicServer;
use asp_transport::select::{self, Carrier, ServerAddrs};
use asp_transport::tcp::TcpServer;
use asp_transport::token::TokenKey;
use asp_transport::{ConnectError, quic};
use bytes::Bytes;

const SECRET: [u8; 32] = [3; 32];

fn token() -> String {
    TokenKey::new(&SECRET).issue("viewer", u64::MAX / 2)
}

#[tokio::test]
async fn messages_and_frames_flow_over_quic_datagrams() {
    let identity = ServerIdentity::generate(&["localhost"]).unwrap();
    let server =
        QuicServer::bind("127.0.0.1:0".parse().unwrap(), &identity, TokenKey::new(&SECRET), SessionConfig::default())
            .unwrap();
    let addr = server.local_addr().unwrap();
    let accepted = tokio::spawn(async move {
        let r = server.accept().await;
        (r, server)
    });
    let mut client = quic::connect(addr, identity.fingerprint(), &token(), SessionConfig::default()).await.unwrap();
    let (accepted, _server) = accepted.await.unwrap();
    let (mut server_conn, name) = accepted.unwrap();
    assert_eq!(name, "viewer");

    let input = client.open_channel(ChannelConfig::for_kind(ChannelKind::Input)).await.unwrap().unwrap();
    for i in 0..100u32 {
        client.send(input, Bytes::from(i.to_be_bytes().to_vec()), None).await.unwrap().unwrap();
    }
    let display = server_conn.open_channel(ChannelConfig::for_kind(ChannelKind::Display)).await.unwrap().unwrap();
    let frame = Bytes::from(vec![1u8; 100_000]);
    // The open must be acknowledged before frames flow; the deadline leaves time for it.
    server_conn.send(display, frame.clone(), Some(Duration::from_secs(2))).await.unwrap().unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < 100 {
        if let Event::Message { data, .. } =
            tokio::time::timeout_at(deadline, server_conn.next_event()).await.unwrap().unwrap()
        {
            got.push(u32::from_be_bytes(data[..].try_into().unwrap()));
        }
    }
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    loop {
        if let Event::Message { channel, data, .. } =
            tokio::time::timeout_at(deadline, client.next_event()).await.unwrap().unwrap()
        {
            assert_eq!((channel, data), (display, frame));
            break;
        }
    }
}

#[tokio::test]
async fn quic_refusals_are_told_apart() {
    let identity = ServerIdentity::generate(&["localhost"]).unwrap();
    let server =
        QuicServer::bind("127.0.0.1:0".parse().unwrap(), &identity, TokenKey::new(&SECRET), SessionConfig::default())
            .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let _ = server.accept().await;
        }
    });
    let other = ServerIdentity::generate(&["localhost"]).unwrap();
    let err = quic::connect(addr, other.fingerprint(), &token(), SessionConfig::default()).await.unwrap_err();
    assert!(matches!(err, ConnectError::CertificateMismatch), "{err}");
    let forged = TokenKey::new(&[4; 32]).issue("viewer", u64::MAX / 2);
    let err = quic::connect(addr, identity.fingerprint(), &forged, SessionConfig::default()).await.unwrap_err();
    assert!(matches!(err, ConnectError::Unauthorized(ref r) if r.contains("signature")), "{err}");
}

#[tokio::test]
async fn selection_prefers_quic_and_falls_back_to_tcp_when_udp_gets_no_answer() {
    let identity = ServerIdentity::generate(&["localhost"]).unwrap();
    let tcp =
        TcpServer::bind("127.0.0.1:0".parse().unwrap(), &identity, TokenKey::new(&SECRET), SessionConfig::default())
            .await
            .unwrap();
    let tcp_addr = tcp.local_addr().unwrap();
    tokio::spawn(async move {
        // Keep what was accepted: dropping a connection closes its session.
        let mut kept = Vec::new();
        loop {
            kept.push(tcp.accept().await);
        }
    });
    // A UDP socket that never answers stands for a network that drops UDP.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addrs = ServerAddrs { quic: silent.local_addr().unwrap(), tcp: tcp_addr };
    let (_conn, carrier) =
        select::connect(addrs, identity.fingerprint(), &token(), SessionConfig::default()).await.unwrap();
    assert_eq!(carrier, Carrier::Tcp);

    // With a QUIC server there, QUIC wins.
    let quic_server =
        QuicServer::bind("127.0.0.1:0".parse().unwrap(), &identity, TokenKey::new(&SECRET), SessionConfig::default())
            .unwrap();
    let addrs = ServerAddrs { quic: quic_server.local_addr().unwrap(), tcp: tcp_addr };
    tokio::spawn(async move {
        let mut kept = Vec::new();
        loop {
            kept.push(quic_server.accept().await);
        }
    });
    let (_conn, carrier) =
        select::connect(addrs, identity.fingerprint(), &token(), SessionConfig::default()).await.unwrap();
    assert_eq!(carrier, Carrier::Quic);
}
