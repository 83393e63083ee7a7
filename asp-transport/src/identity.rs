//! Server identity: a self-signed certificate whose SHA-256 fingerprint the client pins, so no
//! certificate authority is needed between a server agent and its viewers.

use std::fmt;
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::SignatureScheme;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};

/// A certificate and its private key, DER-encoded.
#[derive(Clone)]
pub struct ServerIdentity {
    /// The certificate.
    pub cert_der: Vec<u8>,
    /// The private key, PKCS #8.
    pub key_der: Vec<u8>,
}

impl fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerIdentity").field("fingerprint", &self.fingerprint()).finish_non_exhaustive()
    }
}

/// Why an identity could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot generate a certificate: {0}")]
pub struct IdentityError(String);

impl ServerIdentity {
    /// A fresh self-signed certificate for these host names.
    ///
    /// # Errors
    /// When the key or certificate cannot be generated.
    pub fn generate(names: &[&str]) -> Result<Self, IdentityError> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let certified = rcgen::generate_simple_self_signed(names).map_err(|e| IdentityError(e.to_string()))?;
        Ok(ServerIdentity { cert_der: certified.cert.der().to_vec(), key_der: certified.signing_key.serialize_der() })
    }

    /// The certificate's fingerprint, which clients pin.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.cert_der)
    }

    pub(crate) fn rustls_parts(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let cert = CertificateDer::from(self.cert_der.clone());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        (vec![cert], key)
    }
}

/// A certificate authority of one's own, for deployments with many servers: clients trust its
/// root instead of pinning each server.
pub struct CertificateAuthority {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    /// The root certificate clients trust, DER.
    pub cert_der: Vec<u8>,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("fingerprint", &Fingerprint::of(&self.cert_der))
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// A fresh self-signed root.
    ///
    /// # Errors
    /// When the key or certificate cannot be generated.
    pub fn generate(name: &str) -> Result<Self, IdentityError> {
        let err = |e: rcgen::Error| IdentityError(e.to_string());
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let key = rcgen::KeyPair::generate().map_err(err)?;
        let cert_der = params.self_signed(&key).map_err(err)?.der().to_vec();
        Ok(CertificateAuthority { params, key, cert_der })
    }

    /// A server identity for these host names, signed by this authority.
    ///
    /// # Errors
    /// When the key or certificate cannot be generated.
    pub fn issue(&self, names: &[&str]) -> Result<ServerIdentity, IdentityError> {
        let err = |e: rcgen::Error| IdentityError(e.to_string());
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let params = rcgen::CertificateParams::new(names).map_err(err)?;
        let key = rcgen::KeyPair::generate().map_err(err)?;
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).map_err(err)?;
        Ok(ServerIdentity { cert_der: cert.der().to_vec(), key_der: key.serialize_der() })
    }
}

/// How a client decides to trust a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerTrust {
    /// Exactly this certificate (self-signed identities).
    Pinned(Fingerprint),
    /// Any certificate for `server_name` that this root signed.
    Authority {
        /// The root, DER.
        root_der: Vec<u8>,
        /// The name the server's certificate must carry.
        server_name: String,
    },
}

impl From<Fingerprint> for ServerTrust {
    fn from(pin: Fingerprint) -> Self {
        ServerTrust::Pinned(pin)
    }
}

impl ServerTrust {
    /// The TLS client configuration and server name that express this trust.
    pub(crate) fn client_tls(
        &self,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<(rustls::ClientConfig, ServerName<'static>), String> {
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| e.to_string())?;
        match self {
            ServerTrust::Pinned(pin) => {
                let config = builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(PinnedVerifier { pin: *pin, provider }))
                    .with_no_client_auth();
                let name = ServerName::try_from("asp.invalid").map_err(|e| e.to_string())?;
                Ok((config, name))
            }
            ServerTrust::Authority { root_der, server_name } => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(CertificateDer::from(root_der.clone())).map_err(|e| e.to_string())?;
                let config = builder.with_root_certificates(roots).with_no_client_auth();
                let name = ServerName::try_from(server_name.clone()).map_err(|e| e.to_string())?;
                Ok((config, name))
            }
        }
    }
}

/// SHA-256 of a DER certificate.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER certificate.
    #[must_use]
    pub fn of(cert_der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, cert_der);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        Fingerprint(out)
    }

    /// Parses the hex form `Display` writes (colons allowed).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let hex: String = text.chars().filter(|c| *c != ':').collect();
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Fingerprint(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Accepts exactly one certificate, by fingerprint; the TLS signatures are still checked, so
/// the server must hold that certificate's key.
#[derive(Debug)]
pub(crate) struct PinnedVerifier {
    pub(crate) pin: Fingerprint,
    pub(crate) provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Fingerprint::of(end_entity) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_round_trip_through_text() {
        let id = ServerIdentity::generate(&["localhost"]).unwrap();
        let fp = id.fingerprint();
        assert_eq!(Fingerprint::parse(&fp.to_string()), Some(fp));
        assert_eq!(Fingerprint::parse("00"), None);
        assert_ne!(ServerIdentity::generate(&["localhost"]).unwrap().fingerprint(), fp);
    }
}
