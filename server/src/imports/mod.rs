//! Importing the exported spreadsheet back: reading it without trusting it (`sheet`).

pub mod sheet;
