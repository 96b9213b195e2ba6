//! Host side of `wasi:io/poll` and `wasi:io/streams`, shadowing
//! wasmtime-wasi's own: the same behaviour, except that every call that can
//! block (`poll`, `pollable.block`, the `blocking-*` stream calls, dropping
//! a stream that flushes) gives up when the invocation's wall time is over.
//!
//! The epoch deadline interrupts wasm, not host code: without this a plugin
//! could sleep for an hour, or poll a clock pollable that never resolves
//! (`subscribe-instant(u64::MAX)`), and hold its thread forever.

use std::future::Future;
use std::time::Instant;

use wasmtime::component::{HasData, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::io::{poll as async_poll, streams as async_streams};
use wasmtime_wasi::p2::bindings::sync::io::{poll as sync_poll, streams as sync_streams};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, StreamError, StreamResult};
use wasmtime_wasi::runtime::in_tokio;

use crate::runtime::{LimitKind, Sandboxed};

/// The resource table of one invocation, with its deadline.
pub struct DeadlineIo<'a> {
    table: &'a mut ResourceTable,
    deadline: Instant,
    hit: &'a mut Option<LimitKind>,
}

/// `HasData` for [`DeadlineIo`].
pub struct DeadlineIoData;

impl HasData for DeadlineIoData {
    type Data<'a> = DeadlineIo<'a>;
}

/// The view `wasi:io` calls get.
fn deadline_io<T: Sandboxed>(s: &mut T) -> DeadlineIo<'_> {
    let sandbox = s.sandbox();
    DeadlineIo {
        table: &mut sandbox.table,
        deadline: sandbox.deadline,
        hit: &mut sandbox.limiter.hit,
    }
}

/// Runs `fut` on wasmtime-wasi's tokio runtime until it finishes or
/// `deadline` passes (`None`).
fn until<R>(deadline: Instant, fut: impl Future<Output = R>) -> Option<R> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    in_tokio(async move { tokio::time::timeout(remaining, fut).await.ok() })
}

impl DeadlineIo<'_> {
    /// Marks the timeout and builds the trap that ends the invocation.
    fn timed_out(&mut self, what: &str) -> wasmtime::Error {
        self.hit.get_or_insert(LimitKind::Timeout);
        wasmtime::Error::msg(format!("the invocation's wall time ran out during a blocking `{what}`"))
    }

    fn stream_timed_out(&mut self, what: &str) -> StreamError {
        StreamError::Trap(self.timed_out(what))
    }
}

impl sync_poll::Host for DeadlineIo<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        let table = &mut *self.table;
        match until(self.deadline, async_poll::Host::poll(table, pollables)) {
            Some(result) => result,
            None => Err(self.timed_out("poll")),
        }
    }
}

impl sync_poll::HostPollable for DeadlineIo<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        sync_poll::HostPollable::ready(&mut *self.table, pollable)
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        let table = &mut *self.table;
        match until(self.deadline, async_poll::HostPollable::block(table, pollable)) {
            Some(result) => result,
            None => Err(self.timed_out("pollable.block")),
        }
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        sync_poll::HostPollable::drop(&mut *self.table, pollable)
    }
}

impl sync_streams::Host for DeadlineIo<'_> {
    fn convert_stream_error(&mut self, err: StreamError) -> wasmtime::Result<sync_streams::StreamError> {
        sync_streams::Host::convert_stream_error(&mut *self.table, err)
    }
}

