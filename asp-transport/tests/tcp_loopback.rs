//! TLS over TCP on loopback: a real handshake, messages both ways, and the refusals a client
//! must be able to tell apart (wrong certificate, bad token, expired token).

use std::time::Duration;

use asp_core::{ChannelConfig, ChannelKind, Event, SessionConfig};
use asp_transport::identity::ServerIdentity;
use asp_transport::tcp::{self, TcpServer};
use asp_transport::token::{TokenError, TokenKey};
use asp_transport::{AcceptError, ConnectError};
use bytes::Bytes;

const SECRET: [u8; 32] = [9; 32];

async fn server(identity: &ServerIdentity) -> TcpServer {
    TcpServer::bind("127.0.0.1:0".parse().unwrap(), identity, TokenKey::new(&SECRET), SessionConfig::default())
        .await
        .unwrap()
}

fn far_future() -> u64 {
    u64::MAX / 2
}

#[tokio::test]
async fn messages_and_frames_flow_both_ways_in_order() {
    let identity = ServerIdentity::generate(&["localhost"]).unwrap();
    let server = server(&identity).await;
    let addr = server.local_addr().unwrap();
    let token = TokenKey::new(&SECRET).issue("viewer-1", far_future());
    let accepted = tokio::spawn(async move { server.accept().await });
    let client = tcp::connect(addr, identity.fingerprint(), &token, SessionConfig::default()).await.unwrap();
    let (mut server_conn, name) = accepted.await.unwrap().unwrap();
    assert_eq!(name, "viewer-1");

    let input = client.open_channel(ChannelConfig::for_kind(ChannelKind::Input)).await.unwrap().unwrap();
    for i in 0..200u32 {
        client.send(input, Bytes::from(i.to_be_bytes().to_vec()), None).await.unwrap().unwrap();
    }
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.len() < 200 {
        let event = tokio::time::timeout_at(deadline, server_conn.next_event()).await.expect("in time").expect("open");
        if let Event::Message { data, .. } = event {
            got.push(u32::from_be_bytes(data[..].try_into().unwrap()));
        }
    }
    assert_eq!(got, (0..200).collect::<Vec<_>>());

    // And a display frame the other way.
    let display = server_conn.open_channel(ChannelConfig::for_kind(ChannelKind::Display)).await.unwrap().unwrap();
    let frame = Bytes::from(vec![5u8; 200_000]);
    server_conn.send(display, frame.clone(), Some(Duration::from_millis(500))).await.unwrap().unwrap();
    let mut client = client;
    loop {
        let event = tokio::time::timeout_at(deadline, client.next_event()).await.expect("in time").expect("open");
        if let Event::Message { channel, data, .. } = event {
            assert_eq!((channel, data), (display, frame));
            break;
        }
    }
    let (stats, _) = client.stats().await.unwrap();
    assert_eq!(stats.retransmits, 0, "a reliable carrier is never retransmitted over");
    client.close(asp_core::CloseCode::USER, "done");
}

#[tokio::test]
async fn a_wrong_certificate_is_refused_before_any_token_is_sent() {
    let identity = ServerIdentity::generate(&["localhost"]).unwrap();
    let impostor = ServerIdentity::generate(&["localhost"]).unwrap();
    let server = server(&impostor).await;
    let addr = server.local_addr().unwrap();
    tokio::spawn(async move { server.accept().await });
    let token = TokenKey::new(&SECRET).issue("viewer", far_future());
    let err = tcp::connect(addr, identity.fingerprint(), &token, SessionConfig::default()).await.unwrap_err();
    assert!(matches!(err, ConnectError::CertificateMismatch), "{err}");
}

#[tokio::test]
async fn bad_and_expired_tokens_are_refused_with_distinct_reasons() {
    let identity = ServerIdentity::generate(&["localhost"]).unwrap();
    let server = server(&identity).await;
    let addr = server.local_addr().unwrap();
    let refusals = tokio::spawn(async move {
        let mut out = Vec::new();
        for _ in 0..2 {
            out.push(server.accept().await.unwrap_err());
        }
        out
    });
    let forged = TokenKey::new(&[1; 32]).issue("viewer", far_future());
    let expired = TokenKey::new(&SECRET).issue("viewer", 1);
    for (token, expected) in [(forged, "signature"), (expired, "expired")] {
        let err = tcp::connect(addr, identity.fingerprint(), &token, SessionConfig::default()).await.unwrap_err();
        match err {
            ConnectError::Unauthorized(reason) => assert!(reason.contains(expected), "{reason}"),
            other => panic!("expected a refusal, got {other}"),
        }
    }
    let server_side = refusals.await.unwrap();
    assert!(matches!(server_side[0], AcceptError::Unauthorized(TokenError::BadSignature)));
    assert!(matches!(server_side[1], AcceptError::Unauthorized(TokenError::Expired)));
}

#[tokio::test]
async fn a_certificate_authority_can_stand_in_for_pinning() {
    use asp_transport::identity::{CertificateAuthority, ServerTrust};
    let ca = CertificateAuthority::generate("asp test root").unwrap();
    let identity = ca.issue(&["desk-7.example"]).unwrap();
    let server = server(&identity).await;
    let addr = server.local_addr().unwrap();
    tokio::spawn(async move {
        let mut kept = Vec::new();
        loop {
            kept.push(server.accept().await);
        }
    });
    let token = TokenKey::new(&SECRET).issue("viewer", far_future());
    let trust = ServerTrust::Authority { root_der: ca.cert_der.clone(), server_name: "desk-7.example".into() };
    tcp::connect(addr, trust, &token, SessionConfig::default()).await.unwrap();
    // Another authority, or the right one for another name, is refused.
    let stranger = CertificateAuthority::generate("someone else").unwrap();
    let wrong_ca = ServerTrust::Authority { root_der: stranger.cert_der.clone(), server_name: "desk-7.example".into() };
    let err = tcp::connect(addr, wrong_ca, &token, SessionConfig::default()).await.unwrap_err();
    assert!(matches!(err, ConnectError::CertificateMismatch), "{err}");
    let wrong_name = ServerTrust::Authority { root_der: ca.cert_der.clone(), server_name: "desk-8.example".into() };
    let err = tcp::connect(addr, wrong_name, &token, SessionConfig::default()).await.unwrap_err();
    assert!(matches!(err, ConnectError::CertificateMismatch), "{err}");
}
