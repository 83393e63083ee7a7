//! Datagrams over a byte stream: each one prefixed by its length as a big-endian u16. A reader
//! task turns the stream into a channel of datagrams, so that the driver's `select!` never
//! cancels a half-read frame.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Largest datagram a frame carries.
#[cfg(test)]
pub(crate) const MAX_FRAME: usize = u16::MAX as usize;

/// Writes one datagram.
pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, data: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(data.len()).map_err(|_| std::io::Error::other("datagram larger than a frame"))?;
    w.write_all(&len.to_be_bytes()).await?;
    w.write_all(data).await
}

/// Reads one datagram; `None` at a clean end of stream.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<Option<Bytes>> {
    let mut len = [0u8; 2];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut buf = BytesMut::zeroed(usize::from(u16::from_be_bytes(len)));
    r.read_exact(&mut buf).await?;
    Ok(Some(buf.freeze()))
}

/// Spawns a task that reads frames until the stream ends or fails, and hands them on.
pub(crate) fn spawn_reader<R: AsyncRead + Unpin + Send + 'static>(mut r: R) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        while let Ok(Some(frame)) = read_frame(&mut r).await {
            if tx.send(frame).await.is_err() {
                break;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_end_cleanly() {
        let (mut a, mut b) = tokio::io::duplex(1 << 20);
        for len in [0usize, 1, 1200, MAX_FRAME] {
            write_frame(&mut a, &vec![7u8; len]).await.unwrap();
        }
        drop(a);
        for len in [0usize, 1, 1200, MAX_FRAME] {
            assert_eq!(read_frame(&mut b).await.unwrap().unwrap().len(), len);
        }
        assert!(read_frame(&mut b).await.unwrap().is_none());
        assert!(write_frame(&mut tokio::io::sink(), &vec![0u8; MAX_FRAME + 1]).await.is_err());
    }
}
