//! TLS for `https://` servers: rustls (ring as its crypto), trusting the system's roots
//! plus, with `--ca-cert FILE` (or `ATES_CA_CERT`), a private CA's certificates.

use anyhow::Context as _;
use std::path::Path;
use std::sync::OnceLock;

static EXTRA_ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();

/// Installs the crypto provider and, once per process, the extra roots from `ca_cert`
/// (a PEM file with one or more certificates).
pub fn init(ca_cert: Option<&Path>) -> anyhow::Result<()> {
    install_provider();
    let Some(path) = ca_cert else {
        return Ok(());
    };
    let pem = std::fs::read(path)
        .with_context(|| format!("reading the CA certificate {}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("{} holds no PEM certificate", path.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "{} holds no PEM certificate",
        path.display()
    );
    let _ = EXTRA_ROOTS.set(certs);
    Ok(())
}

fn install_provider() {
    // Fails only when a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client builder that speaks TLS with the roots above.
pub fn builder() -> reqwest::ClientBuilder {
    install_provider();
    reqwest::Client::builder().tls_certs_merge(EXTRA_ROOTS.get().cloned().unwrap_or_default())
}
