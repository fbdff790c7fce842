//! The upload is read in a child process (`switchboard read-import`), with limits on its CPU
//! time and address space, as keystores are: the reader (`sheet`) keeps its memory
//! proportional to what it keeps, and the child makes that a promise about the server's own
//! memory whatever a library underneath does with a file made to exhaust it. The server
//! writes the upload to the child's standard input and reads the rows back as frames, in
//! batches for the checker; a child that stops without its last frame (killed by a limit)
//! ends the import with one clear message, and the import is not tried again.

use super::sheet::{self, Layout, SheetError, SheetRow};
use app::domain::import::{COLUMNS, REQUIRED};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// CPU seconds the reading may take (100,000 rows take a few).
const CHILD_CPU_SECS: u64 = 60;
/// The child's address space: the upload, one unzipped workbook, its shared strings and the
/// program itself fit many times over.
const CHILD_MEMORY: u64 = 768 * 1024 * 1024;
/// The largest frame: one row of 24 cells of 32,767 characters (4 bytes each at most) fits.
const MAX_FRAME: usize = 4 * 1024 * 1024;

/// Rows handed from the reader to the checker at a time (and written in one statement)...
pub const BATCH: usize = 1_000;
/// ...or fewer, when their text is more than this (a batch's memory is bounded either way).
pub const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// What the child writes, one frame at a time: the column letters when they change (a new
/// file inside a zip), each row, and at the end whether the file was read, with the child's
/// resident memory at start and at its peak (KiB, for the log).
#[derive(Debug, Serialize, Deserialize)]
pub enum Frame {
    Layout(Layout),
    Row(SheetRow),
    Done {
        start_kib: u64,
        peak_kib: u64,
    },
    Failed {
        error: SheetError,
        start_kib: u64,
        peak_kib: u64,
    },
}

/// A frame on the wire: its length (4 bytes, big endian), then a tag and its content: `R` and
/// a row in binary (its cells are the bulk of what is sent, copied as they are: no escaping),
/// `J` and any other frame as JSON.
fn write_frame(out: &mut impl Write, frame: &Frame) -> std::io::Result<()> {
    let payload = match frame {
        Frame::Row(row) => encode_row(row),
        other => {
            let mut json = b"J".to_vec();
            serde_json::to_writer(&mut json, other).map_err(std::io::Error::other)?;
            json
        }
    };
    let len = u32::try_from(payload.len()).map_err(std::io::Error::other)?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(&payload)
}

/// The frames of a whole output of the child (tests, benchmarks).
pub fn frames(mut wire: &[u8]) -> Option<Vec<Frame>> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        let len = u32::from_be_bytes(wire.get(..4)?.try_into().ok()?) as usize;
        let payload = wire.get(4..4 + len)?;
        out.push(match payload.split_first()? {
            (b'R', row) => Frame::Row(decode_row(row)?),
            (b'J', json) => serde_json::from_slice(json).ok()?,
            _ => return None,
        });
        wire = &wire[4 + len..];
    }
    Some(out)
}

/// `R`, the row number (4 bytes), the file name (2 bytes of length, `0xFFFF` for none, then
/// its bytes), the number of cells (2 bytes), each cell (4 bytes of length, then its bytes);
/// big endian.
fn encode_row(row: &SheetRow) -> Vec<u8> {
    let size: usize = row.cells.iter().map(|c| 4 + c.len()).sum();
    let mut out = Vec::with_capacity(1 + 4 + 2 + 255 + 2 + size);
    out.push(b'R');
    out.extend_from_slice(&row.row.to_be_bytes());
    match &row.file {
        Some(f) => {
            let f = &f.as_bytes()[..f.len().min(sheet::MAX_MEMBER_NAME)];
            out.extend_from_slice(&(f.len() as u16).to_be_bytes());
            out.extend_from_slice(f);
        }
        None => out.extend_from_slice(&u16::MAX.to_be_bytes()),
    }
    out.extend_from_slice(&(row.cells.len() as u16).to_be_bytes());
    for cell in &row.cells {
        out.extend_from_slice(&(cell.len() as u32).to_be_bytes());
        out.extend_from_slice(cell.as_bytes());
    }
    out
}

