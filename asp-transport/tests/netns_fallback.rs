//! Carrier selection on a real network path: a server in a network namespace of this test's
//! own, reached over a veth pair. With nft dropping UDP in the namespace, the client falls back
//! to TLS over TCP; without the rule, it uses QUIC. Needs root (CI runs as root), iproute2 and
//! nftables (`scripts/setup.sh` installs them).

use std::net::SocketAddr;
use std::process::Command;
use std::sync::mpsc;

use asp_core::SessionConfig;
use asp_transport::identity::ServerIdentity;
use asp_transport::quic::QuicServer;
use asp_transport::select::{self, Carrier, ServerAddrs};
use asp_transport::tcp::TcpServer;
use asp_transport::token::TokenKey;

const SECRET: [u8; 32] = [13; 32];

fn sh(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A namespace and a veth pair into it, removed on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new(tag: &str, root_ip: &str, ns_ip: &str) -> Self {
        let id = std::process::id() % 100_000;
        let name = format!("asp-{tag}-{id}");
        let (outer, inner) = (format!("av{tag}{id}o"), format!("av{tag}{id}i"));
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(&["ip", "netns", "add", &name]);
        let ns = Netns { name: name.clone() };
        sh(&["ip", "link", "add", &outer, "type", "veth", "peer", "name", &inner]);
        sh(&["ip", "link", "set", &inner, "netns", &name]);
        sh(&["ip", "addr", "add", &format!("{root_ip}/30"), "dev", &outer]);
        sh(&["ip", "link", "set", &outer, "up"]);
        sh(&["ip", "netns", "exec", &name, "ip", "addr", "add", &format!("{ns_ip}/30"), "dev", &inner]);
        sh(&["ip", "netns", "exec", &name, "ip", "link", "set", &inner, "up"]);
        sh(&["ip", "netns", "exec", &name, "ip", "link", "set", "lo", "up"]);
        ns
    }

    fn exec(&self, args: &[&str]) {
        let mut all = vec!["ip", "netns", "exec", &self.name];
        all.extend_from_slice(args);
        sh(&all);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes the veth pair with it.
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}

/// Runs a QUIC and a TCP server inside the namespace, on a thread of their own, until the
/// test ends; returns their addresses.
fn serve_in(ns: &Netns, ip: &str, identity: ServerIdentity) -> ServerAddrs {
    let path = format!("/var/run/netns/{}", ns.name);
    let ip = ip.to_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).expect("namespace file");
        nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async move {
            let any: SocketAddr = format!("{ip}:0").parse().expect("addr");
            let quic =
                QuicServer::bind(any, &identity, TokenKey::new(&SECRET), SessionConfig::default()).expect("quic");
            let tcp =
                TcpServer::bind(any, &identity, TokenKey::new(&SECRET), SessionConfig::default()).await.expect("tcp");
            tx.send(ServerAddrs { quic: quic.local_addr().expect("addr"), tcp: tcp.local_addr().expect("addr") })
                .expect("send");
            let mut kept = Vec::new();
            loop {
                tokio::select! {
                    c = quic.accept() => kept.push(c.map(|c| c.0)),
                    c = tcp.accept() => kept.push(c.map(|c| c.0)),
                }
            }
        });
    });
    rx.recv().expect("server started")
}

#[tokio::test]
async fn udp_dropped_in_the_path_falls_back_to_tcp_and_open_udp_uses_quic() {
    let identity = ServerIdentity::generate(&["localhost"]).unwrap();
    let token = TokenKey::new(&SECRET).issue("viewer", u64::MAX / 2);
    let ns = Netns::new("fb", "10.213.7.1", "10.213.7.2");
    let addrs = serve_in(&ns, "10.213.7.2", identity.clone());

    let (_quic_conn, carrier) =
        select::connect(addrs, identity.fingerprint(), &token, SessionConfig::default()).await.unwrap();
    assert_eq!(carrier, Carrier::Quic, "UDP open: QUIC is used");

    ns.exec(&["nft", "add", "table", "inet", "asp_test"]);
    ns.exec(&["nft", "add", "chain", "inet", "asp_test", "input", "{ type filter hook input priority 0 ; }"]);
    ns.exec(&[
        "nft",
        "add",
        "rule",
        "inet",
        "asp_test",
        "input",
        "udp",
        "dport",
        &addrs.quic.port().to_string(),
        "drop",
    ]);
    let (_tcp_conn, carrier) =
        select::connect(addrs, identity.fingerprint(), &token, SessionConfig::default()).await.unwrap();
    assert_eq!(carrier, Carrier::Tcp, "UDP dropped: TLS over TCP is used");
}
