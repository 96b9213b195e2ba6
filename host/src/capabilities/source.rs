//! Host side of the `source` interface: the import file, streamed to the
//! connector in chunks of at most 1 MiB, so an export of any size never
//! has to fit in guest or host memory. Only connectors link it, and only
//! for the one file the user chose.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::bindings::connector::healthplug::plugin::source::Host;
use crate::bindings::healthplug::plugin::types as wit;
use wasmtime::component::HasData;

use super::invocation::InvocationState;
use crate::runtime::Sandbox;

/// The most bytes one `read` returns.
const MAX_READ: u32 = 1024 * 1024;

/// The file being imported.
pub struct SourceFile {
    name: String,
    size: u64,
    file: File,
}

impl SourceFile {
    /// Opens `path` for a connector.
    pub fn open(path: &Path) -> std::io::Result<SourceFile> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        Ok(SourceFile {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            size: meta.len(),
            file,
        })
    }
}

fn no_input() -> wit::Error {
    wit::Error::InvalidRequest("this invocation has no input file".into())
}

/// What a `source` call gets: the budgets and the file (if any).
pub struct SourceView<'a> {
    sandbox: &'a mut Sandbox,
    input: Option<&'a mut SourceFile>,
}

/// `HasData` for [`SourceView`].
pub struct SourceData;

impl HasData for SourceData {
    type Data<'a> = SourceView<'a>;
}

/// The view `source` calls get.
pub(super) fn source_view(s: &mut InvocationState) -> SourceView<'_> {
    SourceView {
        sandbox: &mut s.sandbox,
        input: s.call.input.as_mut(),
    }
}

impl Host for SourceView<'_> {
    fn name(&mut self) -> wasmtime::Result<String> {
        self.sandbox.count_host_call()?;
        Ok(self.input.as_ref().map(|s| s.name.clone()).unwrap_or_default())
    }

    fn size(&mut self) -> wasmtime::Result<u64> {
        self.sandbox.count_host_call()?;
        Ok(self.input.as_ref().map(|s| s.size).unwrap_or(0))
    }

    fn read(&mut self, max_bytes: u32) -> wasmtime::Result<Result<Vec<u8>, wit::Error>> {
        self.sandbox.count_host_call()?;
        let Some(input) = self.input.as_deref_mut() else {
            return Ok(Err(no_input()));
        };
        let mut buffer = vec![0u8; max_bytes.min(MAX_READ) as usize];
        let mut filled = 0;
        // Fill the buffer unless the file ends, so the guest sees an empty
        // read only at the end.
        while filled < buffer.len() {
            match input.file.read(&mut buffer[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Ok(Err(wit::Error::Unavailable(format!("reading the input failed: {e}")))),
            }
        }
        buffer.truncate(filled);
        Ok(Ok(buffer))
    }

    fn rewind(&mut self) -> wasmtime::Result<Result<(), wit::Error>> {
        self.sandbox.count_host_call()?;
        let Some(input) = self.input.as_deref_mut() else {
            return Ok(Err(no_input()));
        };
        Ok(input
            .file
            .seek(SeekFrom::Start(0))
            .map(|_| ())
            .map_err(|e| wit::Error::Unavailable(format!("rewinding the input failed: {e}"))))
    }
}