fn decode_row(mut b: &[u8]) -> Option<SheetRow> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (b.get(..n)?, b.get(n..)?);
        *b = rest;
        Some(head)
    }
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).ok();
    let row = u32::from_be_bytes(take(&mut b, 4)?.try_into().ok()?);
    let file = match u16::from_be_bytes(take(&mut b, 2)?.try_into().ok()?) {
        u16::MAX => None,
        n => Some(text(take(&mut b, n as usize)?)?),
    };
    let n = u16::from_be_bytes(take(&mut b, 2)?.try_into().ok()?);
    let mut cells = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let len = u32::from_be_bytes(take(&mut b, 4)?.try_into().ok()?) as usize;
        cells.push(text(take(&mut b, len)?)?);
    }
    b.is_empty().then_some(SheetRow { file, row, cells })
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `switchboard read-import`: limits itself, reads the upload from standard input, and writes
/// its rows as frames to standard output.
pub fn child_main() -> std::process::ExitCode {
    let (start_kib, _) = memory_kib();
    if crate::child::limit_self(CHILD_CPU_SECS, CHILD_MEMORY).is_err() {
        return std::process::ExitCode::FAILURE;
    }
    let mut file = Vec::new();
    if std::io::stdin()
        .take(sheet::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut file)
        .is_err()
    {
        return std::process::ExitCode::FAILURE;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut layout: Option<Layout> = None;
    let read = sheet::read(&file, &COLUMNS, &REQUIRED, |l, row| {
        if layout.as_ref() != Some(l) {
            write_frame(&mut out, &Frame::Layout(l.clone()))?;
            layout = Some(l.clone());
        }
        write_frame(&mut out, &Frame::Row(row))
    });
    drop(file);
    let (_, peak_kib) = memory_kib();
    let last = match read {
        Ok(Ok(())) => Frame::Done {
            start_kib,
            peak_kib,
        },
        Err(error) => Frame::Failed {
            error,
            start_kib,
            peak_kib,
        },
        // the server stopped reading
        Ok(Err(_)) => return std::process::ExitCode::FAILURE,
    };
    if write_frame(&mut out, &last)
        .and_then(|()| out.flush())
        .is_err()
    {
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// Rows of one layout, for the checker.
#[derive(Debug)]
pub struct Batch {
    pub letters: Vec<Option<String>>,
    pub rows: Vec<SheetRow>,
}

/// Gathers rows into batches of at most `BATCH` rows or `BATCH_BYTES` of text.
#[derive(Default)]
struct Batcher {
    letters: Vec<Option<String>>,
    rows: Vec<SheetRow>,
    bytes: usize,
}

impl Batcher {
    /// A new layout: the rows so far, if any, are a batch of their own.
    fn layout(&mut self, letters: Vec<Option<String>>) -> Option<Batch> {
        let done = self.take();
        self.letters = letters;
        done
    }

    /// Adds a row; a batch that is full is handed out first.
    fn push(&mut self, row: SheetRow) -> Option<Batch> {
        let done = if self.rows.len() >= BATCH || self.bytes >= BATCH_BYTES {
            self.take()
        } else {
            None
        };
        self.bytes += row.cells.iter().map(String::len).sum::<usize>();
        self.rows.push(row);
        done
    }

    fn take(&mut self) -> Option<Batch> {
        if self.rows.is_empty() {
            return None;
        }
        self.bytes = 0;
        Some(Batch {
            letters: self.letters.clone(),
            rows: std::mem::replace(&mut self.rows, Vec::with_capacity(BATCH)),
        })
    }
}

/// The next frame, `None` at the end of the stream; `Err` for a frame that cannot be one.
async fn read_frame(
    from: &mut (impl tokio::io::AsyncRead + Unpin),
) -> Result<Option<Frame>, &'static str> {
    let mut len = [0u8; 4];
    match from.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(_) => return Err("the reader's output could not be read"),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err("the reader wrote a frame over its limit");
    }
    let mut payload = vec![0u8; len];
    from.read_exact(&mut payload)
        .await
        .map_err(|_| "the reader stopped inside a frame")?;
    let not_one = "the reader wrote a frame that is not one";
    match payload.split_first() {
        Some((b'R', row)) => decode_row(row).map(|r| Some(Frame::Row(r))).ok_or(not_one),
        Some((b'J', json)) => serde_json::from_slice(json).map(Some).map_err(|_| not_one),
        _ => Err(not_one),
    }
}

/// Why the rows of an upload could not all be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file was refused (or the child stopped at a limit: `SheetError::TooCostly`).
    Sheet(SheetError),
    /// The upload could not be read from the database.
    Upload(sea_orm::DbErr),
}

