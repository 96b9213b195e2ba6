//! The header row: where each documented column is. The six columns
//! `type,start,end,value,unit,code` are required (in any order, any case;
//! a cell may be empty), `system`, `source` and `notes` optional; any other
//! column refuses the file, so a misspelt column is never silently
//! ignored.

/// The columns every file has.
pub const REQUIRED: [&str; 6] = ["type", "start", "end", "value", "unit", "code"];
/// The columns a file may add.
pub const OPTIONAL: [&str; 3] = ["system", "source", "notes"];

/// Every column, required first: a column's position here is its slot.
const ALL: [&str; 9] = [
    REQUIRED[0],
    REQUIRED[1],
    REQUIRED[2],
    REQUIRED[3],
    REQUIRED[4],
    REQUIRED[5],
    OPTIONAL[0],
    OPTIONAL[1],
    OPTIONAL[2],
];

/// The cells of one data row, trimmed ("" for an empty or absent cell).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row<'a> {
    /// The registry type id.
    pub data_type: &'a str,
    /// RFC 3339 time or date.
    pub start: &'a str,
    /// RFC 3339 time or date, or empty.
    pub end: &'a str,
    /// A number, or empty.
    pub value: &'a str,
    /// The unit of `value`, or empty.
    pub unit: &'a str,
    /// The code of a coded type.
    pub code: &'a str,
    /// The code system of a clinical type.
    pub system: &'a str,
    /// The recording app or organisation.
    pub source: &'a str,
    /// Free text.
    pub notes: &'a str,
}

/// Where each column is in the file.
#[derive(Debug, PartialEq)]
pub struct Columns {
    /// The cell index of each column of `ALL`.
    slots: [Option<usize>; 9],
    /// Cells per row.
    width: usize,
}

/// A header cell as written, for an error message (unnamed ones by place).
fn shown(cell: &str, index: usize) -> String {
    let name = cell.trim();
    if name.is_empty() {
        return format!("an unnamed column (the {})", ordinal(index + 1));
    }
    let short: String = name.chars().take(40).collect();
    let more = if short.len() < name.len() { "…" } else { "" };
    format!("`{short}{more}`")
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

impl Columns {
    /// Locates the columns of a header row, or says what is missing,
    /// unknown or repeated (every problem at once).
    pub fn from_header(cells: &[String]) -> Result<Columns, String> {
        let mut slots = [None; 9];
        let (mut unknown, mut repeated) = (Vec::new(), Vec::new());
        for (i, cell) in cells.iter().enumerate() {
            let name = cell.trim().to_ascii_lowercase();
            match ALL.iter().position(|c| *c == name) {
                Some(slot) if slots[slot].is_some() => repeated.push(format!("`{name}`")),
                Some(slot) => slots[slot] = Some(i),
                None => unknown.push(shown(cell, i)),
            }
        }
        let missing: Vec<String> = REQUIRED
            .iter()
            .zip(&slots)
            .filter(|(_, slot)| slot.is_none())
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        let mut wrong = Vec::new();
        for (list, what) in [(missing, "missing"), (unknown, "unknown"), (repeated, "repeated")] {
            if !list.is_empty() {
                let s = if list.len() > 1 { "s" } else { "" };
                wrong.push(format!("{what} column{s} {}", list.join(", ")));
            }
        }
        if wrong.is_empty() {
            return Ok(Columns {
                slots,
                width: cells.len(),
            });
        }
        Err(format!(
            "not a healthplug CSV: {} (the header names the columns {}, in any order, and may add {})",
            wrong.join("; "),
            REQUIRED.join(","),
            OPTIONAL.join(", ")
        ))
    }

    /// The trimmed cells of a data row, or why its shape is wrong.
    pub fn row<'a>(&self, cells: &'a [String]) -> Result<Row<'a>, String> {
        if cells.len() != self.width {
            return Err(format!(
                "{} cells where the header has {} (quote a cell that holds a comma)",
                cells.len(),
                self.width
            ));
        }
        let cell = |slot: usize| {
            self.slots[slot]
                .and_then(|i| cells.get(i))
                .map(|c| c.trim())
                .unwrap_or("")
        };
        Ok(Row {
            data_type: cell(0),
            start: cell(1),
            end: cell(2),
            value: cell(3),
            unit: cell(4),
            code: cell(5),
            system: cell(6),
            source: cell(7),
            notes: cell(8),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Result<Columns, String> {
        Columns::from_header(&text.split(',').map(str::to_string).collect::<Vec<_>>())
    }

    fn cells(text: &str) -> Vec<String> {
        text.split('|').map(str::to_string).collect()
    }

    #[test]
    fn the_columns_are_found_in_any_order_and_case() {
        let Ok(c) = header("Code, unit ,value,end,START,Type,notes") else {
            panic!("a header of the documented columns is accepted")
        };
        let data = cells("asleepREM||| 2026-11-24T04:00:00Z |2026-11-24T03:10:00Z|sleep| dreamt");
        let row = c.row(&data);
        assert_eq!(
            row,
            Ok(Row {
                data_type: "sleep",
                start: "2026-11-24T03:10:00Z",
                end: "2026-11-24T04:00:00Z",
                code: "asleepREM",
                notes: "dreamt",
                ..Row::default()
            })
        );
    }

    #[test]
    fn a_wrong_header_names_what_is_missing_unknown_or_repeated() {
        let err = header("type,start,valeu,unit,code,,type").err();
        assert_eq!(
            err.as_deref(),
            Some(
                "not a healthplug CSV: missing columns `end`, `value`; unknown columns `valeu`, an unnamed column (the 6th); \
                 repeated column `type` (the header names the columns type,start,end,value,unit,code, in any order, \
                 and may add system, source, notes)"
            )
        );
        let json = header("{\"resourceType\": \"Bundle\"").err().unwrap_or_default();
        assert!(
            json.starts_with("not a healthplug CSV: missing columns `type`"),
            "{json}"
        );
    }

    #[test]
    fn a_row_must_be_as_wide_as_the_header() {
        let Ok(c) = header("type,start,end,value,unit,code") else {
            panic!()
        };
        assert_eq!(
            c.row(&cells("steps|2026-11-23|1,200")).err().as_deref(),
            Some("3 cells where the header has 6 (quote a cell that holds a comma)")
        );
        assert_eq!(c.row(&cells("steps|2026-11-23||1200||")).map(|r| r.value), Ok("1200"));
    }

    #[test]
    fn ordinals_read_as_english() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].into_iter().map(ordinal).collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
            ]
        );
    }
}
