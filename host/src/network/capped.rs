//! A request or response body that counts its bytes as they stream and
//! fails once they pass a limit.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use wasmtime_wasi_http::Error;

/// A body that counts its bytes and fails past a limit.
pub(super) struct Capped<B> {
    pub(super) inner: B,
    pub(super) limit: u64,
    pub(super) counter: Arc<dyn Fn(u64) -> u64 + Send + Sync>,
    pub(super) too_big: fn(u64) -> Error,
}

impl<B: Body<Data = Bytes, Error = Error> + Unpin> Body for Capped<B> {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let total = (self.counter)(data.len() as u64);
                    if total > self.limit {
                        return Poll::Ready(Some(Err((self.too_big)(total))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}
