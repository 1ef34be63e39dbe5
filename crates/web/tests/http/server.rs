//! The server's connections: slow or idle clients are cut off, and at most the configured
//! number of connections are served at once.

use std::time::Duration;

use ngoso_store::Backend;
use ngoso_store::testing::TestDb;
use ngoso_web::{AppState, WebConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts `serve` on a free port; returns its address and the task (aborted by the caller).
async fn start(
    backend: Backend,
    cfg: WebConfig,
) -> Option<(TestDb, std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let t = TestDb::new(backend).await?;
    let state = AppState::new(t.db.clone(), cfg).await.expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        ngoso_web::serve(listener, state).await.unwrap();
    });
    Some((t, addr, task))
}

/// Reads until the server closes the connection (or `limit` passes); returns what came.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()?;
    Some(out)
}

async fn slow_and_idle_clients_are_cut_off(backend: Backend) {
    let cfg = WebConfig { client_timeout_secs: 1, ..Default::default() };
    let Some((t, addr, task)) = start(backend, cfg).await else { return };
    // Headers trickled and never finished: the server closes the connection.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
    let got = read_until_closed(&mut slow, Duration::from_secs(20)).await.expect("the slow client is cut off");
    assert!(!String::from_utf8_lossy(&got).contains("\"ok\""), "no answer to an unfinished request");
    // A connection idle after its answer is closed too.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let got = read_until_closed(&mut idle, Duration::from_secs(20)).await.expect("the idle connection is closed");
    assert!(String::from_utf8_lossy(&got).contains("\"status\":\"ok\""), "{}", String::from_utf8_lossy(&got));
    task.abort();
    drop(t);
}

async fn connections_are_limited(backend: Backend) {
    let cfg = WebConfig { client_timeout_secs: 60, max_connections: 2, ..Default::default() };
    let Some((t, addr, task)) = start(backend, cfg).await else { return };
    let mut a = TcpStream::connect(addr).await.unwrap();
    let _b = TcpStream::connect(addr).await.unwrap();
    // Both slots are taken by connections that send nothing: a third waits…
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 256];
    assert!(tokio::time::timeout(Duration::from_millis(500), c.read(&mut buf)).await.is_err(), "served past the limit");
    // …until one of them closes.
    a.shutdown().await.unwrap();
    drop(a);
    let got = read_until_closed(&mut c, Duration::from_secs(20)).await.expect("served once a slot is free");
    assert!(String::from_utf8_lossy(&got).contains("\"status\":\"ok\""));
    task.abort();
    drop(t);
}

macro_rules! server_tests {
    ($($name:ident),*) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(ngoso_store::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(ngoso_store::Backend::Postgres).await;
            }
        }
    )*};
}

server_tests!(slow_and_idle_clients_are_cut_off, connections_are_limited);
