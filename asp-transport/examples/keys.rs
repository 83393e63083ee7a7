//! Generates a server identity and admission tokens.
//!
//! ```text
//! cargo run -p asp-transport --example keys -- --out DIR [--client NAME ...] [--days N]
//! ```
//!
//! Writes `DIR/cert.der`, `DIR/key.der` (keep it private) and `DIR/token.key` (32 random bytes,
//! keep it private), and prints the certificate's fingerprint, which clients pin, and one token
//! per client, valid for N days (default 30).

use std::time::Duration;

use asp_transport::identity::ServerIdentity;
use asp_transport::token::{self, TokenKey};

fn main() {
    let mut out = None;
    let mut clients = Vec::new();
    let mut days = 30u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--out", Some(v)) => out = Some(v),
            ("--client", Some(v)) => clients.push(v),
            ("--days", Some(v)) => days = v.parse().unwrap_or_else(|_| fail("--days takes a number")),
            _ => fail("usage: keys --out DIR [--client NAME ...] [--days N]"),
        }
    }
    let dir = out.unwrap_or_else(|| fail("--out DIR is required"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(&format!("{dir}: {e}")));
    let identity = ServerIdentity::generate(&["localhost"]).unwrap_or_else(|e| fail(&e.to_string()));
    let secret = token::random_secret().unwrap_or_else(|_| fail("no randomness"));
    for (name, bytes) in
        [("cert.der", &identity.cert_der[..]), ("key.der", &identity.key_der[..]), ("token.key", &secret[..])]
    {
        std::fs::write(format!("{dir}/{name}"), bytes).unwrap_or_else(|e| fail(&format!("{dir}/{name}: {e}")));
    }
    println!("fingerprint {}", identity.fingerprint());
    let expiry = token::expiry_after(Duration::from_secs(days * 86_400));
    let key = TokenKey::new(&secret);
    for client in clients {
        println!("token {client} {}", key.issue(&client, expiry));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}
