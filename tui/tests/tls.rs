//! `https://` servers: the client over TLS to a listener with a self-signed certificate,
//! trusted only through `--ca-cert`.

use ates_tui::demo::{ADMIN_PASSWORD, DemoClock, DemoServer};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Terminates TLS on a random port and forwards every connection to `upstream` (the test
/// server's plain HTTP port). Returns the port.
async fn tls_front(upstream: String, cert: &rcgen::CertifiedKey<rcgen::KeyPair>) -> u16 {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der())),
        )
        .expect("TLS config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return; // a client that refused our certificate
                };
                let Ok(mut plain) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

fn ates(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ates"))
        .args(args)
        .env("ATES_CONFIG_DIR", config)
        .env_remove("ATES_CA_CERT")
        .output()
        .expect("ates runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_servers_work_with_a_private_ca_and_are_refused_without_it() {
    let server = DemoServer::start(DemoClock::new(chrono::Duration::zero()))
        .await
        .expect("server starts");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("self-signed certificate");
    let upstream = server.base.trim_start_matches("http://").to_owned();
    let port = tls_front(upstream, &cert).await;
    let config = tempfile::tempdir().expect("config dir");
    let ca = config.path().join("ca.pem");
    std::fs::write(&ca, cert.cert.pem()).expect("CA written");
    let https = format!("https://localhost:{port}");

    let (dir, ca_path) = (config.path().to_path_buf(), ca.to_str().unwrap().to_owned());
    let (trusted, untrusted) = tokio::task::spawn_blocking(move || {
        let login = |extra: &[&str]| {
            let mut args = vec![
                "login",
                "--server",
                &https,
                "--username",
                "admin",
                "--password",
                ADMIN_PASSWORD,
            ];
            args.extend_from_slice(extra);
            ates(&dir, &args)
        };
        let untrusted = login(&[]);
        let trusted = login(&["--ca-cert", &ca_path]);
        let tasks = ates(&dir, &["--ca-cert", &ca_path, "tasks", "--json"]);
        assert!(
            tasks.status.success(),
            "{}",
            String::from_utf8_lossy(&tasks.stderr)
        );
        (trusted, untrusted)
    })
    .await
    .expect("cli run");

    assert!(
        trusted.status.success(),
        "over TLS with the CA: {}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(String::from_utf8_lossy(&trusted.stdout).contains("as admin"));
    assert!(!untrusted.status.success(), "an unknown CA is refused");
    let why = String::from_utf8_lossy(&untrusted.stderr).to_lowercase();
    assert!(why.contains("certificate"), "says why: {why}");
    server.stop().await.expect("server stops");
}
