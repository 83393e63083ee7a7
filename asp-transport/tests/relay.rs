//! Both carriers through the impairment relay: its delay shows in the session's RTT, and
//! reliable delivery survives its loss.

use std::time::Duration;

use asp_core::sim::LinkProfile;
use asp_core::{ChannelConfig, ChannelKind, Event, SessionConfig};
use asp_transport::Connection;
use asp_transport::identity::ServerIdentity;
use asp_transport::quic::{self, QuicServer};
use asp_transport::relay::Relay;
use asp_transport::tcp::{self, TcpServer};
use asp_transport::token::TokenKey;
use bytes::Bytes;

const SECRET: [u8; 32] = [5; 32];

fn path(loss: f64) -> Vec<(Duration, LinkProfile)> {
    vec![(Duration::ZERO, LinkProfile { loss, ..LinkProfile::with_rate(Duration::from_millis(15), 20_000_000) })]
}

async fn exchange(client: &Connection, server: &mut Connection, count: u32) {
    let ch = client.open_channel(ChannelConfig::for_kind(ChannelKind::Input)).await.unwrap().unwrap();
    for i in 0..count {
        // A packet each, so that the relay's loss has something to hit.
        let mut message = i.to_be_bytes().to_vec();
        message.resize(1000, 0);
        client.send(ch, Bytes::from(message), None).await.unwrap().unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut got = Vec::new();
    while got.len() < count as usize {
        if let Event::Message { data, .. } =
            tokio::time::timeout_at(deadline, server.next_event()).await.unwrap().unwrap()
        {
            got.push(u32::from_be_bytes(data[..4].try_into().unwrap()));
        }
    }
    assert_eq!(got, (0..count).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_through_a_lossy_delaying_relay() {
    let identity = ServerIdentity::generate(&["localhost"]).unwrap();
    let server =
        QuicServer::bind("127.0.0.1:0".parse().unwrap(), &identity, TokenKey::new(&SECRET), SessionConfig::default())
            .unwrap();
    let relay = Relay::udp("127.0.0.1:0".parse().unwrap(), server.local_addr().unwrap(), path(0.05), path(0.05), 1)
        .await
        .unwrap();
    let accepted = tokio::spawn(async move { (server.accept().await, server) });
    let token = TokenKey::new(&SECRET).issue("viewer", u64::MAX / 2);
    let client =
        quic::connect(relay.local_addr(), identity.fingerprint(), &token, SessionConfig::default()).await.unwrap();
    let (accepted, _server) = accepted.await.unwrap();
    let (mut server_conn, _) = accepted.unwrap();
    exchange(&client, &mut server_conn, 300).await;
    let (stats, _) = client.stats().await.unwrap();
    assert!(stats.rtt.min >= Duration::from_millis(30), "{:?}", stats.rtt);
    assert!(stats.retransmits > 0, "5 % loss should have cost a retransmission");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_through_a_delaying_relay() {
    let identity = ServerIdentity::generate(&["localhost"]).unwrap();
    let server =
        TcpServer::bind("127.0.0.1:0".parse().unwrap(), &identity, TokenKey::new(&SECRET), SessionConfig::default())
            .await
            .unwrap();
    let relay = Relay::tcp("127.0.0.1:0".parse().unwrap(), server.local_addr().unwrap(), path(0.0), path(0.0), 2)
        .await
        .unwrap();
    let accepted = tokio::spawn(async move { (server.accept().await, server) });
    let token = TokenKey::new(&SECRET).issue("viewer", u64::MAX / 2);
    let client =
        tcp::connect(relay.local_addr(), identity.fingerprint(), &token, SessionConfig::default()).await.unwrap();
    let (accepted, _server) = accepted.await.unwrap();
    let (mut server_conn, _) = accepted.unwrap();
    exchange(&client, &mut server_conn, 300).await;
    let (stats, _) = client.stats().await.unwrap();
    assert!(stats.rtt.min >= Duration::from_millis(30), "{:?}", stats.rtt);
}
