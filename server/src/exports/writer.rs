//! Export files: one `.xlsx` per at most 2,000 records, zipped when there are several. No
//! secret column is ever read for an export.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use std::io::{Cursor, Write};

/// The columns, in order (shared with the import, which reads them back).
pub use app::domain::import::COLUMNS;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const ZIP: &str = "application/zip";

/// One `.xlsx` with a header row and `rows`.
pub fn xlsx(rows: &[Vec<String>]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Channels")?;
    let bold = Format::new().set_bold();
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
        sheet.set_column_width(c as u16, if c == 0 { 28 } else { 20 })?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string((r + 1) as u32, c as u16, cell)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// A zip of numbered files, written as they come.
pub struct ZipBuilder {
    zip: zip::ZipWriter<Cursor<Vec<u8>>>,
    count: usize,
}

impl ZipBuilder {
    pub fn new() -> Self {
        Self {
            zip: zip::ZipWriter::new(Cursor::new(Vec::new())),
            count: 0,
        }
    }

    pub fn add(&mut self, bytes: &[u8]) -> Result<(), zip::result::ZipError> {
        self.count += 1;
        // xlsx is already deflated inside: store it as it is
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        self.zip
            .start_file(format!("channels-{:03}.xlsx", self.count), options)?;
        self.zip.write_all(bytes)?;
        Ok(())
    }

    pub fn finish(self) -> Result<Vec<u8>, zip::result::ZipError> {
        Ok(self.zip.finish()?.into_inner())
    }
}

impl Default for ZipBuilder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_an_xlsx_and_a_zip_of_them() {
        let rows = vec![vec!["wa_1".to_string(); COLUMNS.len()]];
        let one = xlsx(&rows).unwrap();
        assert_eq!(&one[..2], b"PK", "an xlsx is a zip container");
        let mut z = ZipBuilder::new();
        z.add(&one).unwrap();
        z.add(&one).unwrap();
        let bytes = z.finish().unwrap();
        let archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let names: Vec<_> = archive.file_names().map(str::to_owned).collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"channels-001.xlsx".to_string()));
    }
}