impl sync_streams::HostOutputStream for DeadlineIo<'_> {
    fn drop(&mut self, stream: Resource<DynOutputStream>) -> wasmtime::Result<()> {
        let table = &mut *self.table;
        match until(self.deadline, async_streams::HostOutputStream::drop(table, stream)) {
            Some(result) => result,
            None => Err(self.timed_out("output-stream.drop")),
        }
    }

    fn check_write(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<u64> {
        sync_streams::HostOutputStream::check_write(&mut *self.table, stream)
    }

    fn write(&mut self, stream: Resource<DynOutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        sync_streams::HostOutputStream::write(&mut *self.table, stream, bytes)
    }

    fn blocking_write_and_flush(&mut self, stream: Resource<DynOutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        let table = &mut *self.table;
        let fut = async_streams::HostOutputStream::blocking_write_and_flush(table, stream, bytes);
        match until(self.deadline, fut) {
            Some(result) => result,
            None => Err(self.stream_timed_out("blocking-write-and-flush")),
        }
    }

    fn blocking_write_zeroes_and_flush(&mut self, stream: Resource<DynOutputStream>, len: u64) -> StreamResult<()> {
        let table = &mut *self.table;
        let fut = async_streams::HostOutputStream::blocking_write_zeroes_and_flush(table, stream, len);
        match until(self.deadline, fut) {
            Some(result) => result,
            None => Err(self.stream_timed_out("blocking-write-zeroes-and-flush")),
        }
    }

    fn subscribe(&mut self, stream: Resource<DynOutputStream>) -> wasmtime::Result<Resource<DynPollable>> {
        sync_streams::HostOutputStream::subscribe(&mut *self.table, stream)
    }

    fn write_zeroes(&mut self, stream: Resource<DynOutputStream>, len: u64) -> StreamResult<()> {
        sync_streams::HostOutputStream::write_zeroes(&mut *self.table, stream, len)
    }

    fn flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        sync_streams::HostOutputStream::flush(&mut *self.table, stream)
    }

    fn blocking_flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        let table = &mut *self.table;
        match until(
            self.deadline,
            async_streams::HostOutputStream::blocking_flush(table, stream),
        ) {
            Some(result) => result,
            None => Err(self.stream_timed_out("blocking-flush")),
        }
    }

    fn splice(&mut self, dst: Resource<DynOutputStream>, src: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        sync_streams::HostOutputStream::splice(&mut *self.table, dst, src, len)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        let table = &mut *self.table;
        match until(
            self.deadline,
            async_streams::HostOutputStream::blocking_splice(table, dst, src, len),
        ) {
            Some(result) => result,
            None => Err(self.stream_timed_out("blocking-splice")),
        }
    }
}

impl sync_streams::HostInputStream for DeadlineIo<'_> {
    fn drop(&mut self, stream: Resource<DynInputStream>) -> wasmtime::Result<()> {
        let table = &mut *self.table;
        match until(self.deadline, async_streams::HostInputStream::drop(table, stream)) {
            Some(result) => result,
            None => Err(self.timed_out("input-stream.drop")),
        }
    }

    fn read(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        sync_streams::HostInputStream::read(&mut *self.table, stream, len)
    }

    fn blocking_read(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        let table = &mut *self.table;
        match until(
            self.deadline,
            async_streams::HostInputStream::blocking_read(table, stream, len),
        ) {
            Some(result) => result,
            None => Err(self.stream_timed_out("blocking-read")),
        }
    }

    fn skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        sync_streams::HostInputStream::skip(&mut *self.table, stream, len)
    }

    fn blocking_skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        let table = &mut *self.table;
        match until(
            self.deadline,
            async_streams::HostInputStream::blocking_skip(table, stream, len),
        ) {
            Some(result) => result,
            None => Err(self.stream_timed_out("blocking-skip")),
        }
    }

    fn subscribe(&mut self, stream: Resource<DynInputStream>) -> wasmtime::Result<Resource<DynPollable>> {
        sync_streams::HostInputStream::subscribe(&mut *self.table, stream)
    }
}

/// Replaces wasmtime-wasi's `wasi:io/poll` and `wasi:io/streams` in
/// `linker` with the deadline-bounded ones.
pub fn shadow<T: Sandboxed>(linker: &mut wasmtime::component::Linker<T>) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    sync_poll::add_to_linker::<T, DeadlineIoData>(linker, deadline_io::<T>)?;
    sync_streams::add_to_linker::<T, DeadlineIoData>(linker, deadline_io::<T>)?;
    linker.allow_shadowing(false);
    Ok(())
}