/// Reads the upload `source` (its pieces in order) in a child process of `exe` (this
/// program) and hands its rows to `tx` in batches. `Ok(Err(()))`: the receiver stopped taking
/// them.
pub async fn read_in_child(
    exe: &Path,
    mut source: futures::stream::BoxStream<'static, Result<Vec<u8>, sea_orm::DbErr>>,
    tx: tokio::sync::mpsc::Sender<Batch>,
) -> Result<Result<(), ()>, ReadError> {
    use futures::StreamExt;
    let mut child = crate::child::spawn(exe, "read-import").map_err(|e| {
        tracing::error!(error = %e, exe = %exe.display(), "starting the import reader");
        ReadError::Sheet(SheetError::TooCostly)
    })?;
    let stdin = child.stdin.take();
    // the upload goes to the child a piece at a time, as it is read from the database
    let writer = tokio::spawn(async move {
        let Some(mut stdin) = stdin else {
            return Ok(());
        };
        while let Some(piece) = source.next().await {
            // a child that stopped early closes its end: what it answered says why
            if stdin.write_all(&piece?).await.is_err() {
                break;
            }
        }
        Ok(())
    });
    let Some(stdout) = child.stdout.take() else {
        return Err(ReadError::Sheet(SheetError::TooCostly));
    };
    let mut stdout = tokio::io::BufReader::new(stdout);
    let mut batcher = Batcher::default();
    let outcome = loop {
        let frame = match read_frame(&mut stdout).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break None,
            Err(why) => {
                tracing::error!(why, "import reader");
                break None;
            }
        };
        let full = match frame {
            Frame::Layout(layout) => batcher.layout(layout.letters),
            Frame::Row(row) => batcher.push(row),
            Frame::Done {
                start_kib,
                peak_kib,
            } => {
                tracing::info!(start_kib, peak_kib, "import reader finished");
                break Some(Ok(()));
            }
            Frame::Failed {
                error,
                start_kib,
                peak_kib,
            } => {
                tracing::info!(start_kib, peak_kib, %error, "import reader refused the file");
                break Some(Err(error));
            }
        };
        if let Some(batch) = full
            && tx.send(batch).await.is_err()
        {
            return Ok(Err(()));
        }
    };
    // the upload was all written, unless it could not be read: that is the reason then
    let written = match outcome {
        Some(_) => writer.await,
        None => {
            let _ = child.start_kill();
            writer.await
        }
    };
    if let Ok(Err(e)) = written {
        return Err(ReadError::Upload(e));
    }
    match outcome {
        Some(Ok(())) => {
            let _ = child.wait().await;
            if let Some(last) = batcher.take()
                && tx.send(last).await.is_err()
            {
                return Ok(Err(()));
            }
            Ok(Ok(()))
        }
        Some(Err(e)) => {
            let _ = child.wait().await;
            Err(ReadError::Sheet(e))
        }
        None => {
            let status = child.wait().await;
            tracing::warn!(
                ?status,
                "the import reader stopped without an answer (a limit)"
            );
            Err(ReadError::Sheet(SheetError::TooCostly))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u32, text: &str) -> SheetRow {
        SheetRow {
            file: None,
            row: n,
            cells: vec![text.to_owned()],
        }
    }

    #[test]
    fn rows_are_batched_by_layout_count_and_bytes() {
        let mut b = Batcher::default();
        assert!(b.layout(vec![Some("A".into())]).is_none());
        for n in 0..BATCH as u32 {
            assert!(b.push(row(n, "x")).is_none());
        }
        let full = b.push(row(9_999, "x")).unwrap();
        assert_eq!(full.rows.len(), BATCH);
        assert_eq!(full.letters, vec![Some("A".to_string())]);
        // a new layout ends the batch
        let rest = b.layout(vec![Some("B".into())]).unwrap();
        assert_eq!(rest.rows.len(), 1);
        // big rows: fewer per batch
        let big = "y".repeat(BATCH_BYTES / 2);
        assert!(b.push(row(1, &big)).is_none());
        assert!(b.push(row(2, &big)).is_none());
        let two = b.push(row(3, &big)).unwrap();
        assert_eq!((two.rows.len(), two.letters[0].as_deref()), (2, Some("B")));
        assert_eq!(b.take().unwrap().rows.len(), 1);
        assert!(b.take().is_none());
    }

    #[tokio::test]
    async fn frames_round_trip_and_a_frame_over_the_limit_is_refused() {
        let mut wire = Vec::new();
        write_frame(&mut wire, &Frame::Row(row(7, "wa_1"))).unwrap();
        let zipped = SheetRow {
            file: Some("channels-002.xlsx".into()),
            row: 9,
            cells: vec!["é\u{0}\"x".into(), String::new(), "y".repeat(70_000)],
        };
        write_frame(&mut wire, &Frame::Row(zipped.clone())).unwrap();
        write_frame(
            &mut wire,
            &Frame::Failed {
                error: SheetError::NoRows,
                start_kib: 1,
                peak_kib: 2,
            },
        )
        .unwrap();
        let mut from = wire.as_slice();
        match read_frame(&mut from).await {
            Ok(Some(Frame::Row(r))) => assert_eq!(r, row(7, "wa_1")),
            other => panic!("{other:?}"),
        }
        match read_frame(&mut from).await {
            Ok(Some(Frame::Row(r))) => assert_eq!(r, zipped),
            other => panic!("{other:?}"),
        }
        match read_frame(&mut from).await {
            Ok(Some(Frame::Failed { error, .. })) => assert_eq!(error, SheetError::NoRows),
            other => panic!("{other:?}"),
        }
        assert!(matches!(read_frame(&mut from).await, Ok(None)));
        let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
        assert!(read_frame(&mut huge.as_slice()).await.is_err());
        // a row frame that is cut or runs on is not one
        let mut cut = encode_row(&row(1, "abc"));
        cut.pop();
        assert!(decode_row(&cut[1..]).is_none());
        let mut long = encode_row(&row(1, "abc"));
        long.push(0);
        assert!(decode_row(&long[1..]).is_none());
    }
}
