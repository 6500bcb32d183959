//! A scripted SSH visitor for `folio serve` (russh's client): logs in with
//! `none`, asks for a pty and a shell, types keys and counts what comes back.
//! Used by the load test and the `serve_load` example.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client::{self, Handle};
use russh::keys::PublicKeyOrCertificate;
use russh::{Channel, ChannelMsg};
use tokio::net::TcpStream;

pub struct Trusting;

impl client::Handler for Trusting {
    type Error = russh::Error;

    async fn check_server_key(&mut self, _: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

pub struct Visitor {
    pub handle: Handle<Trusting>,
    pub channel: Channel<client::Msg>,
    /// Bytes of terminal output received so far.
    pub received: usize,
    /// Everything received, when asked to keep it.
    pub kept: Option<Vec<u8>>,
    pub closed: bool,
}

pub fn config() -> Arc<client::Config> {
    Arc::new(client::Config::default())
}

/// Logs in over `stream` and starts a reader in a `width`×`height` pty.
pub async fn visit(
    config: Arc<client::Config>,
    stream: TcpStream,
    width: u32,
    height: u32,
) -> Result<Visitor, russh::Error> {
    let mut handle = client::connect_stream(config, stream, Trusting).await?;
    let auth = handle.authenticate_none("visitor").await?;
    if !auth.success() {
        return Err(russh::Error::NotAuthenticated);
    }
    let channel = handle.channel_open_session().await?;
    channel
        .request_pty(true, "xterm-256color", width, height, 0, 0, &[])
        .await?;
    channel.request_shell(true).await?;
    Ok(Visitor {
        handle,
        channel,
        received: 0,
        kept: None,
        closed: false,
    })
}

impl Visitor {
    /// Waits for the next output; `None` after `quiet` without any, or at
    /// the end of the channel.
    pub async fn next(&mut self, quiet: Duration) -> Option<usize> {
        loop {
            let msg = tokio::time::timeout(quiet, self.channel.wait())
                .await
                .ok()?;
            match msg {
                Some(ChannelMsg::Data { data }) => {
                    self.received += data.len();
                    if let Some(kept) = &mut self.kept {
                        kept.extend_from_slice(&data);
                    }
                    return Some(data.len());
                }
                None | Some(ChannelMsg::Close | ChannelMsg::Eof) => {
                    self.closed = true;
                    return None;
                }
                Some(_) => {}
            }
        }
    }

    /// Waits (generously: the machine may be busy) for output to start,
    /// then reads until nothing arrives for `quiet`; the bytes read.
    pub async fn settle(&mut self, quiet: Duration) -> usize {
        let Some(n) = self.next(Duration::from_secs(20)).await else {
            return 0;
        };
        n + self.drain(quiet).await
    }

    /// Reads until nothing arrives for `quiet`; the bytes read.
    pub async fn drain(&mut self, quiet: Duration) -> usize {
        let mut n = 0;
        while let Some(got) = self.next(quiet).await {
            n += got;
        }
        n
    }

    /// Types `bytes`; how long until the first output, and the bytes of
    /// output until it is quiet again.
    pub async fn key(&mut self, bytes: &[u8], quiet: Duration) -> (Option<Duration>, usize) {
        let start = Instant::now();
        if self.channel.data_bytes(bytes.to_vec()).await.is_err() {
            return (None, 0);
        }
        let Some(first) = self.next(Duration::from_secs(10)).await else {
            return (None, 0);
        };
        let took = start.elapsed();
        (Some(took), first + self.drain(quiet).await)
    }

    /// Quits with `q` and reads to the end; whether the channel closed.
    pub async fn quit(&mut self) -> bool {
        let _ = self.channel.data_bytes(b"q".to_vec()).await;
        while !self.closed {
            if self.next(Duration::from_secs(10)).await.is_none() {
                break;
            }
        }
        self.closed
    }
}
