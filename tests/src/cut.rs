//! A TCP link between the server and PostgreSQL that a test can cut and mend, to take the
//! database away the way a restart or a network failure does: open connections are cut and
//! new ones are closed as soon as they are made, until the link is mended.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A cuttable link to a database server. See the module documentation.
#[derive(Debug)]
pub struct Link {
    address: SocketAddr,
    up: watch::Sender<bool>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.up.send_replace(false);
        self.accepting.abort();
    }
}

impl Link {
    /// A link on a free local port that forwards to `target`.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn to(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the link: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the link's address: {e}"));
        let (up, watching) = watch::channel(true);
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut up = watching.clone();
                if !*up.borrow() {
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = up.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self {
            address,
            up,
            accepting,
        }
    }

    /// A link to the server `url` names (a `postgres://user@host:port/db` URL).
    ///
    /// # Panics
    /// When the URL names no port.
    pub async fn to_server_of(url: &str) -> Self {
        let (host, port) = host_and_port(url);
        let target = format!("{host}:{port}")
            .parse::<SocketAddr>()
            .unwrap_or_else(|e| panic!("the address of {url}: {e}"));
        Self::to(target).await
    }

    /// `url` going through this link instead of straight to its server.
    #[must_use]
    pub fn url(&self, url: &str) -> String {
        let (host, port) = host_and_port(url);
        url.replacen(
            &format!("@{host}:{port}"),
            &format!("@{host}:{}", self.address.port()),
            1,
        )
    }

    /// Cuts every open connection and closes new ones at once.
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    /// Lets connections through again.
    pub fn mend(&self) {
        self.up.send_replace(true);
    }
}

/// The host and port of a `postgres://user@host:port/db` URL.
fn host_and_port(url: &str) -> (&str, u16) {
    let after_user = url.split_once('@').map_or(url, |(_, rest)| rest);
    let authority = after_user.split('/').next().unwrap_or(after_user);
    let (host, port) = authority
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("no port in {url}"));
    let port = port
        .parse()
        .unwrap_or_else(|e| panic!("the port of {url}: {e}"));
    (host, port)
}
